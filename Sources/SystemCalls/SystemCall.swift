#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import TipRingCore
import CTipRingSys

/// The shim returns a result or -errno; this turns the second into a ``SystemError`` naming
/// the call and what it was about.
@inline(__always)
func check<T: SignedInteger>(_ result: T, _ call: String, _ subject: @autoclosure () -> String) throws(SystemError) -> T {
    if result < 0 { throw SystemError(call: call, subject: subject(), errno: Int32(truncatingIfNeeded: 0 - result)) }
    return result
}

/// An IP address — IPv4 or IPv6 — and a port, the way sockets take them.
public struct IPEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable {
        case ipv4, ipv6

        /// The family of an address written as text: IPv6 addresses are the ones with colons.
        public init(of address: String) { self = address.contains(":") ? .ipv6 : .ipv4 }
    }

    public let family: Family
    /// The address in network order: IPv4 in the first four bytes, the rest zero.
    let high: UInt64, low: UInt64
    public var port: UInt16

    /// Nil unless `host` is an IPv4 or IPv6 address (no brackets) and `port` fits 1…65535
    /// (0 too when `anyPort`).
    public init?(host: String, port: Int, anyPort: Bool = false) {
        guard let p = UInt16(exactly: port), p > 0 || anyPort else { return nil }
        var e = tr_endpoint()
        guard tr_ip_parse(host, &e) == 0 else { return nil }
        e.port = p
        self.init(e)
    }

    /// The unspecified address of a family ("0.0.0.0", "::") on `port`: a socket bound to it
    /// takes that family's traffic to any local address.
    public static func any(_ family: Family, port: UInt16) -> IPEndpoint {
        IPEndpoint(host: family == .ipv4 ? "0.0.0.0" : "::", port: Int(port), anyPort: true)!
    }

    init(_ e: tr_endpoint) {
        family = e.family == 6 ? .ipv6 : .ipv4
        var high: UInt64 = 0, low: UInt64 = 0
        withUnsafeBytes(of: e.address) { raw in
            for i in 0..<8 { high = high << 8 | UInt64(raw[i]) }
            for i in 8..<16 { low = low << 8 | UInt64(raw[i]) }
        }
        self.high = high
        self.low = low
        port = e.port
    }

    var raw: tr_endpoint {
        var e = tr_endpoint()
        e.family = family == .ipv6 ? 6 : 4
        e.port = port
        withUnsafeMutableBytes(of: &e.address) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
        }
        return e
    }

    /// The address as text: a dotted quad, or IPv6 in its compressed lower-case form (no
    /// brackets).
    public var host: String {
        var text = [CChar](repeating: 0, count: 46)
        var e = raw
        tr_ip_format(&e, &text)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The source address the kernel's routing table picks toward a host — what a Contact and
/// Via must carry. A connected UDP socket sends nothing; `getsockname` reads the route.
public enum Route {
    public static func sourceAddress(toward destination: IPEndpoint) throws(SystemError) -> String {
        var d = destination.raw, source = tr_endpoint()
        _ = try check(tr_route_source(&d, &source), "connect", destination.description)
        return IPEndpoint(source).host
    }
}

/// The system resolver (`getaddrinfo`: /etc/hosts, then DNS). Blocks: never on the control
/// plane.
public enum Resolver {
    /// Every address of `host` (up to 16, each once), IPv4 and IPv6 unless `family` says one,
    /// in the order RFC 6724's destination address selection gives (getaddrinfo's). The
    /// error's errno is `ENOENT` when the name does not exist, `EAGAIN` when nothing answered.
    public static func addresses(_ host: String, family: IPEndpoint.Family? = nil) throws(SystemError) -> [IPEndpoint] {
        var found = [tr_endpoint](repeating: tr_endpoint(), count: 16)
        let wanted: Int32 = family.map { $0 == .ipv4 ? 4 : 6 } ?? 0
        let n = try check(found.withUnsafeMutableBufferPointer { tr_resolve(host, wanted, $0.baseAddress, Int32($0.count)) }, "getaddrinfo", host)
        return found.prefix(Int(n)).map(IPEndpoint.init)
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

    /// "device:inode" of an open descriptor — how systemd names the stream it connected
    /// (`JOURNAL_STREAM`); nil when `fstat` fails.
    public static func identity(ofDescriptor fd: Int32) -> String? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return "\(st.st_dev):\(st.st_ino)"
    }

    /// Where a symbolic link points.
    public static func linkTarget(_ path: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = try check(tr_read_link(path, &buffer, buffer.count), "readlink", path)
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The source revision of a release build (git's, written in by scripts/release-build.sh;
/// ", modified" when the tree had changes), or "development build".
public enum BuildRevision {
    public static var text: String { String(cString: tr_build_revision()) }
}

/// One process at a time: an exclusive lock on a file, held until the process ends.
public enum InstanceLock {
    /// Another process holds the lock (its pid, when the file says).
    public struct Held: Error, Sendable { public let holder: Int32? }

    /// Takes the lock on `path` (made if missing), or says who holds it. The lock goes with
    /// the process: nothing to release, nothing stale after a crash.
    public static func acquire(_ path: String) throws -> Int32 {
        var holder: Int32 = 0
        let fd = tr_lock_exclusive(path, &holder)
        if fd == -EWOULDBLOCK { throw Held(holder: holder > 0 ? holder : nil) }
        return try check(fd, "flock", path)
    }
}

extension SystemError {
    /// `host` is no IP address (`EINVAL` from `inet_pton`).
    public static func notAnIPAddress(_ host: String) -> SystemError { SystemError(call: "inet_pton", subject: host, errno: EINVAL) }
}
