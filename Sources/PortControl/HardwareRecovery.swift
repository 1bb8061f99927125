public import TipRingCore

/// One port's hardware health, as a pure state machine: a sound device or GPIO line that fails
/// takes the port out of service (a call nobody can hear, a phone whose hook cannot be seen,
/// is worse than none — and callers should be told the line is unavailable), the part is
/// opened again after 1 s, doubling to a minute between tries, and the port goes back into
/// service once it works. The owner checks the hardware every ``checkInterval``, performs the
/// actions (disable, reopen, enable) and reports how a reopen went.
public struct HardwareRecovery: Sendable, Hashable {
    public enum Part: String, Sendable, Hashable { case audio, gpio }

    public struct Fault: Sendable, Hashable {
        public var part: Part
        /// As the status shows it: `audio: …`, `gpio: …`.
        public var reason: String
        /// Reopens that failed so far.
        public var failures: Int
        public var retryAt: Instant
        /// The port was in service when the fault came (or was asked to be meanwhile).
        public var wantsService: Bool
    }

    public enum Action: Sendable, Hashable {
        /// Disable the port (its calls end, its account unregisters) when it was in service.
        case takeOutOfService(Fault)
        /// Open the part again; report the outcome with ``reopened(now:error:)``.
        case reopen(Part)
        /// It did not open: the next try is `after` from now.
        case stillFailing(Fault, after: Duration)
        /// It works again after `attempts` tries; enable the port if `fault.wantsService`.
        case recovered(Fault, attempts: Int)
    }

    public static let checkInterval = Duration.seconds(1)
    public static let retryCeiling = Duration.seconds(60)

    public private(set) var fault: Fault?

    public init() {}

    /// What the hardware says now (each check): a new failure, or a retry that is due.
    public mutating func check(now: Instant, lineFailure: String?, audioFailure: String?, inService: Bool) -> [Action] {
        if let f = fault {
            return now >= f.retryAt ? [.reopen(f.part)] : []
        }
        let failed: (Part, String)? = lineFailure.map { (.gpio, $0) } ?? audioFailure.map { (.audio, $0) }
        guard let (part, reason) = failed else { return [] }
        let f = Fault(part: part, reason: "\(part): \(reason)", failures: 0, retryAt: now + Self.checkInterval, wantsService: inService)
        fault = f
        return [.takeOutOfService(f)]
    }

    /// How the reopen asked for went: nil when the part works again.
    public mutating func reopened(now: Instant, error: String?) -> [Action] {
        guard var f = fault else { return [] }
        guard let error else {
            fault = nil
            return [.recovered(f, attempts: f.failures + 1)]
        }
        f.failures += 1
        var wait = Self.checkInterval
        for _ in 1..<min(f.failures, 8) { wait = wait * 2 }
        wait = min(wait, Self.retryCeiling)
        f.retryAt = now + wait
        f.reason = "\(f.part): \(error)"
        fault = f
        return [.stillFailing(f, after: wait)]
    }

    /// The port was asked into service (or out of it) while its hardware is out (an account
    /// attached, an operator enabled or disabled it): it follows once the hardware is back.
    public mutating func wantService(_ wanted: Bool = true) {
        fault?.wantsService = wanted
    }
}
