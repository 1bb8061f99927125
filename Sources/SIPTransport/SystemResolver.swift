import CTipRingResolv
public import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import SIPCore

/// DNS through the C library: SRV records with its resolver (`res_nquery`, `ns_parserr`) from
/// the servers in /etc/resolv.conf, host addresses as every program finds them (`getaddrinfo`,
/// so /etc/hosts counts); or everything from one given server (tests point it at a dnsmasq).
public struct SystemResolver: SIPResolver {
    public var nameserver: String?
    public var port: Int
    public var timeoutSeconds: Int
    public var attempts: Int

    public init(nameserver: String? = nil, port: Int = 53, timeoutSeconds: Int = 2, attempts: Int = 2) {
        self.nameserver = nameserver
        self.port = port
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
    }

    public func srv(_ name: String) throws(DNSLookupError) -> [SRVRecord] {
        try Self.srvRecords(inAnswer: query(name, type: TIPRING_DNS_TYPE_SRV), name: name)
    }

    /// A given name server is asked for A and AAAA records itself (IPv4 first: without the
    /// system's RFC 6724 selection, the family most likely routed); otherwise the system looks
    /// the name up as it looks up any host (`getaddrinfo`: /etc/hosts first, then DNS, both
    /// families in its preferred order).
    public func addresses(_ name: String) throws(DNSLookupError) -> [String] {
        if let literal = ServerLocator.ipLiteral(name) { return [literal] }
        if nameserver != nil {
            let v4 = Result { () throws(DNSLookupError) in try Self.addresses(inAnswer: query(name, type: TIPRING_DNS_TYPE_A), family: .ipv4, name: name) }
            let v6 = Result { () throws(DNSLookupError) in try Self.addresses(inAnswer: query(name, type: TIPRING_DNS_TYPE_AAAA), family: .ipv6, name: name) }
            let found = ((try? v4.get()) ?? []) + ((try? v6.get()) ?? [])
            if !found.isEmpty { return found }
            // Neither family: no answer from the server outranks "no such name".
            if case .failure(.noAnswer(let n)) = v4 { throw .noAnswer(n) }
            if case .failure(.noAnswer(let n)) = v6 { throw .noAnswer(n) }
            throw .noSuchName(name)
        }
        do {
            return try Resolver.addresses(name).map(\.host)
        } catch {
            throw error.errno == ENOENT ? .noSuchName(name) : .noAnswer(name)
        }
    }

    /// The raw answer of the configured (or the system's) name server.
    func query(_ name: String, type: Int32) throws(DNSLookupError) -> [UInt8] {
        var answer = [UInt8](repeating: 0, count: 4096)
        var length: Int32 = 0
        let rc = answer.withUnsafeMutableBufferPointer { p in
            call(nameserver) { ns in
                tipring_dns_query(name, type, ns, Int32(clamping: port), Int32(clamping: timeoutSeconds), Int32(clamping: attempts),
                                  p.baseAddress, Int32(clamping: p.count), &length)
            }
        }
        try Self.check(rc, name)
        return Array(answer.prefix(Int(max(0, length))))
    }

    /// The SRV records of a DNS answer, as whoever answered sent it (parsed by glibc's
    /// `ns_parserr` in the C shim; fuzzed).
    public static func srvRecords(inAnswer bytes: [UInt8], name: String) throws(DNSLookupError) -> [SRVRecord] {
        var buffer = [tipring_srv_record](repeating: tipring_srv_record(), count: 32)
        let n = bytes.withUnsafeBufferPointer { b in
            buffer.withUnsafeMutableBufferPointer { tipring_dns_parse_srv(b.baseAddress, Int32(clamping: b.count), $0.baseAddress, Int32(clamping: $0.count)) }
        }
        try check(n, name)
        return buffer.prefix(Int(n)).map { r in
            SRVRecord(priority: r.priority, weight: r.weight, port: r.port, target: Self.text(r.target), ttl: r.ttl)
        }
    }

    /// The addresses of a DNS answer: its A records (IPv4) or its AAAA records (IPv6).
    public static func addresses(inAnswer bytes: [UInt8], family: IPEndpoint.Family, name: String) throws(DNSLookupError) -> [String] {
        let type = family == .ipv4 ? TIPRING_DNS_TYPE_A : TIPRING_DNS_TYPE_AAAA
        var buffer = [tipring_address_record](repeating: tipring_address_record(), count: 16)
        let n = bytes.withUnsafeBufferPointer { b in
            buffer.withUnsafeMutableBufferPointer { tipring_dns_parse_addresses(b.baseAddress, Int32(clamping: b.count), type, $0.baseAddress, Int32(clamping: $0.count)) }
        }
        try check(n, name)
        return buffer.prefix(Int(n)).map { Self.text($0.address) }
    }

    static func check(_ n: Int32, _ name: String) throws(DNSLookupError) {
        if n == TIPRING_DNS_NONAME { throw .noSuchName(name) }
        if n < 0 { throw .noAnswer(name) }
    }

    func call(_ ns: String?, _ body: (UnsafePointer<CChar>?) -> Int32) -> Int32 {
        guard let ns else { return body(nil) }
        return ns.withCString { body($0) }
    }

    static func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
