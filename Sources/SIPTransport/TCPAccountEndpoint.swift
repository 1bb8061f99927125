public import NIOCore
import NIOPosix
public import SIPCore
public import SIPAgent
public import TipRingCore

/// What the daemon needs of an account's network side, over UDP or TCP.
public protocol AccountEndpoint: AnyObject, Sendable {
    var agent: AccountAgent { get }
    /// The connection's security as the status shows it ("TLS 1.3, TLS_AES_128_GCM_SHA256"); nil when in clear.
    var security: String? { get }
    /// What is wrong with the way to the server when it is not working (a refused or dropped
    /// TLS connection, in an operator's words); nil when nothing is known to be.
    var trouble: String? { get }
    /// Starts watching for changes (local address; a dropped connection).
    func startWatching()
    func stopWatching()
    func close() async
}

extension UDPAccountEndpoint: AccountEndpoint {
    public var security: String? { nil }
    public var trouble: String? { nil }
}

/// One account over TCP (RFC 3261 §18): a connection to the first server that accepts it
/// (DNS `_sip._tcp` SRV order, then the failover server's addresses), requests and responses
/// both ways on it, framed by Content-Length. When the connection drops, it is made again
/// (backing off 1 s … 8 s — the back-off is reset only once the server answered on a
/// connection, so one that takes connections and drops them, such as a TLS server wanting a
/// client certificate, is not hammered) and the account registers again from its new local port. While a
/// failover server serves the account, a connection to the first server is tried every
/// `primaryCheck`; the first one made takes over.
public final class TCPAccountEndpoint: AccountEndpoint, @unchecked Sendable {
    public let agent: AccountAgent
    let scheduler: any Scheduler
    let group: any EventLoopGroup
    /// Where a dropped connection is made again, in order: the server's, then the failover
    /// server's (on the scheduler; DNS refreshes both).
    var targets: [SIPNetworkAddress]
    var failoverTargets: [SIPNetworkAddress]
    var everyTarget: [(address: SIPNetworkAddress, failover: Bool)] { targets.map { ($0, false) } + failoverTargets.map { ($0, true) } }
    let refresh: ServerRefresh
    let failoverRefresh: ServerRefresh?
    var primaryCheck: TimerHandle?
    let firstLookupLifetime: Duration
    let lock = ConditionLock()
    var transport: TCPTransport?
    var closed = false
    /// Connections lost or refused since the server last answered (on the scheduler).
    var failures = 0
    private var troubleText: String?
    public var trouble: String? { lock.withLock { troubleText } }
    func noteTrouble(_ text: String?) { lock.withLock { troubleText = text } }
    /// Over TLS: the checks for the configured server's certificate and the failover server's
    /// (each is checked against its own configured name).
    let tls: TLSClients

    struct TLSClients {
        var primary: TLSClient?
        var failover: TLSClient?
        func client(failover f: Bool) -> TLSClient? { f ? failover : primary }
    }

    /// The connection's security as the status shows it ("TLS 1.3, TLS_AES_128_GCM_SHA256"), nil over plain TCP.
    public var security: String? { current?.security }
    /// How long the connection and its TLS handshake took.
    public var setupMilliseconds: Int64? { current?.setupMilliseconds }

    init(agent: AccountAgent, transport: TCPTransport, targets: [SIPNetworkAddress], failoverTargets: [SIPNetworkAddress],
         refresh: ServerRefresh, failoverRefresh: ServerRefresh?, firstLookupLifetime: Duration, scheduler: any Scheduler, group: any EventLoopGroup,
         tls: TLSClients) {
        self.tls = tls
        self.agent = agent
        self.transport = transport
        self.targets = targets
        self.failoverTargets = failoverTargets
        self.refresh = refresh
        self.failoverRefresh = failoverRefresh
        self.firstLookupLifetime = firstLookupLifetime
        self.scheduler = scheduler
        self.group = group
    }

    final class Box: @unchecked Sendable { weak var endpoint: TCPAccountEndpoint? }

