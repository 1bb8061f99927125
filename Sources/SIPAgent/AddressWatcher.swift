public import TipRingCore
import SIPCore

/// Notices when the local address toward the server changes (an LTE reconnect hands out a new
/// one) with a cheap periodic probe — the daemon's probe asks the kernel's routing table
/// (a connected UDP socket and `getsockname`, no packets). A change is reported once.
public final class AddressWatcher: @unchecked Sendable {
    let scheduler: any Scheduler
    let interval: Duration
    let probe: () -> String?
    let onChange: (String) -> Void
    public private(set) var current: String?
    var timer: TimerHandle?

    public init(scheduler: any Scheduler, interval: Duration = .seconds(2), initial: String?,
                probe: @escaping () -> String?, onChange: @escaping (String) -> Void) {
        self.scheduler = scheduler
        self.interval = interval
        self.current = initial
        self.probe = probe
        self.onChange = onChange
    }

    public func start() {
        guard timer == nil else { return }
        timer = scheduler.schedule(after: interval) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.check()
            self.start()
        }
    }

    public func stop() {
        if let t = timer { scheduler.cancel(t) }
        timer = nil
    }

    /// Probes now (also called by the timer). No route (probe fails) is not a change: the
    /// registration's own retries cover an outage.
    public func check() {
        guard let now = probe(), now != current else { return }
        current = now
        onChange(now)
    }
}
