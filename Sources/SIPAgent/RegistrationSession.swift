public import TipRingCore
public import SIPCore

/// Runs one account's ``RegistrationClient`` and its REGISTER transactions on a scheduler,
/// sending through `send` and fed responses with ``receive(_:)``. Used by the daemon, by
/// `tipring sip register` and by the simulator tests. Everything here runs on the scheduler.
public final class RegistrationSession: @unchecked Sendable {
    let scheduler: any Scheduler
    public private(set) var client: RegistrationClient
    let send: (SIPMessage) -> Void
    let reliable: Bool
    let timers: TransactionTimers
    /// The REGISTER transactions in flight, by branch.
    let transactions: TransactionRunner<ClientTransaction, Void>
    enum TimerKey: Hashable {
        /// The registration client's own wake-up (refresh, retry).
        case wake
    }
    let pendingTimers: ActionTimers<TimerKey>
    /// Every status change, in order.
    public var onStatus: ((RegistrationStatus) -> Void)?
    /// Each REGISTER sent and each response received, for a step-by-step trace.
    public var onTrace: ((SIPMessage, _ outgoing: Bool) -> Void)?
    /// Asked when a REGISTER times out or gets 503: return true after switching to another
    /// server (RFC 3263 failover) and the request goes there at once, without a backoff.
    public var failover: (() -> Bool)?
    /// A REGISTER got no answer at all (Timer F): over a connection, the flow is suspect.
    public var onNoAnswer: (() -> Void)?
    /// The address and port the registrar saw us at (RFC 3581 `received`/`rport` of a 2xx).
    public var onReflexiveAddress: ((_ host: String, _ port: Int?) -> Void)?

    public init(client: RegistrationClient, scheduler: any Scheduler, reliable: Bool,
                timers: TransactionTimers = TransactionTimers(), send: @escaping (SIPMessage) -> Void) {
        self.client = client
        self.scheduler = scheduler
        transactions = TransactionRunner(scheduler: scheduler)
        pendingTimers = ActionTimers(scheduler: scheduler)
        self.reliable = reliable
        self.timers = timers
        self.send = send
        transactions.perform = { [weak self] action, _, _ in self?.transactionAction(action) }
    }

    /// Applies new settings (credentials, expiry, …) and registers again if running.
    public func replaceClient(_ newClient: RegistrationClient) {
        abandonTransactions()
        pendingTimers.cancel(.wake)
        client = newClient
    }

    /// Whether a refresh or retry is scheduled (a registered account always has one).
    public var wakeScheduled: Bool { pendingTimers.isPending(.wake) }

    public func start() { run(client.start(now: scheduler.now)) }
    /// Registers afresh toward a new server: REGISTERs in flight to the old one are abandoned
    /// (their answers, if any, no longer count).
    public func restart() {
        abandonTransactions()
        start()
    }
    /// Unregisters: REGISTERs still in flight are abandoned (no more retransmissions of a
    /// binding we are taking back), then `Expires: 0` goes out.
    public func stop() {
        abandonTransactions()
        run(client.stop(now: scheduler.now))
    }

    func abandonTransactions() {
        transactions.removeAll()
    }
    public func routeChanged(_ route: String?) { client.routeChanged(route) }
    public func contactChanged(_ contact: String) { run(client.contactChanged(contact, now: scheduler.now)) }

    /// A response from the network (any; those not ours are ignored).
    public func receive(_ m: SIPMessage) {
        guard !m.isRequest, let via = m["Via"], let branch = try? Via(via).branch, transactions.context(branch) != nil else { return }
        onTrace?(m, false)
        transactions.feed(branch) { $0.receive(m, now: scheduler.now) }
    }

    func run(_ actions: [RegistrationAction]) {
        for a in actions {
            switch a {
            case .send(let m):
                guard let t = try? ClientTransaction(request: m, reliable: reliable, timers: timers) else { continue }
                transactions.add(t, context: ())
            case .wake(let at):
                pendingTimers.start(.wake, at: at) { [weak self] in
                    guard let self else { return }
                    self.run(self.client.timer(now: self.scheduler.now))
                }
            case .cancelWake:
                pendingTimers.cancel(.wake)
            case .status(let s):
                onStatus?(s)
            }
        }
    }

    /// What a REGISTER transaction hands back: the request to send (again), the response, or
    /// that none came.
    func transactionAction(_ action: TransactionAction) {
        switch action {
        case .send(let m):
            if m.isRequest { onTrace?(m, true) }
            send(m)
        case .deliver(let m):
            if m.status == 503, failover?() == true {
                run(client.resend(now: scheduler.now))
                return
            }
            if let s = m.status, (200..<300).contains(s), let top = m["Via"], let via = try? Via(top) {
                // IPv6 in the form a socket writes it, whatever form the server wrote.
                let received: String? = (via.parameters["received"] ?? nil).map { r in
                    let bare = r.hasPrefix("[") && r.hasSuffix("]") ? r.dropFirst().dropLast() : Substring(r)
                    return SIPHost.canonicalIPv6(bare) ?? String(bare)
                }
                let rport: String? = via.parameters["rport"] ?? nil
                if received != nil || rport != nil {
                    onReflexiveAddress?(received ?? via.host.plain, rport.flatMap { ASCIIDecimal.exact($0, in: 1...65535) } ?? via.port)
                }
            }
            run(client.response(m, now: scheduler.now))
        case .timeout:
            onNoAnswer?()
            if failover?() == true {
                run(client.resend(now: scheduler.now))
                return
            }
            run(client.timeout(now: scheduler.now))
        case .terminated, .startTimer, .cancelTimer: break  // the runner's
        }
    }
}
