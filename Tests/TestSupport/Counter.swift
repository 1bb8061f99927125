package import TipRingCore

/// A count other threads add to, and a wait for it to reach a target — on a condition
/// variable with a deadline, never a sleep.
package final class Counter: @unchecked Sendable {
    private let lock = ConditionLock()
    private var n = 0

    package init() {}

    package func add() { lock.withLock { n += 1; lock.broadcast() } }
    package var value: Int { lock.withLock { n } }

    /// Waits until the count reaches `target` or `timeout` of monotonic time passes.
    package func wait(for target: Int, timeout: Duration) -> Bool {
        wait(for: target, until: Instant.monotonicNow() + timeout)
    }

    /// Waits until the count reaches `target` or the monotonic clock reaches `deadline`.
    package func wait(for target: Int, until deadline: Instant) -> Bool {
        lock.withLock {
            while n < target {
                if Instant.monotonicNow() >= deadline { return false }
                lock.wait(until: deadline)
            }
            return true
        }
    }
}
