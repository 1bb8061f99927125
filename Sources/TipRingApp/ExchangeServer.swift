#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore
import SIPCore
import SIPTransport
import BoardSimulator
import NIOCore
import NIOPosix

/// `tipring sim exchange`: the simulated exchange (registrar, digest, record-routing proxy,
/// message waiting) served on a real UDP socket, so a configuration registers and calls with
/// nothing else installed. Real datagrams enter the exchange's simulated network; its
/// answers go back out to the sender.
public enum ExchangeServer {
    public static func run(host: String, port: Int, domain: String, users: [String: String], print: @escaping @Sendable (String) -> Void) async throws -> Int32 {
        SignalPipe.install([SIGTERM, SIGINT])
        let scheduler = WallClockScheduler()
        scheduler.start()
        defer { scheduler.shutdown() }
        let clock = WallDemoClock(scheduler)
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
        let transport = try await UDPTransport.bind(host: host, port: port, group: MultiThreadedEventLoopGroup.singleton, scheduler: scheduler) { m, from in
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
        print("simulated exchange \(domain) on udp:\(host):\(port); users \(users.keys.sorted().joined(separator: ", "))")
        _ = SignalPipe.next()
        await transport.close()
        return 0
    }
}
