public import NIOCore
import NIOPosix
public import SIPCore
public import TipRingCore

/// SIP over one TCP connection on SwiftNIO: messages framed by Content-Length
/// (``SIPStreamFramer``), handed to the control plane with `Scheduler.execute`. A framing
/// error closes the connection (the stream can no longer be trusted).
public final class TCPTransport: @unchecked Sendable {
    public let channel: any Channel
    /// Our end of the connection as it was made. Read on the event loop when the connect
    /// completed: a peer that closes at once (a server still starting) must not leave us
    /// without the address to register from; the close itself starts a reconnect.
    public let localAddress: SocketAddress?

    private init(channel: any Channel) {
        self.channel = channel
        localAddress = channel.localAddress
    }

    public static func connect(
        host: String, port: Int, group: any EventLoopGroup, scheduler: any Scheduler,
        onMessage: @escaping @Sendable (SIPMessage) -> Void
    ) async throws -> TCPTransport {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in ch.pipeline.addHandler(Inbound(scheduler: scheduler, onMessage: onMessage)) }
            .connect(host: host, port: port)
            .map { TCPTransport(channel: $0) }
            .get()
    }

    /// The same without Swift concurrency: the result is handed to `completion` on the event
    /// loop (for reconnecting from a timer, where no cooperative thread may be free).
    public static func connect(
        host: String, port: Int, group: any EventLoopGroup, scheduler: any Scheduler,
        onMessage: @escaping @Sendable (SIPMessage) -> Void,
        completion: @escaping @Sendable (Result<TCPTransport, any Error>) -> Void
    ) {
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in ch.pipeline.addHandler(Inbound(scheduler: scheduler, onMessage: onMessage)) }
            .connect(host: host, port: port)
            .whenComplete { result in completion(result.map { TCPTransport(channel: $0) }) }
    }

    public func send(_ message: SIPMessage) {
        var buffer = channel.allocator.buffer(capacity: 1024)
        buffer.writeBytes(message.serialized())
        channel.writeAndFlush(buffer, promise: nil)
    }

    public func close() async {
        try? await channel.close()
    }

    final class Inbound: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let scheduler: any Scheduler
        let onMessage: @Sendable (SIPMessage) -> Void
        var framer = SIPStreamFramer()

        init(scheduler: any Scheduler, onMessage: @escaping @Sendable (SIPMessage) -> Void) {
            self.scheduler = scheduler
            self.onMessage = onMessage
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let bytes = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
            do {
                let deliver = onMessage
                for m in try framer.feed(bytes) { scheduler.execute { deliver(m) } }
            } catch {
                context.close(promise: nil)
            }
        }
    }
}