    public static func make(settings: AccountSettings, options: UDPAccountEndpoint.Options, resolver: any SIPResolver,
                            group: any EventLoopGroup, scheduler: any Scheduler, seed: UInt64) async throws -> TCPAccountEndpoint {
        let next = options.outboundProxy ?? options.registrar
        let kind: Transport = options.tls == nil ? .tcp : .tls
        let tls = TLSClients(primary: try options.tls.map { try TLSClient(settings: $0, expectedName: next.host) },
                             failover: try options.tls.flatMap { s in try options.failover.map { try TLSClient(settings: s, expectedName: $0.host) } })
        let (found, foundFailover) = try await AccountServers.locate(next, failover: options.failover, transport: kind, resolver: resolver, seed: seed)
        let targets = found.map { SIPNetworkAddress($0.address, $0.port) }
        let failoverTargets = foundFailover.map { SIPNetworkAddress($0.address, $0.port) }
        let box = Box()
        let (transport, server) = try await connect(targets.map { ($0, false) } + failoverTargets.map { ($0, true) }, tls: tls,
                                                    group: group, scheduler: scheduler, box: box)
        let onFailover = !targets.contains(server)
        guard let local = transport.localAddress, let ip = local.ipAddress, let port = local.port else {
            throw TransportError(description: "the \(kind) connection to \(server) has no local address")
        }
        var settings = settings
        settings.registration.transport = kind
        settings.keepAlive = .off  // the connection itself keeps the NAT binding; CRLF pings are for UDP here
        if let proxy = options.outboundProxy, settings.registration.route == nil {
            settings.registration.route = "<sip:\(proxy);transport=\(kind.rawValue);lr>"
            if let failover = options.failover { settings.failoverRoute = "<sip:\(failover);transport=\(kind.rawValue);lr>" }
        }
        let agent = AccountAgent(settings: settings, servers: onFailover ? [] : [server], failoverServers: onFailover ? [server] : [],
                                 localAddress: SIPNetworkAddress(ip, port),
                                 scheduler: scheduler, seed: seed,
                                 send: { m, _ in box.endpoint?.current?.send(m) },
                                 sendBytes: { _, _ in })
        let refresh = ServerRefresh(name: next, transport: kind, resolver: resolver, scheduler: scheduler, seed: seed)
        let failoverRefresh = options.failover.map { ServerRefresh(name: $0, transport: kind, resolver: resolver, scheduler: scheduler, seed: seed ^ 0xFA11) }
        let endpoint = TCPAccountEndpoint(agent: agent, transport: transport, targets: targets, failoverTargets: failoverTargets,
                                          refresh: refresh, failoverRefresh: failoverRefresh,
                                          firstLookupLifetime: AccountServers.firstRefresh(found, foundFailover), scheduler: scheduler, group: group,
                                          tls: tls)
        box.endpoint = endpoint
        // Reconnections go where DNS now says; the connection in use stays until it drops.
        refresh.onTargets = { found in box.endpoint?.targets = found.map { SIPNetworkAddress($0.address, $0.port) } }
        refresh.onFailure = { error in box.endpoint?.agent.onLog?("looking the servers up again failed (the old ones stay): \(error)") }
        failoverRefresh?.onTargets = { found in box.endpoint?.failoverTargets = found.map { SIPNetworkAddress($0.address, $0.port) } }
        failoverRefresh?.onFailure = { error in box.endpoint?.agent.onLog?("looking the failover servers up again failed (the old ones stay): \(error)") }
        agent.onServersExhausted = {
            box.endpoint?.refresh.refreshNow()
            box.endpoint?.failoverRefresh?.refreshNow()
        }
        // A connection the registrar accepted but never answers on (a server still starting, a
        // half-dead NAT binding) is closed; the close makes it again and registers anew.
        agent.onNoAnswer = { box.endpoint?.current?.channel.close(promise: nil) }
        return endpoint
    }

    var current: TCPTransport? { lock.withLock { transport } }

    static func connect(_ targets: [(SIPNetworkAddress, Bool)], tls: TLSClients, group: any EventLoopGroup, scheduler: any Scheduler,
                        box: Box) async throws -> (TCPTransport, SIPNetworkAddress) {
        var last: (any Error)?
        for (t, failover) in targets {
            do {
                let transport = try await TCPTransport.connect(host: t.host, port: t.port, group: group, scheduler: scheduler,
                                                               tls: tls.client(failover: failover)) { m in
                    box.endpoint?.agent.receive(m, from: t)
                }
                transport.channel.closeFuture.whenComplete { _ in
                    scheduler.execute { box.endpoint?.dropped(transport) }
                }
                return (transport, t)
            } catch {
                last = error
            }
        }
        // A certificate refused says so on its own: that is what the operator must fix.
        if let refused = last as? TLSFailure { throw refused }
        throw TransportError(description: "no \(tls.primary == nil ? "TCP" : "TLS") connection to \(targets.map(\.0.description).joined(separator: ", "))"
                                          + (last.map { " (\($0))" } ?? ""))
    }

