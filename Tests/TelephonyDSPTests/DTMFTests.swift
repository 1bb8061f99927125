import Testing
import TestSupport
import TipRingCore
@testable import TelephonyDSP

@Suite struct DTMFRoundTripTests {
    let all = String(DTMF.allKeys)

    @Test func ourGeneratorAndDetectorAgreeOnAllSixteenKeys() {
        let audio = DTMFGenerator().render(all)
        #expect(DTMFDetector.detect(audio) == all)
    }

    @Test func generatorLevelsAreInDBm0() {
        let g = DTMFGenerator(lowLevel: -10, highLevel: -10, onMilliseconds: 1000, offMilliseconds: 0)
        let tone = g.tone(low: 697, high: 1209)
        // Two tones at −10 dBm0 each: −7 dBm0 together (ramps excluded).
        #expect(abs(Level.dBm0(of: tone[100..<7900]) - (-6.99)) < 0.05)
    }

    @Test func repeatedKeysNeedTheGap() {
        let g = DTMFGenerator(onMilliseconds: 50, offMilliseconds: 50)
        #expect(DTMFDetector.detect(g.render("5555")) == "5555")
        // A 12 ms dropout inside one key is not a new key.
        var audio = g.tone(low: 770, high: 1336)
        for i in 200..<296 { audio[i] = 0 }
        audio += g.tone(low: 770, high: 1336)
        #expect(DTMFDetector.detect(audio) == "5")
    }

    @Test func silenceAndNoiseAreNoKeys() {
        #expect(DTMFDetector.detect([Int16](repeating: 0, count: 8000)) == "")
        #expect(DTMFDetector.detect(addNoise([Int16](repeating: 0, count: 80000), meanSquare: 3e6, seed: 9)) == "")
    }
}

@Suite(.serialized) struct DTMFSpanDSPInteropTests {
    let all = String(DTMF.allKeys)

    @Test func weDecodeSpanDSPsDigits() throws {
        let clean = try SpanDSP.generateDTMF(all)
        #expect(DTMFDetector.detect(clean) == all)
        let noisy = addNoise(clean, meanSquare: meanSquare(clean.filter { $0 != 0 }) / 316, seed: 1)  // 25 dB S/N
        #expect(DTMFDetector.detect(noisy) == all)
    }

    @Test func spanDSPDecodesOurDigits() throws {
        let ours = DTMFGenerator().render(all)
        #expect(try SpanDSP.detectDTMF(ours) == all)
        let noisy = addNoise(ours, meanSquare: meanSquare(ours.filter { $0 != 0 }) / 316, seed: 2)
        #expect(try SpanDSP.detectDTMF(noisy) == all)
    }
}
