import Testing
import SIPCore

/// RFC 5626 §4.5: wait-time = min(max-time, base-time · 2^(consecutive-failures − 1)), then a
/// random share between 50 % and 100 % of it.
@Suite("Flow recovery back-off (RFC 5626 §4.5)")
struct FlowRecoveryBackoffTests {
    // The RFC's own defaults: base-time 30 s (some servers fail), max-time 1800 s.
    let base = Duration.seconds(30), ceiling = Duration.seconds(1800)

    @Test("doubles from the base with each failure, up to the ceiling; the random share spans 50–100 %")
    func doublesThenCaps() {
        let full: [Int64] = [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]
        for (i, seconds) in full.enumerated() {
            let failures = i + 1
            #expect(FlowRecoveryBackoff.wait(failures: failures, base: base, ceiling: ceiling, unit: 0) == .seconds(seconds) / 2, "failure \(failures)")
            #expect(FlowRecoveryBackoff.wait(failures: failures, base: base, ceiling: ceiling, unit: 0.999_999) <= .seconds(seconds))
            #expect(FlowRecoveryBackoff.wait(failures: failures, base: base, ceiling: ceiling, unit: 0.999_999) > .seconds(seconds) * 0.99)
        }
    }

    @Test("a huge failure count or a draw outside [0, 1) stays within half the ceiling and the ceiling")
    func bounded() {
        for failures in [0, -5, 64, 1_000, Int.max] {
            for unit in [-3.0, 0, 0.5, 1, 7, .nan] {
                let w = FlowRecoveryBackoff.wait(failures: failures, base: base, ceiling: ceiling, unit: unit)
                let floor = failures <= 1 ? base / 2 : ceiling / 2
                #expect(w >= floor && w <= ceiling, "failures \(failures), unit \(unit): \(w)")
            }
        }
    }
}
