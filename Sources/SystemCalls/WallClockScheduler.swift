public import TipRingCore

/// A scheduler that runs work on its own thread at monotonic-clock deadlines.
///
/// Used by the daemon, by the simulated board paced in real time and by tests against
/// real servers. Work runs one piece at a time on the scheduler's thread.
public final class WallClockScheduler: Scheduler, @unchecked Sendable {
    private let lock = ConditionLock()
    private var queue = TimerQueue()
    private var stopping = false
    private var thread: SystemThread?
    private var threadID: UInt64?
    /// How late work ran behind its deadline, at worst, since the start (nanoseconds).
    public private(set) var worstLatenessNanoseconds: Int64 = 0

    public init() {}

    public var now: Instant { Instant.monotonicNow() }

    /// Whether the caller is running on the scheduler's thread.
    public var isOnSchedulerThread: Bool {
        guard let t = lock.withLock({ threadID }) else { return false }
        return t == SystemThread.currentID
    }

    @discardableResult
    public func schedule(at deadline: Instant, _ body: @escaping () -> Void) -> TimerHandle {
        lock.withLock {
            let handle = queue.insert(deadline, body)
            lock.broadcast()
            return handle
        }
    }

    public func cancel(_ handle: TimerHandle) {
        lock.withLock { queue.cancel(handle) }
    }

    public func execute(_ body: @escaping @Sendable () -> Void) {
        _ = schedule(at: .zero, body)
    }

    /// Starts the scheduler's thread; fails (naming `pthread_create` and errno) when the
    /// system cannot make one.
    public func start() throws(SystemError) {
        let t = try SystemThread.start { [self] in loop() }
        lock.withLock { thread = t }
    }

    /// Stops the thread after the work running now; waiting work is dropped. Waits for it
    /// (unless called on it).
    public func shutdown() {
        let t: SystemThread? = lock.withLock {
            stopping = true
            lock.broadcast()
            return thread
        }
        if let t, t.id != SystemThread.currentID { t.join() }
        lock.withLock { thread = nil }
    }

    private func loop() {
        lock.withLock { threadID = SystemThread.currentID }
        while true {
            lock.lock()
            if stopping {
                lock.unlock()
                return
            }
            let nowValue = Instant.monotonicNow()
            if let entry = queue.popDue(notAfter: nowValue) {
                if entry.deadline > .zero {
                    worstLatenessNanoseconds = max(worstLatenessNanoseconds, nowValue.nanoseconds - entry.deadline.nanoseconds)
                }
                lock.unlock()
                entry.body()
                continue
            }
            lock.wait(until: queue.nextDeadline())
            lock.unlock()
        }
    }
}
