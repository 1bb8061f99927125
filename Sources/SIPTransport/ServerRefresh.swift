package import TipRingCore
import SystemCalls
public import SIPCore
package import SIPAgent

/// Keeps an account's server list as DNS has it now: carriers move their registrars, and an
/// answer taken once at start goes stale. The servers are looked up again when the answer's
/// time to live runs out (the SRV records' TTL; five minutes when DNS does not say — the
/// system's host look-up does not) and whenever every server in the list has failed in turn.
/// Each look-up runs on a thread of its own (it may block for seconds); what it finds is
/// handed over on the scheduler. A failed look-up keeps the old list.
package final class ServerRefresh: @unchecked Sendable {
    let name: ServerName
    let transport: Transport
    let resolver: any SIPResolver
    let scheduler: any Scheduler
    var random: SeededRandom
    /// The list that DNS gave, in RFC 3263 order (on the scheduler).
    package var onTargets: (([ServerTarget]) -> Void)?
    package var onFailure: ((any Error) -> Void)?
    private let lock = ConditionLock()
    private var looking = false
    private var stopped = true
    private var generation = 0
    /// The next look-up (on the scheduler, as are start, stop and refreshNow).
    private var next: TimerHandle?

    /// When DNS gives no TTL; also the shortest and longest wait between look-ups.
    static let unknownTTL = Duration.seconds(300)
    static let shortest = Duration.seconds(60)
    static let longest = Duration.seconds(3600)

    /// Where a look-up runs: a thread of its own (tests run it in place).
    let runLookup: @Sendable (@escaping @Sendable () -> Void) throws -> Void

    package init(name: ServerName, transport: Transport, resolver: any SIPResolver, scheduler: any Scheduler, seed: UInt64,
         runLookup: @escaping @Sendable (@escaping @Sendable () -> Void) throws -> Void = { try SystemThread.detach($0) }) {
        self.name = name
        self.transport = transport
        self.resolver = resolver
        self.scheduler = scheduler
        self.runLookup = runLookup
        random = SeededRandom(seed: seed ^ 0x5E4E_A5E5)
    }

    /// How long an answer is kept: its shortest TTL, within a minute and an hour.
    package static func lifetime(of targets: [ServerTarget]) -> Duration {
        guard let ttl = targets.compactMap(\.ttl).min() else { return unknownTTL }
        return min(max(.seconds(Int64(ttl)), shortest), longest)
    }

    /// Schedules the first look-up `after` (the caller has just looked the servers up).
    package func start(after: Duration) {
        let g = lock.withLock { () -> Int in
            stopped = false
            generation += 1
            return generation
        }
        schedule(after: after, generation: g)
    }

    package func stop() {
        lock.withLock {
            stopped = true
            generation += 1
        }
        if let next { scheduler.cancel(next) }
        next = nil
    }

    /// Looks the servers up again now (unless a look-up is already on its way).
    package func refreshNow() {
        let g: Int? = lock.withLock {
            guard !stopped, !looking else { return nil }
            looking = true
            return generation
        }
        guard let g else { return }
        if let next { scheduler.cancel(next) }
        next = nil
        // Each look-up orders equal-priority SRV records with a draw of its own.
        let seed = random.next()
        let (name, transport, resolver, scheduler) = (self.name, self.transport, self.resolver, self.scheduler)
        let delivered: @Sendable (Result<[ServerTarget], any Error>) -> Void = { [weak self] result in
            scheduler.execute { [weak self] in self?.deliver(result, generation: g) }
        }
        do {
            try runLookup {
                var random = SeededRandom(seed: seed)
                delivered(Result { try ServerLocator.targets(host: name.host, port: name.port, transport: transport, resolver: resolver, random: &random) })
            }
        } catch {
            delivered(.failure(error))
        }
    }

    func deliver(_ result: Result<[ServerTarget], any Error>, generation g: Int) {
        let current = lock.withLock { () -> Bool in
            looking = false
            return !stopped && generation == g
        }
        guard current else { return }
        switch result {
        case .success(let targets) where !targets.isEmpty:
            onTargets?(targets)
            schedule(after: Self.lifetime(of: targets), generation: g)
        case .success:
            schedule(after: Self.shortest, generation: g)
        case .failure(let error):
            onFailure?(error)
            schedule(after: Self.shortest, generation: g)
        }
    }

    /// Keeps `agent`'s server list (`failover`: its failover server's part) as DNS has it (a
    /// new answer replaces it; a failed look-up is logged and the old list stays) and looks
    /// again at once when every server has failed.
    package func follow(_ agent: AccountAgent, failover: Bool = false) {
        // The account's socket is of one family: addresses of the other cannot be reached from it.
        onTargets = { [weak agent] found in
            guard let agent else { return }
            let family = IPEndpoint.Family(of: agent.server.host)
            let sameFamily = found.filter { IPEndpoint.Family(of: $0.address) == family }
            agent.replaceServers(sameFamily.map { SIPNetworkAddress($0.address, $0.port) }, failover: failover)
        }
        onFailure = { [weak agent] error in agent?.onLog?("looking the \(failover ? "failover " : "")servers up again failed (the old ones stay): \(error)") }
        let before = agent.onServersExhausted
        agent.onServersExhausted = { [weak self] in
            before?()
            self?.refreshNow()
        }
    }

    private func schedule(after wait: Duration, generation g: Int) {
        next = scheduler.schedule(after: wait) { [weak self] in
            guard let self, self.lock.withLock({ !self.stopped && self.generation == g }) else { return }
            self.refreshNow()
        }
    }
}
