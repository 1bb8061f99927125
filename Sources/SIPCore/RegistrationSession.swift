public import TipRingCore

/// Runs one account's ``RegistrationClient`` and its REGISTER transactions on a scheduler,
/// sending through `send` and fed responses with ``receive(_:)``. Used by the daemon, by
/// `tipring sip register` and by the simulator tests. Everything here runs on the scheduler.
public final class RegistrationSession: @unchecked Sendable {
    let scheduler: any Scheduler
    public private(set) var client: RegistrationClient
    let send: (SIPMessage) -> Void
    let reliable: Bool
    var transactions: [String: ClientTransaction] = [:]
    var timers: [String: TimerHandle] = [:]
    var wake: TimerHandle?
    /// Every status change, in order.
    public var onStatus: ((RegistrationStatus) -> Void)?
    /// Each REGISTER sent and each response received, for a step-by-step trace.
    public var onTrace: ((SIPMessage, _ outgoing: Bool) -> Void)?

    public init(client: RegistrationClient, scheduler: any Scheduler, reliable: Bool, send: @escaping (SIPMessage) -> Void) {
        self.client = client
        self.scheduler = scheduler
        self.reliable = reliable
        self.send = send
    }

    public func start() { run(client.start(now: scheduler.now)) }
    public func stop() { run(client.stop(now: scheduler.now)) }
    public func contactChanged(_ contact: String) { run(client.contactChanged(contact, now: scheduler.now)) }

    /// A response from the network (any; those not ours are ignored).
    public func receive(_ m: SIPMessage) {
        guard !m.isRequest, let via = m["Via"], let branch = try? Via(via).branch, var t = transactions[branch] else { return }
        onTrace?(m, false)
        let actions = t.receive(m, now: scheduler.now)
        transactions[branch] = t
        runTransaction(actions, branch: branch)
    }

    func run(_ actions: [RegistrationAction]) {
        for a in actions {
            switch a {
            case .send(let m):
                guard var t = try? ClientTransaction(request: m, reliable: reliable) else { continue }
                let acts = t.start(now: scheduler.now)
                transactions[t.branch] = t
                runTransaction(acts, branch: t.branch)
            case .wake(let at):
                if let w = wake { scheduler.cancel(w) }
                wake = scheduler.schedule(at: at) { [weak self] in
                    guard let self else { return }
                    self.wake = nil
                    self.run(self.client.timer(now: self.scheduler.now))
                }
            case .cancelWake:
                if let w = wake { scheduler.cancel(w) }
                wake = nil
            case .status(let s):
                onStatus?(s)
            }
        }
    }

    func runTransaction(_ actions: [TransactionAction], branch: String) {
        for a in actions {
            switch a {
            case .send(let m):
                if m.isRequest { onTrace?(m, true) }
                send(m)
            case .deliver(let m): run(client.response(m, now: scheduler.now))
            case .timeout: run(client.timeout(now: scheduler.now))
            case .terminated: transactions[branch] = nil
            case .cancelTimer(let t):
                if let h = timers.removeValue(forKey: branch + t.rawValue) { scheduler.cancel(h) }
            case .startTimer(let t, let at):
                if let h = timers[branch + t.rawValue] { scheduler.cancel(h) }
                timers[branch + t.rawValue] = scheduler.schedule(at: at) { [weak self] in
                    guard let self else { return }
                    self.timers[branch + t.rawValue] = nil
                    guard var tr = self.transactions[branch] else { return }
                    let acts = tr.timer(t, now: self.scheduler.now)
                    self.transactions[branch] = tr
                    self.runTransaction(acts, branch: branch)
                }
            }
        }
    }
}
