import TipRingCore
import SIPCore

/// A transaction state machine whose timers a runner keeps.
protocol TimedTransaction {
    var branch: String { get }
    mutating func start(now: Instant) -> [TransactionAction]
    mutating func timer(_ t: TransactionTimer, now: Instant) -> [TransactionAction]
}

extension ClientTransaction: TimedTransaction {}
extension ServerTransaction: TimedTransaction {}

/// The one runner of SIPCore's transaction machines (RFC 3261 §17) on a scheduler, shared by
/// the user agent (its client and its server transactions) and the registration session.
/// Transactions are kept by key, each with what its owner needs to know of it (`Context`: the
/// call, the destination, the source); their timers are kept and fired into them; `terminated`
/// removes one with its timers. What the owner decides — sending, a response delivered, a
/// timeout — goes to ``perform``.
final class TransactionRunner<Machine: TimedTransaction, Context> {
    struct Entry {
        var machine: Machine
        var context: Context
    }

    struct TimerKey: Hashable {
        var transaction: String
        var timer: TransactionTimer
    }

    private var entries: [String: Entry] = [:]
    private let timers: ActionTimers<TimerKey>
    private let scheduler: any Scheduler
    /// Carries out `send`, `deliver` and `timeout` for the transaction under `key`.
    var perform: (_ action: TransactionAction, _ key: String, _ context: Context) -> Void = { _, _, _ in }

    init(scheduler: any Scheduler) {
        self.scheduler = scheduler
        timers = ActionTimers(scheduler: scheduler)
    }

    var isEmpty: Bool { entries.isEmpty }
    var keys: Dictionary<String, Entry>.Keys { entries.keys }
    func context(_ key: String) -> Context? { entries[key]?.context }

    /// Adds a transaction under `key` (its branch unless the owner keys it apart) and starts it.
    func add(_ machine: Machine, key: String? = nil, context: Context) {
        let key = key ?? machine.branch
        entries[key] = Entry(machine: machine, context: context)
        feed(key) { $0.start(now: scheduler.now) }
    }

    /// Hands the transaction under `key` an event (a message received, a response to send);
    /// false when there is no such transaction.
    @discardableResult
    func feed(_ key: String, _ event: (inout Machine) -> [TransactionAction]) -> Bool {
        guard var entry = entries[key] else { return false }
        let actions = event(&entry.machine)
        entries[key]?.machine = entry.machine
        run(actions, key: key)
        return true
    }

    /// Forgets the transactions whose context `matches`, with their timers (their owner is
    /// gone and will take no answer).
    func remove(where matches: (Context) -> Bool) {
        for (key, entry) in entries where matches(entry.context) {
            entries[key] = nil
            timers.cancel { $0.transaction == key }
        }
    }

    /// Forgets every transaction (an account starting over) and its timers.
    func removeAll() {
        timers.cancelAll()
        entries.removeAll()
    }

    private func run(_ actions: [TransactionAction], key: String) {
        for action in actions {
            switch action {
            case .terminated:
                entries[key] = nil
                timers.cancel { $0.transaction == key }
            case .startTimer(let t, let at):
                timers.start(TimerKey(transaction: key, timer: t), at: at) { [weak self] in
                    guard let self else { return }
                    self.feed(key) { $0.timer(t, now: self.scheduler.now) }
                }
            case .cancelTimer(let t):
                timers.cancel(TimerKey(transaction: key, timer: t))
            case .send, .deliver, .timeout:
                guard let context = entries[key]?.context else { continue }
                perform(action, key, context)
            }
        }
    }
}
