package import TipRingCore
package import SIPCore

/// A resolver whose answers the test changes as time goes by (a carrier moving its registrar,
/// DNS going away and coming back).
package final class ChangingResolver: SIPResolver, @unchecked Sendable {
    private let lock = ConditionLock()
    private var _hosts: [String: [String]] = [:]
    private var _srvs: [String: [SRVRecord]] = [:]
    private var _failing = false
    private var _lookups = 0
    package var hosts: [String: [String]] { get { lock.withLock { _hosts } } set { lock.withLock { _hosts = newValue } } }
    package var srvs: [String: [SRVRecord]] { get { lock.withLock { _srvs } } set { lock.withLock { _srvs = newValue } } }
    package var failing: Bool { get { lock.withLock { _failing } } set { lock.withLock { _failing = newValue } } }
    package var lookups: Int { lock.withLock { _lookups } }

    package init() {}

    package func srv(_ name: String) throws(DNSLookupError) -> [SRVRecord] {
        let (records, failing) = lock.withLock { () -> ([SRVRecord]?, Bool) in
            _lookups += 1
            return (_srvs[name], _failing)
        }
        if failing { throw .noAnswer(name) }
        guard let records else { throw .noSuchName(name) }
        return records
    }

    package func addresses(_ name: String) throws(DNSLookupError) -> [String] {
        let (found, failing) = lock.withLock { (_hosts[name], _failing) }
        if failing { throw .noAnswer(name) }
        guard let found else { throw .noSuchName(name) }
        return found
    }
}
