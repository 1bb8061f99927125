public import TipRingCore
public import TelephonyDSP
import LineHAL
public import SIPCore
public import SIPTransport
public import PortControl
public import BoardSimulator
import RTPMedia
import SystemCalls
public import PortStack
public import NIOCore

/// The simulated board with real networking: each port's account on its own UDP socket
/// (``UDPAccountEndpoint``) toward a real registrar, RTP and RTCP on real UDP sockets. What
/// the daemon runs, with simulated phones instead of SLICs; tests call through Kamailio and
/// baresip with it.
public final class LiveBoardSystem: @unchecked Sendable {
    public let scheduler: any Scheduler
    public let board: SimulatedBoard
    public let plan: RegionTonePlan
    public private(set) var ports: [Int: SimulatedSystem.Port] = [:]
    public private(set) var endpoints: [Int: UDPAccountEndpoint] = [:]

    public struct Account: Sendable {
        public var user: String
        public var password: Secret
        public init(user: String, password: String) {
            self.user = user
            self.password = Secret(password)
        }
    }

    init(scheduler: any Scheduler, board: SimulatedBoard, plan: RegionTonePlan) {
        self.scheduler = scheduler
        self.board = board
        self.plan = plan
    }

    /// Builds the ports (call from outside the scheduler's thread; the assembly runs on it).
    public static func make(clock: any ControlPlane, registrar: ServerName, domain: String, accounts: [Account],
                            sipPorts: ClosedRange<Int>, rtpPorts: ClosedRange<Int>, group: any EventLoopGroup,
                            region: Region = .us, resolver: any SIPResolver = SystemResolver(),
                            configure: @escaping (Int, inout PortSettings, inout CallSettings) -> Void = { _, _, _ in },
                            seed: UInt64 = 1) async throws -> LiveBoardSystem {
        guard let plan = RegionTonePlan.forRegion(region) else { throw PortSetupError(description: "no tone plan for region \(region)") }
        let scheduler = clock.scheduler
        let system = clock.sync {
            LiveBoardSystem(scheduler: scheduler, board: SimulatedBoard(board: SimulatedSystem.boardDescription(ports: accounts.count), scheduler: scheduler), plan: plan)
        }
        for (i, account) in accounts.enumerated() {
            let id = i + 1
            var settings = PortStack.accountSettings(user: account.user, domain: domain, password: account.password.value,
                                                     instanceID: "urn:uuid:00000000-0000-4000-8000-0000000002\(10 + id)")
            settings.registration.expires = 600
            settings.keepAlive = .crlf(every: .seconds(25))
            var options = UDPAccountEndpoint.Options(registrar: registrar)
            options.localPorts = sipPorts
            let endpoint = try await UDPAccountEndpoint.make(settings: settings, options: options, resolver: resolver, group: group,
                                                             scheduler: scheduler, seed: seed &+ UInt64(id))
            let half = (rtpPorts.upperBound - rtpPorts.lowerBound + 1) / accounts.count
            let lower = rtpPorts.lowerBound + i * half
            // Media of the signalling's family: an IPv6 registrar, IPv6 media.
            let factory = PolledMediaSocketFactory(family: IPEndpoint.Family(of: endpoint.agent.localAddress.host))
            let built: Result<SimulatedSystem.Port, any Error> = clock.sync {
                Result {
                    try SimulatedSystem.assemblePort(id: id, user: account.user, board: system.board, plan: plan, scheduler: scheduler,
                                                     agent: endpoint.agent, mediaFactory: factory, cname: "port\(id)@\(domain)",
                                                     configure: configure, seed: seed)
                }
            }
            let port = try built.get()
            clock.sync {
                port.media.setPorts(lower...(lower + half - 1))
                system.ports[id] = port
                system.endpoints[id] = endpoint
            }
        }
        return system
    }

    public func port(_ id: Int) -> SimulatedSystem.Port { ports[id]! }

    /// Power on: every port enabled (registers), address watchers running. On the scheduler.
    public func powerOn() {
        for id in ports.keys.sorted() {
            ports[id]!.controller.handle(.enable)
            endpoints[id]!.watcher.start()
        }
    }

    /// Disables every port (hang up, unregister, power down) and stops lines. On the scheduler.
    public func powerOff() {
        for (id, p) in ports {
            p.controller.handle(.disable)
            endpoints[id]?.watcher.stop()
        }
    }

    public func close() async {
        for e in endpoints.values { await e.close() }
    }
}
