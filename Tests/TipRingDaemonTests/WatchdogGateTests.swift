import Testing
@testable import TipRingDaemon

@Suite("Watchdog: petted only while every audio thread makes progress")
struct WatchdogGateTests {
    @Test("progress everywhere pets; a port whose periods stand still does not; a reported audio failure is the port's fault, not the daemon's")
    func gate() {
        var g = WatchdogGate()
        #expect(g.check([1: .running(periods: 10), 2: .running(periods: 7)]) == (true, []))
        #expect(g.check([1: .running(periods: 60), 2: .running(periods: 57)]) == (true, []))
        // Port 2's thread hangs: no pet, and it is named.
        #expect(g.check([1: .running(periods: 110), 2: .running(periods: 57)]) == (false, [2]))
        // Port 2's device failed with an error: the port recovers on its own; the daemon stays.
        #expect(g.check([1: .running(periods: 160), 2: .failed]) == (true, []))
        // Back after a reopen: its count starts over, which is progress from nothing.
        #expect(g.check([1: .running(periods: 210), 2: .running(periods: 3)]) == (true, []))
        #expect(g.check([:]) == (true, []))
    }

    @Test("a port whose audio is stopped on purpose (on-hook and silent) is not stalled; started again, it must progress")
    func paused() {
        var g = WatchdogGate()
        #expect(g.check([1: .running(periods: 10), 2: .running(periods: 7)]) == (true, []))
        #expect(g.check([1: .running(periods: 60), 2: .paused]) == (true, []))
        #expect(g.check([1: .running(periods: 110), 2: .paused]) == (true, []))
        #expect(g.check([1: .running(periods: 160), 2: .running(periods: 9)]) == (true, []))
        #expect(g.check([1: .running(periods: 210), 2: .running(periods: 9)]) == (false, [2]))
    }
}
