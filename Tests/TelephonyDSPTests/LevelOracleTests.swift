import Testing
import TestSupport
import TipRingCore
import TelephonyDSP

/// Our levels measured by someone else: spandsp's power meter (its own dBm0 reference, G.711's
/// 3.14 dBm0 full-scale sine) on what we generate. ITU-T E.180 asks −10…−20 dBm0 per tone
/// component; the numbers here are the tone plans' and the DTMF generator's targets.
@Suite(.serialized) struct LevelOracleTests {
    @Test("a single-frequency tone at −13 dBm0 (Germany's 425 Hz dial tone) measures −13 dBm0 by spandsp")
    func singleToneLevel() throws {
        let plan = try #require(RegionTonePlan.forRegion(.de))
        let dial = ToneSynthesizer.samples(of: try #require(plan.tones[.dial]), count: 8000)
        #expect(abs(try SpanDSP.levelDBm0(dial) - (-13)) < 0.3)
    }

    @Test("a dual tone at −13 dBm0 per component (the US 350+440 Hz dial tone) measures −10 dBm0 in all")
    func dualToneLevel() throws {
        let plan = try #require(RegionTonePlan.forRegion(.us))
        let dial = ToneSynthesizer.samples(of: try #require(plan.tones[.dial]), count: 8000)
        #expect(abs(try SpanDSP.levelDBm0(dial) - (-9.99)) < 0.3)  // −13 + 10·log10(2)
    }

    @Test("a DTMF key at −10/−8 dBm0 (low/high group) measures −5.9 dBm0 in all")
    func dtmfLevel() throws {
        let key = DTMFGenerator(lowLevel: -10, highLevel: -8, onMilliseconds: 1000, offMilliseconds: 0).tone(low: 770, high: 1336)
        #expect(abs(try SpanDSP.levelDBm0(Array(key[100..<7900])) - (-5.88)) < 0.3)  // 10·log10(10^-1 + 10^-0.8)
    }
}
