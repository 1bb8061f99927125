import Testing
import TipRingCore

@Suite("Timers kept by key")
struct ActionTimersTests {
    @Test("a timer started again under its key replaces the pending one; cancel stops it; fired timers leave the table first")
    func replaceCancelFire() {
        let s = VirtualScheduler(seed: 1)
        let timers = ActionTimers<String>(scheduler: s)
        var fired: [String] = []
        timers.start("a", after: .seconds(1)) { fired.append("a1") }
        timers.start("a", after: .seconds(2)) { fired.append("a2") }
        timers.start("b", after: .seconds(1)) { fired.append("b") }
        timers.cancel("b")
        timers.cancel("nothing")
        #expect(timers.count == 1)
        // Work that starts its own key again (a periodic timer) finds the key free.
        var ticks = 0
        func tick() {
            ticks += 1
            if ticks < 3 { timers.start("tick", after: .seconds(1), tick) }
        }
        timers.start("tick", after: .seconds(1), tick)
        s.run(until: s.now + .seconds(10))
        #expect(fired == ["a2"])
        #expect(ticks == 3)
        #expect(timers.count == 0)
    }

    @Test("cancel(where:) takes a group; timers whose owner is gone run nothing")
    func groupsAndOwners() {
        let s = VirtualScheduler(seed: 1)
        let timers = ActionTimers<Int>(scheduler: s)
        var fired: [Int] = []
        for k in 1...6 { timers.start(k, after: .seconds(1)) { fired.append(k) } }
        timers.cancel { $0 % 2 == 0 }
        s.run(until: s.now + .seconds(2))
        #expect(fired == [1, 3, 5])

        var owner: ActionTimers<Int>? = ActionTimers<Int>(scheduler: s)
        var ran = false
        owner?.start(1, after: .seconds(1)) { ran = true }
        owner = nil
        s.run(until: s.now + .seconds(2))
        #expect(!ran)
    }
}
