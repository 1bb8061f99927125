/// A scheduler whose clock moves only when told to.
///
/// `advance(by:)` and `run(until:)` jump from one deadline to the next, running the work
/// due at each, with `now` set to that deadline while it runs. Nothing sleeps, so a day of
/// registration refreshes takes milliseconds. Order is fully determined by deadlines and
/// scheduling order; every random choice a simulation makes comes from ``random``, seeded
/// at creation — the same seed and the same inputs give the same run.
public final class VirtualScheduler: Scheduler, @unchecked Sendable {
    private let lock = ConditionLock()
    private var queue = TimerQueue()
    private var current: Instant
    /// The run's random source. Use it only from work on this scheduler.
    public var random: SeededRandom
    /// The seed this scheduler was created with, printed by tests that fail.
    public let seed: UInt64

    public init(seed: UInt64 = 0, start: Instant = .zero) {
        self.seed = seed
        self.random = SeededRandom(seed: seed)
        self.current = start
    }

    public var now: Instant { lock.withLock { current } }

    /// How many pieces of work are waiting.
    public var pendingCount: Int { lock.withLock { queue.count } }

    /// The earliest deadline of waiting work, if any.
    public var nextDeadline: Instant? { lock.withLock { queue.nextDeadline() } }

    @discardableResult
    public func schedule(at deadline: Instant, _ body: @escaping () -> Void) -> TimerHandle {
        lock.withLock { queue.insert(max(deadline, current), body) }
    }

    public func cancel(_ handle: TimerHandle) {
        lock.withLock { queue.cancel(handle) }
    }

    public func execute(_ body: @escaping @Sendable () -> Void) {
        lock.withLock { _ = queue.insert(current, body) }
    }

    /// Runs all work due up to and including `deadline`, then sets the clock to it.
    public func run(until deadline: Instant) {
        while let entry = lock.withLock({ () -> TimerQueue.Entry? in
            guard let e = queue.popDue(notAfter: deadline) else { return nil }
            current = max(current, e.deadline)
            return e
        }) {
            entry.body()
        }
        lock.withLock { current = max(current, deadline) }
    }

    /// Runs all work due within `duration` from now.
    public func advance(by duration: Duration) {
        run(until: now + duration)
    }

    /// Runs work until nothing is left or `limit` is reached; returns how many ran.
    /// Use for "let everything settle" — a periodic timer never lets the queue empty,
    /// so the limit (a time, not a count) keeps a test finite.
    @discardableResult
    public func runUntilIdle(notAfter limit: Instant = .distantFuture) -> Int {
        var ran = 0
        while let entry = lock.withLock({ () -> TimerQueue.Entry? in
            guard let e = queue.popDue(notAfter: limit) else { return nil }
            current = max(current, e.deadline)
            return e
        }) {
            entry.body()
            ran += 1
        }
        return ran
    }
}
