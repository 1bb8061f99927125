public import NIOCore
import NIOPosix
import SystemCalls
public import SIPCore
public import SIPAgent
public import TipRingCore

/// Where an account sends, as configured: a host (name or address) and an optional port.
public struct ServerName: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int?
    public init(host: String, port: Int? = nil) {
        self.host = host
        self.port = port
    }
    public var description: String { host + (port.map { ":\($0)" } ?? "") }
}

/// One account over UDP on a real network: servers located by DNS (RFC 3263) and looked up
/// again as their answers age (``ServerRefresh``), a socket bound in the configured port range
/// with DSCP marking, the ``AccountAgent`` on the scheduler, and an ``AddressWatcher`` probing
/// the route toward the server.
public final class UDPAccountEndpoint: @unchecked Sendable {
    public let agent: AccountAgent
    public let transport: UDPTransport
    public let watcher: AddressWatcher
    let scheduler: any Scheduler

    public struct Options: Sendable {
        /// Requests go to the outbound proxy when one is set, else to the registrar.
        public var registrar: ServerName
        public var outboundProxy: ServerName?
        public var localPorts: ClosedRange<Int> = 5060...5079
        /// SIP's DSCP: CS3 (24) by default; nil leaves the socket unmarked.
        public var dscp: Int? = 24
        public var addressCheck: Duration = .seconds(2)
        public init(registrar: ServerName, outboundProxy: ServerName? = nil) {
            self.registrar = registrar
            self.outboundProxy = outboundProxy
        }
    }

    let refresh: ServerRefresh
    let firstLookupLifetime: Duration

    init(agent: AccountAgent, transport: UDPTransport, watcher: AddressWatcher, refresh: ServerRefresh,
         firstLookupLifetime: Duration, scheduler: any Scheduler) {
        self.agent = agent
        self.transport = transport
        self.watcher = watcher
        self.refresh = refresh
        self.firstLookupLifetime = firstLookupLifetime
        self.scheduler = scheduler
    }

    /// Locates the servers, binds the socket and builds the agent (not yet started).
    /// Errors name what to fix: a name that does not resolve, a port range that is taken.
    public static func make(settings: AccountSettings, options: Options, resolver: any SIPResolver,
                            group: any EventLoopGroup, scheduler: any Scheduler, seed: UInt64) async throws -> UDPAccountEndpoint {
        let next = options.outboundProxy ?? options.registrar
        let targets = try await BlockingLookup.run {
            var random = SeededRandom(seed: seed)
            return try ServerLocator.targets(host: next.host, port: next.port, transport: .udp, resolver: resolver, random: &random)
        }
        // One socket, of the family of the first server (the system's address selection put it
        // first); servers of the other family cannot be reached from it.
        let family = IPEndpoint.Family(of: targets[0].address)
        let servers = targets.filter { IPEndpoint.Family(of: $0.address) == family }.map { SIPNetworkAddress($0.address, $0.port) }
        let box = AgentBox()
        let transport = try await UDPTransport.bind(host: family == .ipv6 ? "::" : "0.0.0.0", ports: options.localPorts, dscp: options.dscp, group: group,
                                                    scheduler: scheduler,
                                                    onMalformed: { bytes, error, from in
                                                        guard let ip = from.ipAddress, let port = from.port else { return }
                                                        box.agent?.receiveMalformed(bytes, error: error, from: SIPNetworkAddress(ip, port))
                                                    }) { m, from in
            guard let ip = from.ipAddress, let port = from.port else { return }
            box.agent?.receive(m, from: SIPNetworkAddress(ip, port))
        }
        guard let localPort = transport.localAddress?.port else { throw TransportError(description: "the UDP socket has no local port") }
        let localHost = try LocalAddress.toward(host: servers[0].host, port: servers[0].port)
        var settings = settings
        settings.registration.transport = .udp
        if let proxy = options.outboundProxy, settings.registration.route == nil {
            settings.registration.route = "<sip:\(proxy);lr>"
        }
        let agent = AccountAgent(
            settings: settings, servers: servers, localAddress: SIPNetworkAddress(localHost, localPort),
            scheduler: scheduler, seed: seed,
            send: { m, to in
                if let a = try? SocketAddress(ipAddress: to.host, port: to.port) { transport.send(m, to: a) }
            },
            sendBytes: { b, to in
                if let a = try? SocketAddress(ipAddress: to.host, port: to.port) { transport.send(bytes: b, to: a) }
            })
        box.agent = agent
        let watcher = AddressWatcher(scheduler: scheduler, interval: options.addressCheck, initial: localHost,
                                     probe: { [weak agent] in
                                         guard let s = agent?.server else { return nil }
                                         return try? LocalAddress.toward(host: s.host, port: s.port)
                                     },
                                     onChange: { [weak agent] host in agent?.localAddressChanged(SIPNetworkAddress(host, localPort)) })
        let refresh = ServerRefresh(name: next, transport: .udp, resolver: resolver, scheduler: scheduler, seed: seed)
        refresh.follow(agent)
        return UDPAccountEndpoint(agent: agent, transport: transport, watcher: watcher, refresh: refresh,
                                  firstLookupLifetime: ServerRefresh.lifetime(of: targets), scheduler: scheduler)
    }

    /// Registers and starts watching the address and DNS (on the scheduler).
    public func start() {
        scheduler.execute { [self] in
            agent.start()
            startWatching()
        }
    }

    /// Unregisters (the caller waits for the status) and stops watching.
    public func stop() {
        scheduler.execute { [self] in
            stopWatching()
            agent.stop()
        }
    }

    /// Follows the local address and the servers' DNS answers (on the scheduler).
    public func startWatching() {
        watcher.start()
        refresh.start(after: firstLookupLifetime)
    }

    public func stopWatching() {
        watcher.stop()
        refresh.stop()
    }

    public func close() async { await transport.close() }

    final class AgentBox: @unchecked Sendable { var agent: AccountAgent? }
}
