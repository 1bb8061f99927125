import TipRingCore
import SIPCore

/// Where an account's requests go: its registrar's (or outbound proxy's) addresses in
/// RFC 3263 order, and its failover server's.
enum AccountServers {
    /// Either name may fail to resolve as long as the other does: a failover server is there
    /// for the day the first one's name is gone too. Neither: the first one's error.
    static func locate(_ next: ServerName, failover: ServerName?, transport: Transport, resolver: any SIPResolver,
                       seed: UInt64) async throws -> ([ServerTarget], [ServerTarget]) {
        try await BlockingLookup.run {
            var random = SeededRandom(seed: seed)
            let primary = Result { try ServerLocator.targets(host: next.host, port: next.port, transport: transport, resolver: resolver, random: &random) }
            guard let failover else { return (try primary.get(), []) }
            let backup = (try? ServerLocator.targets(host: failover.host, port: failover.port, transport: transport, resolver: resolver, random: &random)) ?? []
            switch primary {
            case .success(let found): return (found, backup)
            case .failure(let error):
                if backup.isEmpty { throw error }
                return ([], backup)
            }
        }
    }

    /// When the names are looked up again first: as the answers' TTLs say, or within a minute
    /// when the first name did not resolve (the failover server stands in meanwhile).
    static func firstRefresh(_ targets: [ServerTarget], _ failoverTargets: [ServerTarget]) -> Duration {
        targets.isEmpty ? ServerRefresh.shortest : ServerRefresh.lifetime(of: targets + failoverTargets)
    }
}
