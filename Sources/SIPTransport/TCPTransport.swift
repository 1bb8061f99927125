public import NIOCore
import NIOPosix
import NIOSSL
public import SIPCore
public import TipRingCore

/// SIP over one TCP connection on SwiftNIO — or TLS over it (RFC 3261 §26.2): messages
/// framed by Content-Length (``SIPStreamFramer``), handed to the control plane with
/// `Scheduler.execute`. A framing error closes the connection (the stream can no longer be
/// trusted). Over TLS the connection counts as made once the handshake has checked the
/// server's certificate; a refusal is worded by ``TLSClient``.
public final class TCPTransport: @unchecked Sendable {
    public let channel: any Channel
    /// Our end of the connection as it was made. Read on the event loop when the connect
    /// completed: a peer that closes at once (a server still starting) must not leave us
    /// without the address to register from; the close itself starts a reconnect.
    public let localAddress: SocketAddress?
    /// The TLS version and cipher suite agreed ("TLS 1.3, TLS_AES_128_GCM_SHA256"), nil over
    /// plain TCP.
    public let security: String?
    /// From the connect to the end of the handshake (TLS only).
    public private(set) var setupMilliseconds: Int64?

    private init(channel: any Channel, security: String? = nil) {
        self.channel = channel
        localAddress = channel.localAddress
        self.security = security
    }

    public static func connect(
        host: String, port: Int, group: any EventLoopGroup, scheduler: any Scheduler, tls: TLSClient? = nil,
        onMessage: @escaping @Sendable (SIPMessage) -> Void
    ) async throws -> TCPTransport {
        try await withCheckedThrowingContinuation { c in
            connect(host: host, port: port, group: group, scheduler: scheduler, tls: tls, onMessage: onMessage) { c.resume(with: $0) }
        }
    }

    /// The same without Swift concurrency: the result is handed to `completion` on the event
    /// loop (for reconnecting from a timer, where no cooperative thread may be free).
    public static func connect(
        host: String, port: Int, group: any EventLoopGroup, scheduler: any Scheduler, tls: TLSClient? = nil,
        onMessage: @escaping @Sendable (SIPMessage) -> Void,
        completion: @escaping @Sendable (Result<TCPTransport, any Error>) -> Void
    ) {
        let loop = group.next()
        let started = Instant.monotonicNow()
        let handshake = loop.makePromise(of: NIOSSLCertificate?.self)
        // Built here, used on `loop` only: whichever comes first completes the promise once.
        let waiter = HandshakeWaiter(done: handshake)
        let hello = ServerHelloWatcher()
        let inbound = Inbound(scheduler: scheduler, onMessage: onMessage)
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls {
                        try ch.pipeline.syncOperations.addHandler(hello)
                        let h = try tls.handler()
                        try ch.pipeline.syncOperations.addHandler(h)
                        waiter.certificate = { h.peerCertificate }
                        try ch.pipeline.syncOperations.addHandler(waiter)
                    }
                    try ch.pipeline.syncOperations.addHandler(inbound)
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                guard case .success(let ch) = result, let tls else {
                    waiter.finish(nil)  // nobody waits for a handshake that will not come
                    return completion(result.map { ch in
                        let t = TCPTransport(channel: ch)
                        t.inbound = inbound
                        return t
                    })
                }
                handshake.futureResult.whenComplete { outcome in
                    switch outcome {
                    case .success:
                        let version = try? ch.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion
                        let security = [version.map(Self.name) ?? "TLS", hello.cipherSuite].compactMap { $0 }.joined(separator: ", ")
                        let t = TCPTransport(channel: ch, security: security)
                        t.inbound = inbound
                        t.setupMilliseconds = (Instant.monotonicNow() - started).nanoseconds / 1_000_000
                        completion(.success(t))
                    case .failure(let error):
                        ch.close(promise: nil)
                        tls.diagnose(host: host, port: port, group: group, original: error).whenComplete { completion(.failure((try? $0.get()) ?? TLSFailure("TLS: \(error)"))) }
                    }
                }
            }
    }

    /// An error that ended a connection, in an operator's words where we know them.
    static func words(for error: any Error) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("HANDSHAKE_FAILURE") && text.contains("ALERT") {
            return "TLS: the server asks for a client certificate (tlsCertificateFile, tlsKeyFile)" + (text.contains("CERTIFICATE_REQUIRED") ? "" : " or refused the handshake")
        }
        if text.contains("ALERT_UNKNOWN_CA") || text.contains("ALERT_BAD_CERTIFICATE") || text.contains("CERTIFICATE_UNKNOWN") {
            return "TLS: the server refused our certificate (tlsCertificateFile)"
        }
        return "the connection failed (\(text.prefix(160)))"
    }

    static func name(_ v: TLSVersion?) -> String {
        switch v {
        case .tlsv13: "TLS 1.3"
        case .tlsv12: "TLS 1.2"
        case .tlsv11: "TLS 1.1"
        case .tlsv1: "TLS 1.0"
        case nil: "TLS"
        }
    }

    public func send(_ message: SIPMessage) {
        var buffer = channel.allocator.buffer(capacity: 1024)
        buffer.writeBytes(message.serialized())
        channel.writeAndFlush(buffer, promise: nil)
    }

    public func close() async {
        try? await channel.close()
    }

    /// Why the connection ended, when an error ended it (a TLS alert from the server: a
    /// client certificate it wanted, a certificate of ours it refused); set on the event loop
    /// before the close completes.
    public var closeReason: String? { inbound?.lastError }
    var inbound: Inbound?

    final class Inbound: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let scheduler: any Scheduler
        let onMessage: @Sendable (SIPMessage) -> Void
        var framer = SIPStreamFramer()
        private let lock = ConditionLock()
        private var error: String?
        var lastError: String? { lock.withLock { error } }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            let words = TCPTransport.words(for: error)
            lock.withLock { self.error = words }
            context.close(promise: nil)
        }

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
