import CTipRingResolv
public import SIPCore

/// DNS through glibc's resolver library (`res_nquery`, `ns_parserr`): the system's servers
/// from /etc/resolv.conf, or one given server (tests point it at a local dnsmasq).
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
        var buffer = [tipring_srv_record](repeating: tipring_srv_record(), count: 32)
        let n = buffer.withUnsafeMutableBufferPointer { p in
            call(nameserver) { ns in tipring_dns_srv(name, ns, Int32(port), Int32(timeoutSeconds), Int32(attempts), p.baseAddress, Int32(p.count)) }
        }
        try check(n, name)
        return buffer.prefix(Int(n)).map { r in
            SRVRecord(priority: r.priority, weight: r.weight, port: r.port, target: Self.text(r.target))
        }
    }

    public func ipv4(_ name: String) throws(DNSLookupError) -> [String] {
        if ServerLocator.isIPv4Literal(name) { return [name] }
        var buffer = [tipring_a_record](repeating: tipring_a_record(), count: 16)
        let n = buffer.withUnsafeMutableBufferPointer { p in
            call(nameserver) { ns in tipring_dns_a(name, ns, Int32(port), Int32(timeoutSeconds), Int32(attempts), p.baseAddress, Int32(p.count)) }
        }
        try check(n, name)
        return buffer.prefix(Int(n)).map { Self.text($0.address) }
    }

    func check(_ n: Int32, _ name: String) throws(DNSLookupError) {
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
