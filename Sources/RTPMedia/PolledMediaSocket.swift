public import SIPCore
public import TipRingCore
public import SystemCalls

/// RTP/RTCP over a plain non-blocking UDP socket, driven by the port's audio period: packets
/// go out from the period that made them, and the period first reads whatever arrived
/// (``poll()``). No threads, no wake-ups, no copies beyond the kernel's — the media loop of an
/// ATA. DSCP EF (46) by default.
public final class PolledMediaSocket: MediaSocket, @unchecked Sendable {
    let socket: DatagramSocket
    public var localPort: Int { Int(socket.local.port) }
    public var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)?
    var buffer = [UInt8](repeating: 0, count: 2048)
    /// The last destination and source, converted once: a call talks to one peer.
    var lastTarget: (SIPNetworkAddress, IPEndpoint)?
    var lastSource: (IPEndpoint, SIPNetworkAddress)?

    init?(host: String, port: Int, dscp: Int?) {
        guard let local = IPEndpoint(host: host, port: port), let s = try? DatagramSocket(binding: local, dscp: dscp) else { return nil }
        socket = s
    }

    deinit { close() }

    /// The DSCP value the socket marks packets with (read back from the socket).
    public var dscp: Int { socket.dscp }

    public func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress) {
        let target: IPEndpoint
        if let (address, endpoint) = lastTarget, address == to {
            target = endpoint
        } else {
            guard let endpoint = IPEndpoint(host: to.host, port: to.port) else { return }
            lastTarget = (to, endpoint)
            target = endpoint
        }
        socket.send(bytes, to: target)
    }

    /// Reads every datagram waiting and hands each to `onPacket`.
    public func poll() {
        guard let handler = onPacket else { return }
        let now = Instant.monotonicNow()
        while true {
            guard let (count, from) = buffer.withUnsafeMutableBytes({ socket.receive(into: $0) }) else { return }
            let source: SIPNetworkAddress
            if let (endpoint, address) = lastSource, endpoint == from {
                source = address
            } else {
                source = SIPNetworkAddress(from.host, Int(from.port))
                lastSource = (from, source)
            }
            buffer.withUnsafeBytes { handler(UnsafeRawBufferPointer(rebasing: $0[0..<count]), source, now) }
        }
    }

    public func close() { socket.close() }
}

/// Opens ``PolledMediaSocket``s on exact ports.
public final class PolledMediaSocketFactory: MediaSocketFactory, @unchecked Sendable {
    let host: String
    let dscp: Int?
    public init(host: String = "0.0.0.0", dscp: Int? = 46) {
        self.host = host
        self.dscp = dscp
    }

    /// Sockets on every local address of one family ("0.0.0.0" or "::").
    public convenience init(family: IPEndpoint.Family, dscp: Int? = 46) {
        self.init(host: family == .ipv6 ? "::" : "0.0.0.0", dscp: dscp)
    }
    public func open(port: Int) -> (any MediaSocket)? { PolledMediaSocket(host: host, port: port, dscp: dscp) }
}
