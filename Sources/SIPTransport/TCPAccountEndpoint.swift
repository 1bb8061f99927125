public import NIOCore
import NIOPosix
public import SIPCore
public import SIPAgent
public import TipRingCore

/// What the daemon needs of an account's network side, over UDP or TCP.
public protocol AccountEndpoint: AnyObject, Sendable {
    var agent: AccountAgent { get }
    /// Starts watching for changes (local address; a dropped connection).
    func startWatching()
    func stopWatching()
    func close() async
}

extension UDPAccountEndpoint: AccountEndpoint {}

/// One account over TCP (RFC 3261 §18): a connection to the first server that accepts it
/// (DNS `_sip._tcp` SRV order), requests and responses both ways on it, framed by
/// Content-Length. When the connection drops, it is made again (backing off 1 s … 8 s) and
/// the account registers again from its new local port.
public final class TCPAccountEndpoint: AccountEndpoint, @unchecked Sendable {
    public let agent: AccountAgent
    let scheduler: any Scheduler
    let group: any EventLoopGroup
    /// Where a dropped connection is made again, in order (on the scheduler; DNS refreshes it).
    var targets: [SIPNetworkAddress]
    let refresh: ServerRefresh
    let firstLookupLifetime: Duration
    let lock = ConditionLock()
    var transport: TCPTransport?
    var closed = false
    var failures = 0

    init(agent: AccountAgent, transport: TCPTransport, targets: [SIPNetworkAddress], refresh: ServerRefresh,
         firstLookupLifetime: Duration, scheduler: any Scheduler, group: any EventLoopGroup) {
        self.agent = agent
        self.transport = transport
        self.targets = targets
        self.refresh = refresh
        self.firstLookupLifetime = firstLookupLifetime
        self.scheduler = scheduler
        self.group = group
    }

    final class Box: @unchecked Sendable { weak var endpoint: TCPAccountEndpoint? }

    public static func make(settings: AccountSettings, options: UDPAccountEndpoint.Options, resolver: any SIPResolver,
                            group: any EventLoopGroup, scheduler: any Scheduler, seed: UInt64) async throws -> TCPAccountEndpoint {
        let next = options.outboundProxy ?? options.registrar
        let found = try await BlockingLookup.run {
            var random = SeededRandom(seed: seed)
            return try ServerLocator.targets(host: next.host, port: next.port, transport: .tcp, resolver: resolver, random: &random)
        }
        let targets = found.map { SIPNetworkAddress($0.address, $0.port) }
        let box = Box()
        let (transport, server) = try await connect(targets, group: group, scheduler: scheduler, box: box)
        guard let local = transport.localAddress, let ip = local.ipAddress, let port = local.port else {
            throw TransportError(description: "the TCP connection to \(server) has no local address")
        }
        var settings = settings
        settings.registration.transport = .tcp
        settings.keepAlive = .off  // the connection itself keeps the NAT binding; CRLF pings are for UDP here
        if let proxy = options.outboundProxy, settings.registration.route == nil {
            settings.registration.route = "<sip:\(proxy);transport=tcp;lr>"
        }
        let agent = AccountAgent(settings: settings, servers: [server], localAddress: SIPNetworkAddress(ip, port),
                                 scheduler: scheduler, seed: seed,
                                 send: { m, _ in box.endpoint?.current?.send(m) },
                                 sendBytes: { _, _ in })
        let refresh = ServerRefresh(name: next, transport: .tcp, resolver: resolver, scheduler: scheduler, seed: seed)
        let endpoint = TCPAccountEndpoint(agent: agent, transport: transport, targets: targets, refresh: refresh,
                                          firstLookupLifetime: ServerRefresh.lifetime(of: found), scheduler: scheduler, group: group)
        box.endpoint = endpoint
        // Reconnections go where DNS now says; the connection in use stays until it drops.
        refresh.onTargets = { found in box.endpoint?.targets = found.map { SIPNetworkAddress($0.address, $0.port) } }
        refresh.onFailure = { error in box.endpoint?.agent.onLog?("looking the servers up again failed (the old ones stay): \(error)") }
        agent.onServersExhausted = { box.endpoint?.refresh.refreshNow() }
        // A connection the registrar accepted but never answers on (a server still starting, a
        // half-dead NAT binding) is closed; the close makes it again and registers anew.
        agent.onNoAnswer = { box.endpoint?.current?.channel.close(promise: nil) }
        return endpoint
    }

    var current: TCPTransport? { lock.withLock { transport } }

    static func connect(_ targets: [SIPNetworkAddress], group: any EventLoopGroup, scheduler: any Scheduler, box: Box) async throws -> (TCPTransport, SIPNetworkAddress) {
        var last: (any Error)?
        for t in targets {
            do {
                let transport = try await TCPTransport.connect(host: t.host, port: t.port, group: group, scheduler: scheduler) { m in
                    box.endpoint?.agent.receive(m, from: t)
                }
                transport.channel.closeFuture.whenComplete { _ in
                    scheduler.execute { box.endpoint?.dropped() }
                }
                return (transport, t)
            } catch {
                last = error
            }
        }
        throw TransportError(description: "no TCP connection to \(targets.map(\.description).joined(separator: ", "))" + (last.map { " (\($0))" } ?? ""))
    }

    /// The connection closed: make it again, then register from the new local address.
    func dropped() {
        let stop = lock.withLock { () -> Bool in
            transport = nil
            return closed
        }
        if stop { return }
        failures += 1
        let wait = Duration.seconds(Int64(min(8, 1 << min(failures - 1, 3))))
        scheduler.schedule(after: wait) { [weak self] in
            self?.reconnect(from: 0)
        }
    }

    /// Tries the targets in order, on the event loop's callbacks (no Swift concurrency: a
    /// daemon's cooperative threads may all be waiting).
    func reconnect(from index: Int) {
        guard index < targets.count else {
            dropped()
            return
        }
        let target = targets[index]
        let box = Box()
        box.endpoint = self
        let scheduler = self.scheduler
        TCPTransport.connect(host: target.host, port: target.port, group: group, scheduler: scheduler,
                             onMessage: { m in box.endpoint?.agent.receive(m, from: target) },
                             completion: { result in
                                 scheduler.execute {
                                     guard let self = box.endpoint else { return }
                                     switch result {
                                     case .success(let t):
                                         t.channel.closeFuture.whenComplete { _ in scheduler.execute { box.endpoint?.dropped() } }
                                         self.lock.withLock { self.transport = t }
                                         self.failures = 0
                                         if let local = t.localAddress, let ip = local.ipAddress, let port = local.port {
                                             self.agent.reconnected(localAddress: SIPNetworkAddress(ip, port))
                                         }
                                     case .failure:
                                         self.reconnect(from: index + 1)
                                     }
                                 }
                             })
    }

    public func startWatching() { refresh.start(after: firstLookupLifetime) }
    public func stopWatching() { refresh.stop() }

    public func close() async {
        let t = lock.withLock { () -> TCPTransport? in
            closed = true
            return transport
        }
        await t?.close()
    }
}
