#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import TipRingCore

/// The local IPv4 address the kernel would use to reach a destination — what a Contact
/// and Via must carry. A connected UDP socket sends nothing; `getsockname` reads the route.
public enum LocalAddress {
    public static func toward(ipv4 host: String, port: Int) throws(SystemError) -> String {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        if fd < 0 { throw SystemError(call: "socket", subject: host, errno: errno) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw SystemError(call: "inet_pton", subject: host, errno: EINVAL) }
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw SystemError(call: "connect", subject: "\(host):\(port)", errno: errno) }
        var local = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc2 = withUnsafeMutablePointer(to: &local) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        if rc2 != 0 { throw SystemError(call: "getsockname", subject: host, errno: errno) }
        var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &local.sin_addr, &buf, socklen_t(buf.count))
        return text(buf)
    }

    /// Resolves a host name to an IPv4 address (numeric hosts pass through).
    public static func resolveIPv4(_ host: String) throws(SystemError) -> String {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &result)
        guard rc == 0, let r = result else { throw SystemError(call: "getaddrinfo", subject: host, errno: EHOSTUNREACH) }
        defer { freeaddrinfo(r) }
        var out = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        r.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
            var a = p.pointee.sin_addr
            inet_ntop(AF_INET, &a, &out, socklen_t(out.count))
        }
        return text(out)
    }

    static func text(_ c: [CChar]) -> String {
        String(decoding: c.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
