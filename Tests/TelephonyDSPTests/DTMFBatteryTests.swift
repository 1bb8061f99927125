#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TipRingCore
@testable import TelephonyDSP

/// The Mitel/Q.24 style battery spandsp's dtmf_rx_tests runs, on our receiver. Figures are
/// printed for the record.
@Suite struct DTMFBatteryTests {
    /// Renders one key with each tone at its own level and frequency.
    func key(low: Double, high: Double, lowLevel: Double = -10, highLevel: Double = -10, on: Int = 50, off: Int = 50) -> [Int16] {
        let g = DTMFGenerator(lowLevel: lowLevel, highLevel: highLevel, onMilliseconds: on, offMilliseconds: off)
        return g.tone(low: low, high: high) + [Int16](repeating: 0, count: g.offDuration)
    }

    @Test func sixteenDigitsAt50On50Off() {
        let audio = DTMFGenerator(onMilliseconds: 50, offMilliseconds: 50).render(String(DTMF.allKeys))
        #expect(DTMFDetector.detect(audio) == String(DTMF.allKeys))
    }

    @Test(arguments: DTMF.rowFrequencies + DTMF.columnFrequencies)
    func frequencyDeviation(frequency: Double) {
        let isRow = DTMF.rowFrequencies.contains(frequency)
        let partner = isRow ? 1336.0 : 770.0
        for (deviation, accepted) in [(0.015, true), (-0.015, true), (0.035, false), (-0.035, false)] {
            let f = frequency * (1 + deviation)
            let audio = isRow ? key(low: f, high: partner) : key(low: partner, high: f)
            let heard = DTMFDetector.detect(audio)
            #expect(heard.isEmpty != accepted, "\(frequency) Hz × \(1 + deviation): heard '\(heard)'")
        }
    }

    /// The largest twist (dB) still detected, stepping 0.5 dB.
    func maximumTwist(normal: Bool) -> Double {
        var best = 0.0
        for step in 0...40 {
            let twist = Double(step) * 0.5
            var allHeard = true
            for k in DTMF.allKeys {
                let f = DTMF.frequencies(of: k)!
                let audio = normal
                    ? key(low: f.low, high: f.high, lowLevel: -10, highLevel: -10 - twist)
                    : key(low: f.low, high: f.high, lowLevel: -10 - twist, highLevel: -10)
                if DTMFDetector.detect(audio) != String(k) { allHeard = false; break }
            }
            if !allHeard { break }
            best = twist
        }
        return best
    }

    @Test func twist() {
        let normal = maximumTwist(normal: true), reverse = maximumTwist(normal: false)
        print("DTMF twist: normal \(normal) dB, reverse \(reverse) dB accepted")
        #expect(normal >= 8)
        #expect(reverse >= 4)
        // And far beyond the limits nothing is heard.
        #expect(DTMFDetector.detect(key(low: 697, high: 1209, lowLevel: -5, highLevel: -25)) == "")
    }

    @Test func dynamicRange() {
        var levels: [Double] = []
        for step in 0...60 {
            let level = 3 - Double(step)  // per tone, +3 … −57 dBm0
            let ok = DTMF.allKeys.allSatisfy { k in
                let f = DTMF.frequencies(of: k)!
                return DTMFDetector.detect(key(low: f.low, high: f.high, lowLevel: level, highLevel: level)) == String(k)
            }
            if ok { levels.append(level) }
        }
        let range = (levels.max() ?? 0) - (levels.min() ?? 0)
        print("DTMF dynamic range: \(levels.min() ?? 0) … \(levels.max() ?? 0) dBm0 per tone = \(range) dB")
        #expect(range >= 35)
    }

    /// 1000 random keys at a signal-to-noise ratio; returns how many were heard right.
    func keysHeard(snr: Double, seed: UInt64) -> (right: Int, extra: Int) {
        var r = SeededRandom(seed: seed)
        var keys = ""
        for _ in 0..<1000 { keys.append(DTMF.allKeys[Int(r.next() % 16)]) }
        let clean = DTMFGenerator(lowLevel: -10, highLevel: -10, onMilliseconds: 50, offMilliseconds: 50).render(keys)
        // S/N: the power of the tone pair against white noise over the whole band.
        let signal = Level.sineAmplitude(dBm0: -10)
        let noisy = addNoise(clean, meanSquare: signal * signal / pow(10, snr / 10), seed: seed &+ 1)
        let heard = DTMFDetector.detect(noisy)
        let a = Array(heard), b = Array(keys)
        var right = 0
        for i in 0..<min(a.count, b.count) where a[i] == b[i] { right += 1 }
        return (right, max(0, a.count - b.count))
    }

    @Test func thousandDigitsAt26dBSignalToNoise() {
        let r = keysHeard(snr: 26, seed: 26)
        #expect(r.right == 1000)
        #expect(r.extra == 0)
        var lowest = 26.0
        for snr in stride(from: 25.0, through: 5.0, by: -1.0) {
            let h = keysHeard(snr: snr, seed: UInt64(snr))
            if h.right == 1000 && h.extra == 0 { lowest = snr } else { break }
        }
        print("DTMF: 1000/1000 at 26 dB S/N; lowest S/N with all 1000 right: \(lowest) dB")
    }
}
