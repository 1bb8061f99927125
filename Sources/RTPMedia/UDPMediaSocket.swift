#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import NIOCore
import NIOPosix
public import SIPCore
public import TipRingCore

/// RTP/RTCP over real UDP (SwiftNIO): bound on an exact port, DSCP EF (46) by default.
/// Datagrams are handed over on the event loop's thread with their arrival time.
public final class UDPMediaSocket: MediaSocket, @unchecked Sendable {
    let channel: any Channel
    public let localPort: Int
    let lock = ConditionLock()
    var handler: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)?

    public var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)? {
        get { lock.withLock { handler } }
        set { lock.withLock { handler = newValue } }
    }

    init(channel: any Channel, port: Int) {
        self.channel = channel
        localPort = port
    }

    public func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress) {
        guard let address = try? SocketAddress(ipAddress: to.host, port: to.port) else { return }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    public func close() { channel.close(promise: nil) }

    final class Inbound: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        weak var socket: UDPMediaSocket?
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let socket, let handler = socket.onPacket, let ip = envelope.remoteAddress.ipAddress, let port = envelope.remoteAddress.port else { return }
            let now = Instant.monotonicNow()
            envelope.data.withUnsafeReadableBytes { handler($0, SIPNetworkAddress(ip, port), now) }
        }
    }
}

/// Opens ``UDPMediaSocket``s (blocking briefly for the bind; call it off the event loop).
public final class UDPMediaSocketFactory: MediaSocketFactory, @unchecked Sendable {
    let group: any EventLoopGroup
    let host: String
    let dscp: Int?

    public init(group: any EventLoopGroup, host: String = "0.0.0.0", dscp: Int? = 46) {
        self.group = group
        self.host = host
        self.dscp = dscp
    }

    public func open(port: Int) -> (any MediaSocket)? {
        let inbound = UDPMediaSocket.Inbound()
        var bootstrap = DatagramBootstrap(group: group).channelInitializer { ch in ch.pipeline.addHandler(inbound) }
        if let dscp { bootstrap = bootstrap.channelOption(.ipOption(.init(rawValue: IP_TOS)), value: SocketOptionValue(dscp << 2)) }
        guard let channel = try? bootstrap.bind(host: host, port: port).wait() else { return nil }
        let socket = UDPMediaSocket(channel: channel, port: port)
        inbound.socket = socket
        return socket
    }
}
