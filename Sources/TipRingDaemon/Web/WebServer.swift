package import NIOCore
import NIOPosix
package import NIOHTTP1
import TipRingCore

/// One request, as the pages need it.
package struct WebRequest: Sendable {
    package var method: String
    /// The path and query as the client wrote them (what a Digest `uri` names).
    package var uri: String
    /// The path alone.
    package var path: String
    package var authorization: String?
    /// The client's address (for counting its failures).
    package var client: String
}

/// One answer of the web server.
package struct WebResponse: Sendable {
    package var status: HTTPResponseStatus
    package var contentType: String
    package var body: String
    package var headers: [(String, String)] = []

    package static func html(_ body: String) -> WebResponse { WebResponse(status: .ok, contentType: "text/html; charset=utf-8", body: body) }
    package static func json(_ body: String) -> WebResponse { WebResponse(status: .ok, contentType: "application/json", body: body) }
    package static func javaScript(_ body: String) -> WebResponse { WebResponse(status: .ok, contentType: "text/javascript; charset=utf-8", body: body) }
    package static let notFound = WebResponse(status: .notFound, contentType: "text/plain; charset=utf-8", body: "not found\n")
}

/// The daemon's web page and JSON over HTTP/1.1 (SwiftNIO's server pipeline). Bounded like
/// everything facing a network: 16 connections at most, 10 s of silence closes one, a request
/// body is never read (only GET and HEAD are served), headers as NIO's parser limits them.
package final class WebServer: Sendable {
    let channel: any Channel
    package var port: Int? { channel.localAddress?.port }

    /// Answers a request on the caller's schedule; `reply` may be called on any thread.
    package typealias Pages = @Sendable (_ request: WebRequest, _ reply: @escaping @Sendable (WebResponse) -> Void) -> Void

    static let maximumConnections = 16

    private init(channel: any Channel) { self.channel = channel }

    package static func start(host: String, port: Int, group: any EventLoopGroup, pages: @escaping Pages) async throws -> WebServer {
        let open = ConnectionCount()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                guard open.add(1) <= maximumConnections else {
                    _ = open.add(-1)
                    return child.close()
                }
                child.closeFuture.whenComplete { _ in _ = open.add(-1) }
                return child.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    child.pipeline.addHandlers([IdleStateHandler(allTimeout: .seconds(10)), RequestHandler(pages: pages)])
                }
            }
            .bind(host: host, port: port).get()
        return WebServer(channel: channel)
    }

    package func close() async { try? await channel.close() }

    /// One request at a time on a connection (HTTP/1.1 without pipelining surprises: NIO's
    /// pipeline handler queues the next).
    final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let pages: Pages
        var head: HTTPRequestHead?

        init(pages: @escaping Pages) { self.pages = pages }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break  // nothing served here takes a body
            case .end:
                guard let h = head else { return }
                head = nil
                answer(h, context: context)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
        }

        func answer(_ h: HTTPRequestHead, context: ChannelHandlerContext) {
            guard h.method == .GET || h.method == .HEAD else {
                return send(WebResponse(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8", body: "GET only\n"), to: h, context: context)
            }
            let request = WebRequest(method: h.method.rawValue, uri: h.uri, path: String(h.uri.prefix { $0 != "?" && $0 != "#" }),
                                     authorization: h.headers.first(name: "Authorization"),
                                     client: context.remoteAddress?.ipAddress ?? "unknown")
            let loop = context.eventLoop, box = NIOLoopBound((self, context), eventLoop: loop)
            pages(request) { response in
                loop.execute {
                    let (handler, context) = box.value
                    handler.send(response, to: h, context: context)
                }
            }
        }

        func send(_ r: WebResponse, to request: HTTPRequestHead, context: ChannelHandlerContext) {
            let body = Array(r.body.utf8)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: r.contentType)
            headers.add(name: "Content-Length", value: "\(body.count)")
            headers.add(name: "Cache-Control", value: "no-store")
            headers.add(name: "X-Content-Type-Options", value: "nosniff")
            headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'")
            for (name, value) in r.headers { headers.add(name: name, value: value) }
            let keepAlive = request.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: r.status, headers: headers))), promise: nil)
            if request.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            }
            let done = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
            if !keepAlive {
                let channel = context.channel
                done.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

/// Connections open now, counted from several event loops.
final class ConnectionCount: @unchecked Sendable {
    private let lock = ConditionLock()
    private var value = 0
    func add(_ n: Int) -> Int { lock.withLock { value += n; return value } }
}
