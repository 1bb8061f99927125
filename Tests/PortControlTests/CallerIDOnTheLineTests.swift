import Testing
import TipRingCore
import TelephonyDSP
import BoardSimulator
import TestSupport

/// Caller ID before the first ring as the telephone receives it over the simulated line (the
/// sound device's delay, the reversal's click and all), judged by spandsp rather than by our
/// own receivers: its supervisory tone receiver for the dual-tone alert, its CLIP receiver for
/// the data. The windows are ETSI EN 300 659-1's, written here, not read from the code.
@Suite("Caller ID before the ring, on the line, judged by spandsp (virtual time)", .serialized)
struct CallerIDOnTheLineTests {
    static func milliseconds(_ d: Duration) -> Int { Int(d.nanoseconds / 1_000_000) }

    /// Alice calls Bob; Bob's earpiece from `from` until his bell first rings, and when it did.
    static func bobHearsUntilTheRing(_ rig: ScenarioRig) throws -> (t0: Instant, ring: Bell.Burst) {
        rig.phone(1).liftHandset()
        rig.run(1)
        let t0 = rig.s.now
        rig.dial(1, "1002")
        rig.run(6)
        return (t0, try #require(rig.phone(2).bell.bursts.first { $0.start >= t0 }, "Bob's bell never rang"))
    }

    @Test("DT-AS (UK): spandsp hears one 2130 + 2750 Hz alert of 88–110 ms, 100–500 ms after the reversal, then decodes Alice's number and name")
    func dualToneAlert() throws {
        let rig = try ScenarioRig(region: .gb)
        let (t0, ring) = try Self.bobHearsUntilTheRing(rig)
        let reversal = try #require(rig.phone(2).polarityChanges.first { $0.at >= t0 && $0.reversed })
        let heard = Array(rig.phone(2).earpiece.samples(from: reversal.at, to: ring.start))
        let tones = try SpanDSP.alertSegments(heard)
        #expect(tones.alerts == 1, "\(tones.segments)")
        let isAlert = { (s: (f1: Int, f2: Int, ms: Int)) in Set([s.f1, s.f2]) == [2130, 2750] }
        let at = try #require(tones.segments.firstIndex(where: isAlert), "\(tones.segments)")
        // spandsp measures in 16 ms blocks: 88–110 ms reads as 80–128.
        #expect((80...128).contains(tones.segments[at].ms), "\(tones.segments)")
        let before = tones.segments[..<at].reduce(0) { $0 + $1.ms }
        #expect((100 - 16...500 + 16).contains(before), "alert \(before) ms after the reversal: \(tones.segments)")
        let fields = try SpanDSP.decodeCallerID(standard: "clip", heard)
        #expect(fields.contains("number=1001") && fields.contains("name=Alice"), "\(fields)")
    }

    @Test("RP-AS: a 200–300 ms ring pulse, the data 500–800 ms after it (decoded by spandsp), the first ring 200 ms or more after the data")
    func ringPulseAlert() throws {
        let rig = try ScenarioRig(region: .gb, callerID: .etsiFSKBeforeRing(.ringPulse))
        let (t0, pulse) = try Self.bobHearsUntilTheRing(rig)
        #expect((200...300).contains(Self.milliseconds(pulse.duration)), "pulse \(pulse.duration)")
        let ring = try #require(rig.phone(2).bell.bursts.first { $0.start > pulse.end }, "no ring after the pulse")
        let heard = rig.phone(2).earpiece.samples(from: pulse.end, to: ring.start)
        let first = try #require(heard.firstIndex { abs($0) > 300 }, "nothing heard between the pulse and the ring")
        let last = try #require(heard.lastIndex { abs($0) > 300 })
        let dataStart = (first - heard.startIndex) / 8, dataEnd = (last - heard.startIndex) / 8
        #expect((500...800).contains(dataStart), "data \(dataStart) ms after the pulse")
        #expect(Self.milliseconds(ring.start - pulse.end) - dataEnd >= 200, "first ring \(Self.milliseconds(ring.start - pulse.end) - dataEnd) ms after the data")
        let fields = try SpanDSP.decodeCallerID(standard: "clip", Array(heard))
        #expect(fields.contains("number=1001") && fields.contains("name=Alice"), "\(fields)")
        _ = t0
    }
}
