/// Timers kept by key on a scheduler: the one way a runner keeps the timers its state machines
/// ask for (a transaction's Timer E under its branch, a port's dial-tone timeout, a line's
/// decoder wake-up). Starting a timer under a key replaces the one pending there; a timer that
/// fires is gone from the table before its work runs, so the work may start it again;
/// cancelling a key with nothing pending does nothing. Used on the scheduler only.
public final class ActionTimers<Key: Hashable> {
    public let scheduler: any Scheduler
    private var pending: [Key: TimerHandle] = [:]

    public init(scheduler: any Scheduler) { self.scheduler = scheduler }

    /// Runs `work` at `deadline` unless cancelled or replaced first. If these timers are gone
    /// by then (their owner went away), nothing runs.
    public func start(_ key: Key, at deadline: Instant, _ work: @escaping () -> Void) {
        cancel(key)
        pending[key] = scheduler.schedule(at: deadline) { [weak self] in
            guard let self else { return }
            self.pending[key] = nil
            work()
        }
    }

    public func start(_ key: Key, after delay: Duration, _ work: @escaping () -> Void) {
        start(key, at: scheduler.now + delay, work)
    }

    public func cancel(_ key: Key) {
        if let handle = pending.removeValue(forKey: key) { scheduler.cancel(handle) }
    }

    public func cancelAll() {
        for handle in pending.values { scheduler.cancel(handle) }
        pending.removeAll()
    }

    /// Cancels the timers whose key `matching` picks (a group's, when the group ends).
    public func cancel(where matching: (Key) -> Bool) {
        for key in pending.keys where matching(key) { cancel(key) }
    }

    public func isPending(_ key: Key) -> Bool { pending[key] != nil }

    /// How many are pending (a leak shows here).
    public var count: Int { pending.count }
}
