public import TipRingCore
import CTipRingSys

/// The shim returns a result or -errno; this turns the second into a ``SystemError`` naming
/// the call and what it was about.
@inline(__always)
func check<T: SignedInteger>(_ result: T, _ call: String, _ subject: @autoclosure () -> String) throws(SystemError) -> T {
    if result < 0 { throw SystemError(call: call, subject: subject(), errno: Int32(truncatingIfNeeded: 0 - result)) }
    return result
}

/// An IPv4 address and port, the way sockets take them (address in network order).
public struct IPv4Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: UInt32
    public var port: UInt16

    public init(address: UInt32, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Nil unless `host` is a dotted quad and `port` fits 1…65535 (0 too when `anyPort`).
    public init?(host: String, port: Int, anyPort: Bool = false) {
        guard let p = UInt16(exactly: port), p > 0 || anyPort else { return nil }
        var a: UInt32 = 0
        guard tr_ipv4_parse(host, &a) == 0 else { return nil }
        self.init(address: a, port: p)
    }

    /// The dotted quad.
    public var host: String {
        var text = [CChar](repeating: 0, count: 16)
        tr_ipv4_format(address, &text)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { "\(host):\(port)" }
}

/// The source address the kernel's routing table picks toward a host — what a Contact and
/// Via must carry. A connected UDP socket sends nothing; `getsockname` reads the route.
public enum Route {
    public static func sourceAddress(toward destination: IPv4Endpoint) throws(SystemError) -> String {
        var source: UInt32 = 0
        _ = try check(tr_route_source(destination.address, destination.port, &source), "connect", destination.description)
        return IPv4Endpoint(address: source, port: 0).host
    }
}

/// The system resolver (`getaddrinfo`: /etc/hosts, then DNS). Blocks: never on the control
/// plane.
public enum Resolver {
    public static func ipv4(_ host: String) throws(SystemError) -> IPv4Endpoint {
        var address: UInt32 = 0
        _ = try check(tr_resolve_ipv4(host, &address), "getaddrinfo", host)
        return IPv4Endpoint(address: address, port: 0)
    }

    /// Every IPv4 address of `host` (up to 16, each once, in the resolver's order). The
    /// error's errno is `ENOENT` when the name does not exist, `EAGAIN` when nothing answered.
    public static func ipv4Addresses(_ host: String) throws(SystemError) -> [IPv4Endpoint] {
        var addresses = [UInt32](repeating: 0, count: 16)
        let n = try check(addresses.withUnsafeMutableBufferPointer { tr_resolve_ipv4_all(host, $0.baseAddress, Int32($0.count)) }, "getaddrinfo", host)
        return addresses.prefix(Int(n)).map { IPv4Endpoint(address: $0, port: 0) }
    }
}

/// Memory given back to the system.
public enum Memory {
    /// Freed heap back to the kernel (glibc's `malloc_trim`; musl returns it by itself).
    @discardableResult
    public static func trimHeap() -> Bool { tr_memory_trim() == 1 }

    /// Lets the kernel page out [start, start + length) now (`MADV_PAGEOUT`, Linux 5.4).
    public static func pageOut(_ start: UnsafeMutableRawPointer, length: Int) throws(SystemError) {
        _ = try check(tr_page_out(start, length), "madvise", "\(length) bytes")
    }
}

/// Files, beyond reading and writing them (``FileIO``).
public enum FileInfo {
    /// The permission bits (`stat`).
    public static func mode(of path: String) throws(SystemError) -> UInt32 {
        var mode: UInt32 = 0
        _ = try check(tr_file_mode(path, &mode), "stat", path)
        return mode
    }

    /// Where a symbolic link points.
    public static func linkTarget(_ path: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = try check(tr_read_link(path, &buffer, buffer.count), "readlink", path)
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension SystemError {
    /// `host` is no IPv4 address (`EINVAL` from `inet_pton`).
    public static func notAnIPv4Address(_ host: String) -> SystemError { SystemError(call: "inet_pton", subject: host, errno: EINVAL) }
}
