import Testing
@testable import TipRingCore
import TestSupport

@Suite struct VirtualSchedulerTests {
    @Test func runsWorkInDeadlineOrderWithFIFOTies() {
        let s = VirtualScheduler()
        var trace: [String] = []
        s.schedule(at: .milliseconds(30)) { trace.append("c") }
        s.schedule(at: .milliseconds(10)) { trace.append("a1") }
        s.schedule(at: .milliseconds(20)) { trace.append("b") }
        s.schedule(at: .milliseconds(10)) { trace.append("a2") }
        s.run(until: .milliseconds(25))
        #expect(trace == ["a1", "a2", "b"])
        #expect(s.now == .milliseconds(25))
        s.advance(by: .milliseconds(5))
        #expect(trace == ["a1", "a2", "b", "c"])
    }

    @Test func clockReadsTheDeadlineWhileWorkRuns() {
        let s = VirtualScheduler()
        var seen: [Instant] = []
        s.schedule(at: .milliseconds(7)) { seen.append(s.now) }
        s.schedule(at: .seconds(3)) { seen.append(s.now) }
        s.runUntilIdle()
        #expect(seen == [.milliseconds(7), .seconds(3)])
    }

    @Test func cancelledWorkNeverRuns() {
        let s = VirtualScheduler()
        var ran = false
        let h = s.schedule(after: .seconds(1)) { ran = true }
        s.cancel(h)
        #expect(s.runUntilIdle() == 0)
        #expect(!ran)
        #expect(s.pendingCount == 0)
    }

    @Test func workScheduledInThePastRunsNowAndNestedWorkRunsInOrder() {
        let s = VirtualScheduler(start: .seconds(10))
        var trace: [(String, Instant)] = []
        s.schedule(at: .seconds(1)) {
            trace.append(("past", s.now))
            s.schedule(after: .milliseconds(500)) { trace.append(("nested", s.now)) }
        }
        s.schedule(at: .seconds(10) + .milliseconds(200)) { trace.append(("later", s.now)) }
        s.runUntilIdle()
        #expect(trace.map(\.0) == ["past", "later", "nested"])
        #expect(trace.map(\.1) == [.seconds(10), .seconds(10) + .milliseconds(200), .seconds(10) + .milliseconds(500)])
    }

    @Test func runUntilIdleStopsAtItsLimitForPeriodicWork() {
        let s = VirtualScheduler()
        var ticks = 0
        func tick() {
            ticks += 1
            s.schedule(after: .milliseconds(20), tick)
        }
        s.schedule(at: .zero, tick)
        s.runUntilIdle(notAfter: .seconds(1))
        #expect(ticks == 51)  // 0, 20, …, 1000 ms
        #expect(s.nextDeadline == .milliseconds(1020))
    }

    @Test func executeFromAnotherThreadRunsOnTheNextTurn() async {
        let s = VirtualScheduler()
        let box = Counter()
        await withTaskGroup(of: Void.self) { g in
            for _ in 0..<8 { g.addTask { s.execute { box.add() } } }
        }
        #expect(s.pendingCount == 8)
        s.runUntilIdle()
        #expect(box.value == 8)
        #expect(s.now == .zero)
    }

    /// A little simulation that draws jitter from the scheduler's random source.
    func jitteredTrace(seed: UInt64) -> [Int64] {
        let s = VirtualScheduler(seed: seed)
        var trace: [Int64] = []
        for i in 0..<20 {
            let jitter = Int64(s.random.next() % 1000)
            s.schedule(at: .milliseconds(Int64(i) * 100 + jitter)) {
                trace.append(s.now.nanoseconds)
                if s.random.unit() < 0.5 {
                    s.schedule(after: .milliseconds(Int64(s.random.next() % 50))) { trace.append(-s.now.nanoseconds) }
                }
            }
        }
        s.runUntilIdle()
        return trace
    }

    @Test func sameSeedGivesTheSameRunAndOtherSeedsDiffer() {
        let a = jitteredTrace(seed: 42), b = jitteredTrace(seed: 42), c = jitteredTrace(seed: 43)
        #expect(a == b)
        #expect(a != c)
        #expect(a.count >= 20)
    }
}



@Suite struct InstantTests {
    @Test func arithmeticAndDescription() {
        let t = Instant.seconds(2) + .milliseconds(5)
        #expect(t.nanoseconds == 2_005_000_000)
        #expect(t - .seconds(1) == .milliseconds(1005))
        #expect((t - Instant.seconds(1)) == Duration.milliseconds(1005))
        #expect(t.description == "2.005s")
        #expect(Duration.microseconds(1500).nanoseconds == 1_500_000)
        #expect(Instant.monotonicNow() > .zero)
    }
}

@Suite struct RegionTests {
    @Test(arguments: [("us", "us"), ("GB", "gb"), ("uk", "gb"), ("Uk", "gb"), ("de", "de"), ("jp", "jp")])
    func acceptsAssignedCodes(text: String, code: String) {
        #expect(Region(text)?.code == code)
    }

    @Test(arguments: ["", "u", "usa", "xx", "zz", "eu", "12"])
    func rejectsOthers(text: String) {
        #expect(Region(text) == nil)
    }

    @Test func listsEveryAssignedCode() {
        #expect(Region.assignedCodes.count == 249)
    }
}
