#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore
import SystemCalls
import SIPCore
import SIPTransport
import BoardSimulator
import NIOCore
import NIOPosix
import UnixSignals
import PortStack

/// `tipring sim exchange`: the simulated exchange (registrar, digest, record-routing proxy,
/// message waiting) served on a real UDP socket, so a configuration registers and calls with
/// nothing else installed. Real datagrams enter the exchange's simulated network; its
/// answers go back out to the sender.
public enum ExchangeServer {
    public static func run(host: String, port: Int, domain: String, users: [String: String], print: @escaping @Sendable (String) -> Void) async throws -> Int32 {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        let clock = WallClockControlPlane(scheduler)
        let address = SIPNetworkAddress(host, port)
        let (network, exchange) = clock.sync { () -> (SimulatedSIPNetwork, SimulatedExchange) in
            let n = SimulatedSIPNetwork(scheduler: scheduler, conditions: .init(delay: .zero))
            return (n, SimulatedExchange(network: n, address: address, domain: domain, users: users))
        }
        _ = exchange
        final class Peers: @unchecked Sendable { var known: Set<SIPNetworkAddress> = [] }
        let peers = Peers()
        final class Box: @unchecked Sendable { var transport: UDPTransport? }
        let box = Box()
        // A server answers a malformed request with 400 (RFC 3261 §8.2) — it is no phone line.
        let transport = try await UDPTransport.bind(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton, scheduler: scheduler,
                                                    onMalformed: { bytes, error, from in
                                                        guard let reply = SIPParser.badRequestResponse(to: bytes, error: error) else { return }
                                                        box.transport?.send(reply, to: from)
                                                    }) { m, from in
            guard let ip = from.ipAddress, let p = from.port else { return }
            let peer = SIPNetworkAddress(ip, p)
            if !peers.known.contains(peer) {
                peers.known.insert(peer)
                network.attach(peer) { bytes, _ in
                    guard let t = box.transport, let a = try? SocketAddress(ipAddress: ip, port: p) else { return }
                    t.send(bytes: bytes, to: a)
                }
            }
            if let line = m.isRequest ? m.method.map({ "\($0)" }) : m.status.map({ "\($0)" }) {
                print("\(peer) → \(line) \(m["Call-ID"] ?? "")")
            }
            network.send(m.serialized(), from: peer, to: address)
        }
        box.transport = transport
        // TCP on the same port: each connection is a peer on the exchange's network.
        let tcp = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.addHandler(TCPPeer(network: network, exchange: address, scheduler: scheduler, print: print))
            }
            .bind(host: host, port: port).get()
        print("simulated exchange \(domain) on udp and tcp \(host):\(port); users \(users.keys.sorted().joined(separator: ", "))")
        for await _ in signals { break }
        await transport.close()
        try? await tcp.close()
        return 0
    }
}

/// A TCP connection to the exchange: framed messages in, the exchange's answers out.
final class TCPPeer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let network: SimulatedSIPNetwork
    let exchange: SIPNetworkAddress
    let scheduler: any Scheduler
    let print: @Sendable (String) -> Void
    var framer = SIPStreamFramer()
    var peer: SIPNetworkAddress?

    init(network: SimulatedSIPNetwork, exchange: SIPNetworkAddress, scheduler: any Scheduler, print: @escaping @Sendable (String) -> Void) {
        self.network = network
        self.exchange = exchange
        self.scheduler = scheduler
        self.print = print
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let remote = context.channel.remoteAddress, let ip = remote.ipAddress, let port = remote.port else { return }
        let p = SIPNetworkAddress(ip, port)
        peer = p
        let channel = context.channel
        let network = self.network
        scheduler.execute {
            network.attach(p) { bytes, _ in
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                channel.writeAndFlush(buffer, promise: nil)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        guard let p = peer else { return }
        do {
            for m in try framer.feed(bytes) {
                let network = self.network, exchange = self.exchange
                let wire = m.serialized()
                scheduler.execute { network.send(wire, from: p, to: exchange) }
            }
        } catch {
            print("\(p): TCP framing error, closing: \(error)")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard let p = peer else { return }
        let network = self.network
        scheduler.execute { network.detach(p) }
    }
}