    /// The connection closed: make it again, then register from the new local address. (A
    /// connection another has replaced — the first server back — closes without a word.)
    func dropped(_ closing: TCPTransport?) {
        let stop = lock.withLock { () -> Bool in
            if let closing, transport !== closing { return true }
            transport = nil
            return closed
        }
        if stop { return }
        if let reason = closing?.closeReason {
            if reason != trouble { agent.onLog?("connection closed: \(reason)") }
            noteTrouble(reason)
        }
        failures += 1
        let wait = Duration.seconds(Int64(min(8, 1 << min(failures - 1, 3))))
        scheduler.schedule(after: wait) { [weak self] in
            self?.reconnect(from: 0)
        }
    }

    /// Tries the targets in order, on the event loop's callbacks (no Swift concurrency: a
    /// daemon's cooperative threads may all be waiting).
    func reconnect(from index: Int) {
        let every = everyTarget
        guard index < every.count else {
            dropped(nil)
            return
        }
        let (target, failover) = every[index]
        connect(to: target, failover: failover) { endpoint, result in
            switch result {
            case .success(let t):
                endpoint.use(t, to: target, failover: failover)
            case .failure(let error):
                if let refused = error as? TLSFailure {
                    endpoint.agent.onLog?("\(target): \(refused)")
                    endpoint.noteTrouble(refused.description)
                }
                endpoint.reconnect(from: index + 1)
            }
        }
    }

    /// A connection to `target` (TLS checked against its server's name); the outcome handed
    /// to `then` on the scheduler, while this endpoint still exists.
    func connect(to target: SIPNetworkAddress, failover: Bool,
                 then: @escaping @Sendable (TCPAccountEndpoint, Result<TCPTransport, any Error>) -> Void) {
        let box = Box(), scheduler = self.scheduler
        box.endpoint = self
        TCPTransport.connect(host: target.host, port: target.port, group: group, scheduler: scheduler, tls: tls.client(failover: failover),
                             onMessage: { m in
                                 guard let endpoint = box.endpoint else { return }
                                 endpoint.answered()
                                 endpoint.agent.receive(m, from: target)
                             },
                             completion: { result in
                                 scheduler.execute {
                                     guard let endpoint = box.endpoint else { return }
                                     then(endpoint, result)
                                 }
                             })
    }

    /// A connection made: requests go on it, and the account registers from it.
    func use(_ t: TCPTransport, to target: SIPNetworkAddress, failover: Bool) {
        let scheduler = self.scheduler, box = Box()
        box.endpoint = self
        t.channel.closeFuture.whenComplete { _ in scheduler.execute { box.endpoint?.dropped(t) } }
        let old = lock.withLock { () -> TCPTransport? in
            defer { transport = t }
            return transport
        }
        old?.channel.close(promise: nil)
        agent.connected(to: target, failover: failover)
        if let local = t.localAddress, let ip = local.ipAddress, let port = local.port {
            agent.reconnected(localAddress: SIPNetworkAddress(ip, port))
        }
        checkPrimaryLater()
    }

    /// The server answered on the connection: it works; the back-off starts over.
    func answered() {
        failures = 0
        if trouble != nil { noteTrouble(nil) }
    }

    /// While connected to a failover server: try the first server's addresses again later.
    func checkPrimaryLater() {
        if let primaryCheck { scheduler.cancel(primaryCheck) }
        primaryCheck = nil
        guard agent.onFailover, !targets.isEmpty, lock.withLock({ !closed }) else { return }
        primaryCheck = scheduler.schedule(after: agent.settings.primaryCheck) { [weak self] in self?.tryPrimary(0) }
    }

    /// One of the first server's addresses after another; the first connection made takes
    /// over from the failover server's, none: ask again later.
    func tryPrimary(_ index: Int) {
        primaryCheck = nil
        guard agent.onFailover, lock.withLock({ !closed }) else { return }
        guard index < targets.count else { return checkPrimaryLater() }
        let target = targets[index]
        connect(to: target, failover: false) { endpoint, result in
            switch result {
            case .success(let t):
                endpoint.agent.onLog?("the first server \(target) takes connections again; registering there")
                endpoint.use(t, to: target, failover: false)
            case .failure:
                endpoint.tryPrimary(index + 1)
            }
        }
    }

    public func startWatching() {
        refresh.start(after: firstLookupLifetime)
        failoverRefresh?.start(after: firstLookupLifetime)
        checkPrimaryLater()
    }

    public func stopWatching() {
        refresh.stop()
        failoverRefresh?.stop()
        if let primaryCheck { scheduler.cancel(primaryCheck) }
        primaryCheck = nil
    }

    public func close() async {
        let t = lock.withLock { () -> TCPTransport? in
            closed = true
            return transport
        }
        await t?.close()
    }
}
