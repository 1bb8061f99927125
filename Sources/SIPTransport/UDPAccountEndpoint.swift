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
        /// Where requests go when every address of the registrar (or of the outbound proxy,
        /// when one is set: then this is a proxy too) has failed.
        public var failover: ServerName?
        /// SIP over TLS (connection-oriented endpoints only): what the server's certificate is
        /// checked against.
        public var tls: TLSSettings?
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
    let failoverRefresh: ServerRefresh?
    let firstLookupLifetime: Duration

    init(agent: AccountAgent, transport: UDPTransport, watcher: AddressWatcher, refresh: ServerRefresh, failoverRefresh: ServerRefresh?,
         firstLookupLifetime: Duration, scheduler: any Scheduler) {
        self.agent = agent
        self.transport = transport
        self.watcher = watcher
        self.refresh = refresh
        self.failoverRefresh = failoverRefresh
        self.firstLookupLifetime = firstLookupLifetime
        self.scheduler = scheduler
    }

    /// Locates the servers, binds the socket and builds the agent (not yet started).
    /// Errors name what to fix: a name that does not resolve, a port range that is taken.
    public static func make(settings: AccountSettings, options: Options, resolver: any SIPResolver,
                            group: any EventLoopGroup, scheduler: any Scheduler, seed: UInt64) async throws -> UDPAccountEndpoint {
        let next = options.outboundProxy ?? options.registrar
        let (targets, failoverTargets) = try await AccountServers.locate(next, failover: options.failover, transport: .udp, resolver: resolver, seed: seed)
        // One socket, of the family of the first server (the system's address selection put it
        // first); servers of the other family cannot be reached from it.
        let family = IPEndpoint.Family(of: (targets.first ?? failoverTargets[0]).address)
        let servers = targets.filter { IPEndpoint.Family(of: $0.address) == family }.map { SIPNetworkAddress($0.address, $0.port) }
        let failoverServers = failoverTargets.filter { IPEndpoint.Family(of: $0.address) == family }.map { SIPNetworkAddress($0.address, $0.port) }
        let first = servers.first ?? failoverServers[0]
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
        let localHost = try LocalAddress.toward(host: first.host, port: first.port)
        var settings = settings
        settings.registration.transport = .udp
        if let proxy = options.outboundProxy, settings.registration.route == nil {
            settings.registration.route = "<sip:\(proxy);lr>"
            if let failover = options.failover { settings.failoverRoute = "<sip:\(failover);lr>" }
        }
        let agent = AccountAgent(
            settings: settings, servers: servers, failoverServers: failoverServers, localAddress: SIPNetworkAddress(localHost, localPort),
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
        let failoverRefresh = options.failover.map { ServerRefresh(name: $0, transport: .udp, resolver: resolver, scheduler: scheduler, seed: seed ^ 0xFA11) }
        failoverRefresh?.follow(agent, failover: true)
        return UDPAccountEndpoint(agent: agent, transport: transport, watcher: watcher, refresh: refresh, failoverRefresh: failoverRefresh,
                                  firstLookupLifetime: AccountServers.firstRefresh(targets, failoverTargets), scheduler: scheduler)
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
        failoverRefresh?.start(after: firstLookupLifetime)
    }

    public func stopWatching() {
        watcher.stop()
        refresh.stop()
        failoverRefresh?.stop()
    }

    public func close() async { await transport.close() }

    final class AgentBox: @unchecked Sendable { var agent: AccountAgent? }
}
