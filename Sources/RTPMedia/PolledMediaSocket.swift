#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import SIPCore
public import TipRingCore

/// RTP/RTCP over a plain non-blocking UDP socket, driven by the port's audio period: packets
/// go out with `sendto` from the period that made them, and the period first reads whatever
/// arrived (``poll()``). No threads, no wake-ups, no copies beyond the kernel's — the media
/// loop of an ATA. DSCP EF (46) by default.
public final class PolledMediaSocket: MediaSocket, @unchecked Sendable {
    let fd: Int32
    public let localPort: Int
    public var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)?
    var buffer = [UInt8](repeating: 0, count: 2048)
    var lastAddress = sockaddr_in()
    var lastTarget: SIPNetworkAddress?
    var target = sockaddr_in()

    init?(host: String, port: Int, dscp: Int?) {
        let s = socket(AF_INET, Int32(bitPattern: SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { _ = closeDescriptor(s); return nil }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { _ = closeDescriptor(s); return nil }
        if let dscp {
            var tos = Int32(clamping: dscp << 2)
            setsockopt(s, Int32(clamping: IPPROTO_IP), IP_TOS, &tos, socklen_t(MemoryLayout<Int32>.size))
        }
        fd = s
        localPort = port
    }

    deinit { close() }

    /// The DSCP value the socket marks packets with (read back from the socket).
    public var dscp: Int {
        var tos: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, Int32(clamping: IPPROTO_IP), IP_TOS, &tos, &len)
        return Int(tos) >> 2
    }

    public func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress) {
        guard fd >= 0 else { return }
        if lastTarget != to {
            guard let port = UInt16(exactly: to.port), port > 0 else { return }
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(port.bigEndian)
            guard inet_pton(AF_INET, to.host, &a.sin_addr) == 1 else { return }
            target = a
            lastTarget = to
        }
        _ = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(fd, bytes.baseAddress, bytes.count, Int32(clamping: MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        } }
    }

    /// Reads every datagram waiting and hands each to `onPacket`.
    public func poll() {
        guard fd >= 0, let handler = onPacket else { return }
        let now = Instant.monotonicNow()
        while true {
            var from = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) } }
            }
            if n < 0 { return }
            let source: SIPNetworkAddress
            if from.sin_addr.s_addr == lastAddress.sin_addr.s_addr && from.sin_port == lastAddress.sin_port, let t = cachedSource {
                source = t
            } else {
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                inet_ntop(AF_INET, &from.sin_addr, &text, socklen_t(text.count))
                source = SIPNetworkAddress(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), Int(UInt16(bigEndian: from.sin_port)))
                lastAddress = from
                cachedSource = source
            }
            buffer.withUnsafeBytes { handler(UnsafeRawBufferPointer(rebasing: $0[0..<n]), source, now) }
        }
    }

    var cachedSource: SIPNetworkAddress?
    var closed = false

    public func close() {
        guard !closed else { return }
        closed = true
        _ = closeDescriptor(fd)
    }
}

/// Opens ``PolledMediaSocket``s on exact ports.
public final class PolledMediaSocketFactory: MediaSocketFactory, @unchecked Sendable {
    let host: String
    let dscp: Int?
    public init(host: String = "0.0.0.0", dscp: Int? = 46) {
        self.host = host
        self.dscp = dscp
    }
    public func open(port: Int) -> (any MediaSocket)? { PolledMediaSocket(host: host, port: port, dscp: dscp) }
}

/// libc's close(2), named apart from the socket's own `close()` that shadows it.
private func closeDescriptor(_ fd: Int32) -> Int32 { close(fd) }
