public import TipRingCore

/// One DNS SRV record (RFC 2782).
public struct SRVRecord: Sendable, Hashable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: String
    /// How long (seconds) the answer may be kept; 0 when unknown.
    public var ttl: UInt32

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: String, ttl: UInt32 = 0) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
        self.ttl = ttl
    }
}

/// Why a look-up found nothing.
public enum DNSLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name (or that record type) does not exist.
    case noSuchName(String)
    /// No DNS server answered.
    case noAnswer(String)

    public var description: String {
        switch self {
        case .noSuchName(let n): "DNS: no such name \(n)"
        case .noAnswer(let n): "DNS: no answer looking up \(n) (check the network and /etc/resolv.conf)"
        }
    }
}

/// The two look-ups RFC 3263 needs. The daemon's implementation calls the system resolver
/// library; tests may use a table.
public protocol SIPResolver: Sendable {
    func srv(_ name: String) throws(DNSLookupError) -> [SRVRecord]
    /// A host's addresses, IPv4 and IPv6 (A and AAAA records), in the order to try them.
    func addresses(_ name: String) throws(DNSLookupError) -> [String]
}

/// Where to send: one address and port.
public struct ServerTarget: Sendable, Hashable, CustomStringConvertible {
    public var address: String
    public var port: Int
    /// The host name it came from (the SRV target), for messages.
    public var name: String
    /// How long (seconds) DNS said this may be kept (the SRV record's TTL); nil when unknown
    /// (a literal address, or the system's host look-up, which does not tell).
    public var ttl: UInt32?

    public init(address: String, port: Int, name: String, ttl: UInt32? = nil) {
        self.address = address
        self.port = port
        self.name = name
        self.ttl = ttl
    }

    public var description: String { name == address ? "\(address):\(port)" : "\(name) (\(address):\(port))" }
}

/// The RFC 3263 subset an ATA needs: a numeric host (IPv4, or IPv6 with or without brackets)
/// is used as it is; a host with a port gets its addresses (A and AAAA); a host without a port
/// gets SRV (`_sip._udp` / `_sip._tcp` / `_sips._tcp`), ordered by priority and weighted at random within a
/// priority (RFC 2782), each target's addresses in turn; no SRV (or no DNS answer, when the
/// host is known locally) → its addresses on 5060 (5061 for TLS). The caller fails over to the next target on a timeout or 503.
public enum ServerLocator {
    public static func targets(host: String, port: Int?, transport: Transport, resolver: any SIPResolver,
                               random: inout SeededRandom) throws(DNSLookupError) -> [ServerTarget] {
        if let literal = ipLiteral(host) { return [ServerTarget(address: literal, port: port ?? transport.defaultPort, name: literal)] }
        if let port {
            return try resolver.addresses(host).map { ServerTarget(address: $0, port: port, name: host) }
        }
        let service = transport.srvService + host
        let records: [SRVRecord]
        do {
            records = try resolver.srv(service)
        } catch .noSuchName {
            return try resolver.addresses(host).map { ServerTarget(address: $0, port: transport.defaultPort, name: host) }
        } catch {
            // No DNS server answered: the host may still be known locally (/etc/hosts on a
            // router whose modem has not attached); if not, the SRV failure is the reason.
            guard let local = try? resolver.addresses(host), !local.isEmpty else { throw error }
            return local.map { ServerTarget(address: $0, port: transport.defaultPort, name: host) }
        }
        // A single "." target means the service is decidedly not offered (RFC 2782).
        if records.count == 1 && (records[0].target == "." || records[0].target.isEmpty) { throw .noSuchName(service) }
        var out: [ServerTarget] = []
        var lastError: DNSLookupError = .noSuchName(service)
        for r in order(records, random: &random) {
            do {
                for a in try resolver.addresses(r.target) {
                    out.append(ServerTarget(address: a, port: Int(r.port), name: r.target, ttl: r.ttl == 0 ? nil : r.ttl))
                }
            } catch {
                lastError = error
            }
        }
        if out.isEmpty { throw lastError }
        return out
    }

    /// RFC 2782 ordering: ascending priority; within a priority, repeatedly pick a record with
    /// probability proportional to its weight (zero-weight records have a small chance, first
    /// in the running sum as the RFC arranges).
    public static func order(_ records: [SRVRecord], random: inout SeededRandom) -> [SRVRecord] {
        var out: [SRVRecord] = []
        let priorities = Set(records.map(\.priority)).sorted()
        for p in priorities {
            // Zero-weight records first, as the RFC's selection arranges them.
            var pool = records.filter { $0.priority == p && $0.weight == 0 } + records.filter { $0.priority == p && $0.weight > 0 }
            while !pool.isEmpty {
                let total = pool.reduce(0) { $0 + Int($1.weight) }
                let pick = total == 0 ? 0 : Int(random.next() % UInt64(total + 1))
                var sum = 0
                var index = pool.count - 1
                for (i, r) in pool.enumerated() {
                    sum += Int(r.weight)
                    if sum >= pick { index = i; break }
                }
                out.append(pool.remove(at: index))
            }
        }
        return out
    }

    public static func isIPv4Literal(_ s: String) -> Bool {
        SIPHost.isIPv4(s)
    }

    /// The address a host written as an IPv4 or IPv6 address stands for (an IPv6 one with or
    /// without its brackets); nil for a name.
    public static func ipLiteral(_ s: String) -> String? {
        if SIPHost.isIPv4(s) { return s }
        let inner = s.hasPrefix("[") && s.hasSuffix("]") ? s.dropFirst().dropLast() : Substring(s)
        return SIPHost.canonicalIPv6(inner)
    }
}
