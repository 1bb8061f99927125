#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import NIOCore
import NIOPosix
public import SIPCore
public import TipRingCore

/// SIP over UDP on SwiftNIO: one bound socket; datagrams out, parsed messages in.
///
/// Received messages are handed to the control plane with `Scheduler.execute`, so the
/// sans-IO machines (transactions, registration) run on the scheduler only. Malformed
/// datagrams are counted and handed to `onMalformed` (on the scheduler), which decides
/// whether anyone deserves a 400; without it they are dropped. Datagrams are received whole
/// up to 65,535 bytes (RFC 3261 §18.3; NIO's default buffer would cut them at 2,048).
public final class UDPTransport: @unchecked Sendable {
    public let channel: any Channel
    let scheduler: any Scheduler
    /// Messages that did not parse.
    public private(set) var malformed = 0

    /// The local address and port actually bound (port 0 → an ephemeral port).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: any Channel, scheduler: any Scheduler) {
        self.channel = channel
        self.scheduler = scheduler
    }

    /// Binds `host:port` and delivers each parsed message (with its source) to `onMessage`
    /// on the scheduler.
    public static func bind(
        host: String, port: Int, group: any EventLoopGroup, scheduler: any Scheduler,
        onMalformed: MalformedHandler? = nil,
        onMessage: @escaping @Sendable (SIPMessage, SocketAddress) -> Void
    ) async throws -> UDPTransport {
        let handler = Inbound(scheduler: scheduler, onMessage: onMessage, onMalformed: onMalformed)
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: wholeDatagrams)
            .channelInitializer { ch in ch.pipeline.addHandler(handler) }
            .bind(host: host, port: port)
            .get()
        let t = UDPTransport(channel: channel, scheduler: scheduler)
        handler.transport = t
        return t
    }

    /// Binds the first free port of `ports` on `host` (a configured local port range),
    /// marking outgoing packets with `dscp` (SIP: CS3 = 24 by default; nil leaves the socket
    /// alone). Fails naming the range when every port is taken.
    public static func bind(
        host: String, ports: ClosedRange<Int>, dscp: Int?, group: any EventLoopGroup, scheduler: any Scheduler,
        onMalformed: MalformedHandler? = nil,
        onMessage: @escaping @Sendable (SIPMessage, SocketAddress) -> Void
    ) async throws -> UDPTransport {
        var lastError: (any Error)?
        for port in ports {
            do {
                let handler = Inbound(scheduler: scheduler, onMessage: onMessage, onMalformed: onMalformed)
                var bootstrap = DatagramBootstrap(group: group)
                    .channelOption(.recvAllocator, value: wholeDatagrams)
                    .channelInitializer { ch in ch.pipeline.addHandler(handler) }
                if host.contains(":") {
                    // IPv6 only: IPv4 peers would arrive as ::ffff:a.b.c.d, which the source
                    // screen would not recognise as the servers it knows.
                    bootstrap = bootstrap.channelOption(.socket(SocketOptionLevel(IPPROTO_IPV6), SocketOptionName(IPV6_V6ONLY)), value: 1)
                    if let dscp { bootstrap = bootstrap.channelOption(.socket(SocketOptionLevel(IPPROTO_IPV6), SocketOptionName(IPV6_TCLASS)), value: SocketOptionValue(dscp << 2)) }
                } else if let dscp {
                    bootstrap = bootstrap.channelOption(.ipOption(.init(rawValue: IP_TOS)), value: SocketOptionValue(dscp << 2))
                }
                let channel = try await bootstrap.bind(host: host, port: port).get()
                let t = UDPTransport(channel: channel, scheduler: scheduler)
                handler.transport = t
                return t
            } catch {
                lastError = error
            }
        }
        throw TransportError(description: "no free UDP port in \(ports.lowerBound)–\(ports.upperBound) on \(host)" + (lastError.map { " (last: \($0))" } ?? ""))
    }

    /// The DSCP value the socket marks packets with (read back from the socket).
    public func dscp() async throws -> Int {
        Int(try await channel.getOption(.ipOption(.init(rawValue: IP_TOS))).get()) >> 2
    }

    /// Sends a message to `address` (from any thread).
    public func send(_ message: SIPMessage, to address: SocketAddress) {
        var buffer = channel.allocator.buffer(capacity: 1024)
        buffer.writeBytes(message.serialized())
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    /// Sends raw bytes (a keep-alive CRLF CRLF).
    public func send(bytes: [UInt8], to address: SocketAddress) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    public func close() async {
        try? await channel.close()
    }

    /// Receives a datagram that did not parse, with the reason and its source.
    public typealias MalformedHandler = @Sendable ([UInt8], SIPParseError, SocketAddress) -> Void

    /// The largest UDP payload there is: a SIP message over UDP may be that big.
    static let wholeDatagrams = FixedSizeRecvByteBufferAllocator(capacity: 65_536)

    final class Inbound: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let scheduler: any Scheduler
        let onMessage: @Sendable (SIPMessage, SocketAddress) -> Void
        let onMalformed: MalformedHandler?
        weak var transport: UDPTransport?

        init(scheduler: any Scheduler, onMessage: @escaping @Sendable (SIPMessage, SocketAddress) -> Void, onMalformed: MalformedHandler?) {
            self.scheduler = scheduler
            self.onMessage = onMessage
            self.onMalformed = onMalformed
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let bytes = envelope.data.getBytes(at: envelope.data.readerIndex, length: envelope.data.readableBytes) ?? []
            // Keep-alive CRLFs carry nothing.
            if bytes.allSatisfy({ $0 == 13 || $0 == 10 }) { return }
            let from = envelope.remoteAddress
            do {
                let m = try SIPParser.parse(bytes)
                let deliver = onMessage
                scheduler.execute { deliver(m, from) }
            } catch {
                transport?.malformed += 1
                if let onMalformed { scheduler.execute { onMalformed(bytes, error, from) } }
            }
        }
    }
}

/// A transport that could not be set up, in words that say what to change.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
