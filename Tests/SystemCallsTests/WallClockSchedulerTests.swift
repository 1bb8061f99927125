import Testing
import TipRingCore
import SystemCalls
import TestSupport

@Suite struct WallClockSchedulerTests {
    @Test func runsWorkOnItsThreadInDeadlineOrder() throws {
        let s = WallClockScheduler()
        try s.start()
        defer { s.shutdown() }
        let done = Counter()
        let order = OrderLog()
        let base = s.now
        for (i, ms) in [30, 10, 20].enumerated() {
            s.schedule(at: base + .milliseconds(Int64(ms))) {
                order.append(i)
                #expect(s.isOnSchedulerThread)
                #expect(s.now >= base + .milliseconds(Int64(ms)))
                done.add()
            }
        }
        s.execute { order.append(-1); done.add() }
        #expect(done.wait(for: 4, timeout: .seconds(10)))
        #expect(order.items == [-1, 1, 2, 0])
        #expect(!s.isOnSchedulerThread)
    }
}


final class OrderLog: @unchecked Sendable {
    private let lock = ConditionLock()
    private var log: [Int] = []
    func append(_ i: Int) { lock.withLock { log.append(i) } }
    var items: [Int] { lock.withLock { log } }
}
