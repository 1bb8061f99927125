#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A scheduler that runs work on its own thread at monotonic-clock deadlines.
///
/// Used by the daemon, by the simulated board paced in real time and by tests against
/// real servers. Work runs one piece at a time on the scheduler's thread.
public final class WallClockScheduler: Scheduler, @unchecked Sendable {
    private let lock = ConditionLock()
    private var queue = TimerQueue()
    private var stopping = false
    private var thread: pthread_t?
    private var threadID: pthread_t?
    /// How late work ran behind its deadline, at worst, since the start (nanoseconds).
    public private(set) var worstLatenessNanoseconds: Int64 = 0

    public init() {}

    public var now: Instant { Instant.monotonicNow() }

    /// Whether the caller is running on the scheduler's thread.
    public var isOnSchedulerThread: Bool {
        guard let t = lock.withLock({ threadID }) else { return false }
        return pthread_equal(t, pthread_self()) != 0
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

    /// Starts the scheduler's thread.
    public func start() {
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { raw in
            #if canImport(Darwin)
            let me = Unmanaged<WallClockScheduler>.fromOpaque(raw).takeRetainedValue()
            #else
            let me = Unmanaged<WallClockScheduler>.fromOpaque(raw!).takeRetainedValue()
            #endif
            me.loop()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        lock.withLock { thread = t }
    }

    /// Stops the thread after the work running now; waiting work is dropped. Waits for it.
    public func shutdown() {
        let t: pthread_t? = lock.withLock {
            stopping = true
            lock.broadcast()
            return thread
        }
        if let t, pthread_equal(t, pthread_self()) == 0 {
            pthread_join(t, nil)
        }
        lock.withLock { thread = nil }
    }

    private func loop() {
        lock.withLock { threadID = pthread_self() }
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
