public import TipRingCore
public import SIPCore

/// The user agent the controller talks to, in front of the real one: every command and event
/// passes through unchanged, and a ``CallLedger`` follows each call, handing its record to
/// `onRecord` when it ends (the call history).
public final class CallRecordingUserAgent: UserAgent {
    let inner: any UserAgent
    var ledger = CallLedger()
    /// The wall clock (seconds since 1970) and the monotonic one, read at each step.
    let clock: () -> (wall: Int64, monotonic: Instant)
    public var onEvent: ((UserAgentEvent) -> Void)?
    public var onRecord: ((CallRecord) -> Void)?
    /// Every event as it passes (counted by the daemon's metrics).
    public var onPassing: ((UserAgentEvent) -> Void)?

    public var newCallHandle: () -> CallHandle {
        get { inner.newCallHandle }
        set { inner.newCallHandle = newValue }
    }

    public init(_ inner: any UserAgent, clock: @escaping () -> (wall: Int64, monotonic: Instant)) {
        self.inner = inner
        self.clock = clock
        inner.onEvent = { [weak self] e in self?.pass(e) }
    }

    public func execute(_ command: UserAgentCommand) {
        if case .invite(let h, let target, _) = command {
            let now = clock()
            ledger.placed(h, target: target, wall: now.wall, at: now.monotonic)
        }
        inner.execute(command)
    }

    func pass(_ e: UserAgentEvent) {
        let now = clock()
        let record = ledger.note(e, wall: now.wall, at: now.monotonic)
        onPassing?(e)
        onEvent?(e)
        if let record { onRecord?(record) }
    }
}
