import Testing
import TipRingCore
import LineHAL
import BoardSimulator
import TestSupport

/// A port's line can go away (a port rebuilt on reload, a test's board torn down) while its
/// hook decoder, ringer or the simulated hardware still has a timer pending on the shared
/// scheduler: those timers then find nothing and do nothing — they never trap.
@Suite struct PortLineLifetimeTests {
    @Test("a line dropped with its decoder and ringer timers pending: the timers fire into nothing")
    func pendingTimersOutliveTheLine() throws {
        let scheduler = VirtualScheduler(seed: 3)
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: scheduler)
        var line: PortLine? = PortLine(driver: board.makeDriver(port: 1), profile: .b222s, scheduler: scheduler)
        try line?.start()
        line?.setFeed(.forward)
        weak let gone = line
        line?.ring(cadence: .us, frequency: 20)    // the ringer's cadence timer is pending
        scheduler.run(until: scheduler.now + .milliseconds(500))
        board.telephone(1).liftHandset()           // ring-trip: the decoder's timer is pending
        scheduler.run(until: scheduler.now + .milliseconds(5))
        line = nil
        #expect(gone == nil, "the line is gone")
        board.telephone(1).hangUp()                // edges after the line went: nobody listens
        scheduler.run(until: scheduler.now + .seconds(10))
        #expect(scheduler.now > .zero)
    }
}
