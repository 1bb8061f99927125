import Testing
import TipRingCore
import PortControl

@Suite("Hardware recovery: out of service on a fault, reopened with back-off, back in service")
struct HardwareRecoveryTests {
    @Test("a sound device that fails: out of service at once; reopened after 1, 2, 4 … s up to a minute; back in service when it opens")
    func backOffThenRecover() {
        var r = HardwareRecovery()
        let t0 = Instant.seconds(100)
        #expect(r.check(now: t0, lineFailure: nil, audioFailure: nil, inService: true).isEmpty)
        guard case .takeOutOfService(let f)? = r.check(now: t0, lineFailure: nil, audioFailure: "hw:0: Input/output error", inService: true).first else {
            Issue.record("no fault taken")
            return
        }
        #expect(f.reason == "audio: hw:0: Input/output error" && f.wantsService)
        // Not before its time, then a reopen; each failure doubles the wait.
        #expect(r.check(now: t0 + .milliseconds(999), lineFailure: nil, audioFailure: "x", inService: false).isEmpty)
        var now = t0 + .seconds(1)
        var waits: [Duration] = []
        for _ in 0..<9 {
            #expect(r.check(now: now, lineFailure: nil, audioFailure: "x", inService: false) == [.reopen(.audio)])
            guard case .stillFailing(_, let wait)? = r.reopened(now: now, error: "busy").first else { Issue.record("no back-off"); return }
            waits.append(wait)
            now = now + wait
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Duration.seconds($0) })
        #expect(r.fault?.reason == "audio: busy")
        #expect(r.check(now: now, lineFailure: nil, audioFailure: "x", inService: false) == [.reopen(.audio)])
        guard case .recovered(let back, let attempts)? = r.reopened(now: now, error: nil).first else { Issue.record("not recovered"); return }
        #expect(attempts == 10 && back.wantsService && r.fault == nil)
    }

    @Test("a GPIO failure is the one handled when both fail; a port that was out of service stays out unless asked in meanwhile")
    func gpioFirstAndServiceWish() {
        var r = HardwareRecovery()
        let t0 = Instant.seconds(5)
        guard case .takeOutOfService(let f)? = r.check(now: t0, lineFailure: "gpiochip0 line 17: hung up", audioFailure: "hw:0: gone", inService: false).first else {
            Issue.record("no fault")
            return
        }
        #expect(f.part == .gpio && !f.wantsService)
        r.wantService()
        _ = r.check(now: t0 + .seconds(1), lineFailure: "x", audioFailure: nil, inService: false)
        guard case .recovered(let back, _)? = r.reopened(now: t0 + .seconds(1), error: nil).first else { Issue.record("not recovered"); return }
        #expect(back.wantsService)
    }
}
