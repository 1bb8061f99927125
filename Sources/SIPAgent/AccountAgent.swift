public import TipRingCore
public import SIPCore

/// How an account keeps a NAT binding toward its server open between registrations.
public enum KeepAlive: Sendable, Hashable {
    case off
    /// A CRLF CRLF "ping" (RFC 5626 §4.4.1 style) this often.
    case crlf(every: Duration)
    /// An OPTIONS request this often (servers that ignore bare CRLFs answer these).
    case options(every: Duration)
}

/// One SIP account's network-facing settings beyond registration itself.
public struct AccountSettings: Sendable, Hashable {
    public var registration: RegistrationSettings
    /// The user part our Contact carries (the AOR's user by default).
    public var contactUser: String
    public var keepAlive: KeepAlive = .crlf(every: .seconds(25))
    /// Requests from anywhere but our servers (registrar / outbound proxy) are dropped without
    /// an answer — SIP scanners get nothing to ring and nothing to learn.
    public var acceptRequestsFromServersOnly = true
    /// RFC 3581: when the server sees us at another address (NAT), register that address as
    /// our Contact ("substitute Via address").
    public var useReceivedAddress = true
    public var timers = TransactionTimers()
    /// The Route toward a failover server that is a proxy (nil: it is a registrar).
    public var failoverRoute: String?
    /// How often, while a failover server serves the account, the first server is asked
    /// (OPTIONS) whether it is back.
    public var primaryCheck: Duration = .seconds(60)

    public init(registration: RegistrationSettings, contactUser: String) {
        self.registration = registration
        self.contactUser = contactUser
    }
}

/// One account on the wire: keeps it registered through its list of servers (RFC 3263
/// order, failover on timeout or 503; then the configured failover server's, and back to
/// the first as soon as it answers again), follows address changes (local, and NAT-reflexive via
/// `received`/`rport`), keeps the NAT binding open, and screens incoming requests. Runs on
/// the scheduler; the transport hands it messages with their source and sends what it asks.
public final class AccountAgent: @unchecked Sendable {
    public let scheduler: any Scheduler
    public private(set) var settings: AccountSettings
    /// Where requests go, in order; `serverIndex` is the one in use. The first
    /// `primaryCount` are the configured server's, the rest the failover server's.
    public private(set) var servers: [SIPNetworkAddress]
    public private(set) var serverIndex = 0
    public private(set) var primaryCount: Int
    /// A failover server serves the account now.
    public var onFailover: Bool { serverIndex >= primaryCount }
    /// The Route toward the configured server (its outbound proxy), kept while a failover
    /// server's is in use.
    let primaryRoute: String?
    /// The branch of the OPTIONS asking the first server whether it is back.
    var primaryProbe: String?
    /// Our address as the transport has it (the interface toward the server).
    public private(set) var localAddress: SIPNetworkAddress
    /// Our address as the server saw it, when NAT rewrote it.
    public private(set) var reflexiveAddress: SIPNetworkAddress?
    public let session: RegistrationSession
    let sendMessage: (SIPMessage, SIPNetworkAddress) -> Void
    let sendBytes: ([UInt8], SIPNetworkAddress) -> Void
    enum TimerKey: Hashable { case keepAlive, primaryCheck }
    lazy var timers = ActionTimers<TimerKey>(scheduler: scheduler)
    var running = false

    /// Requests dropped because they came from elsewhere than our servers.
    public private(set) var droppedRequests = 0
    /// Responses dropped because they did not come from where their request went (a forged
    /// 2xx would move our binding, a forged 401 burn the credential back-off).
    public private(set) var droppedResponses = 0
    /// Datagrams that did not parse; only our servers get a 400 for them.
    public private(set) var droppedMalformed = 0
    /// Where each recent request went, by its branch: a response is believed only from there.
    var requestDestinations: [String: SIPNetworkAddress] = [:]
    var requestOrder: [String] = []
    static let rememberedRequests = 128
    /// Requests answered with an error (not for us, or a method we do not serve).
    public private(set) var rejectedRequests = 0
    public var onStatus: ((RegistrationStatus) -> Void)?
    /// What an operator should read about this account (registration changes), as lines.
    public var onLog: ((String) -> Void)?
    /// A REGISTER went unanswered: a connection-oriented transport makes its connection again
    /// (RFC 5626 §4.4: a flow that carries no answers is treated as failed).
    public var onNoAnswer: (() -> Void)?
    /// The local address changed (after the new Contact went to the registrar): calls in
    /// progress refresh their target.
    public var onLocalAddressChanged: ((SIPNetworkAddress) -> Void)?
    /// Every server in the list failed to answer (or answered 503) in turn: what DNS said
    /// may be out of date — the endpoint looks the servers up again.
    public var onServersExhausted: (() -> Void)?
    /// Every message in and out, for traces and tests.
    public var onTrace: ((SIPMessage, _ outgoing: Bool, SIPNetworkAddress) -> Void)?
    /// Requests that passed screening and are not handled here (INVITE, NOTIFY, …).
    public var onRequest: ((SIPMessage, SIPNetworkAddress) -> Void)?
    /// Responses (all of them; the registration takes its own).
    public var onResponse: ((SIPMessage, SIPNetworkAddress) -> Void)?

    public init(settings: AccountSettings, servers: [SIPNetworkAddress], failoverServers: [SIPNetworkAddress] = [],
                localAddress: SIPNetworkAddress, scheduler: any Scheduler, seed: UInt64,
                send: @escaping (SIPMessage, SIPNetworkAddress) -> Void,
                sendBytes: @escaping ([UInt8], SIPNetworkAddress) -> Void) {
        precondition(!servers.isEmpty || !failoverServers.isEmpty, "an account needs at least one server address")
        var settings = settings
        self.servers = servers + failoverServers
        primaryCount = servers.count
        primaryRoute = settings.registration.route
        if servers.isEmpty { settings.registration.route = settings.failoverRoute }
        self.localAddress = localAddress
        self.scheduler = scheduler
        self.sendMessage = send
        self.sendBytes = sendBytes
        settings.registration.contact = Self.contact(user: settings.contactUser, at: localAddress, transport: settings.registration.transport)
        self.settings = settings
        let reliable = settings.registration.transport.isReliable
        var sendTo: ((SIPMessage) -> Void)?
        session = RegistrationSession(client: RegistrationClient(settings: settings.registration, seed: seed),
                                      scheduler: scheduler, reliable: reliable, timers: settings.timers) { m in sendTo?(m) }
        sendTo = { [weak self] m in self?.transmit(m) }
        session.failover = { [weak self] in self?.nextServer() ?? false }
        session.onNoAnswer = { [weak self] in self?.onNoAnswer?() }
        session.onReflexiveAddress = { [weak self] host, port in self?.reflexive(host: host, port: port) }
        session.onStatus = { [weak self] s in
            self?.statusChanged(s)
            self?.onStatus?(s)
        }
    }

    public var server: SIPNetworkAddress { servers[serverIndex] }
    public var contact: String { session.client.settings.contact }
    public var status: RegistrationStatus { session.client.status }
    /// No binding and nothing in flight (an unregistration finished, or never registered).
    public var isIdle: Bool { if case .idle = session.client.state { true } else { false } }

    public static func contact(user: String, at a: SIPNetworkAddress, transport: Transport) -> String {
        "sip:\(user)@\(a)" + transport.uriParameter
    }

    public func start() {
        running = true
        session.start()
    }

    public func stop() {
        running = false
        stopKeepAlive()
        timers.cancel(.primaryCheck)
        session.stop()
    }

    /// New account details (a reloaded configuration: user, password, expiry, …). The
    /// registration starts over with them when ``start()`` is next called.
    public func reconfigure(_ registration: RegistrationSettings, seed: UInt64) {
        var r = registration
        r.contact = contact
        settings.registration = r
        session.replaceClient(RegistrationClient(settings: r, seed: seed))
    }

    /// New server addresses (DNS answered differently). A registration with a server still
    /// listed stays where it is; otherwise the account registers with the first of the new
    /// list at once (a new server is a failover, which RFC 3263 makes without waiting out a
    /// back-off).
    /// `failover`: the list is the failover server's (its own DNS answer).
    public func replaceServers(_ new: [SIPNetworkAddress], failover: Bool = false) {
        let primary = Array(servers[..<primaryCount]), backup = Array(servers[primaryCount...])
        guard !new.isEmpty, new != (failover ? backup : primary) else { return }
        let current = server
        servers = failover ? primary + new : new + backup
        if !failover { primaryCount = new.count }
        let kept = servers.firstIndex(of: current)
        serverIndex = kept ?? 0
        useRoute()
        guard running else { return }
        onLog?("\(failover ? "failover " : "")servers now \(new.map(\.description).joined(separator: ", ")) (DNS answered differently)")
        if case .registered = status, kept != nil {
            if onFailover { checkPrimaryLater() }
            return
        }
        session.restart()
    }

    /// The connection to the server was made again (TCP): its bindings may be gone with it
    /// (a restarted server), so register again now — from the new address if it changed.
    public func reconnected(localAddress new: SIPNetworkAddress) {
        guard running else { return }
        if new != localAddress {
            localAddressChanged(new)
        } else {
            session.start()
        }
    }

    /// A connection-oriented transport connected to `server` (one of the configured server's
    /// addresses, or of the failover server's): requests go there, with its Route.
    public func connected(to server: SIPNetworkAddress, failover: Bool) {
        servers = [server]
        primaryCount = failover ? 0 : 1
        serverIndex = 0
        useRoute()
    }

    /// The interface toward the server has a new address (LTE reconnect): register the new
    /// Contact at once.
    public func localAddressChanged(_ new: SIPNetworkAddress) {
        guard new != localAddress else { return }
        localAddress = new
        reflexiveAddress = nil
        session.contactChanged(Self.contact(user: settings.contactUser, at: new, transport: settings.registration.transport))
        onLocalAddressChanged?(new)
    }

    /// A message from the transport with its source.
    public func receive(_ m: SIPMessage, from source: SIPNetworkAddress) {
        guard m.isRequest else {
            guard let branch = Self.topBranch(m), requestDestinations[branch] == source else {
                droppedResponses += 1
                return
            }
            onTrace?(m, false, source)
            if branch == primaryProbe {
                primaryAnswered()
                return
            }
            session.receive(m)
            onResponse?(m, source)
            return
        }
        guard case .request(let method, let uri) = m.startLine else { return }
        if settings.acceptRequestsFromServersOnly && !isServer(source) {
            droppedRequests += 1
            return
        }
        onTrace?(m, false, source)
        if method == .ack {
            onRequest?(m, source)
            return
        }
        let user = (try? SIPURI(uri))?.user
        let ours = [settings.contactUser, (try? SIPURI(session.client.settings.addressOfRecord))?.user ?? nil].compactMap { $0 }
        guard let user, ours.contains(user) else {
            rejectedRequests += 1
            reply(m, status: 404, reason: "Not Found", to: source)
            return
        }
        if method == .options && onRequest == nil {
            var r = SIPResponses.response(to: m, status: 200, reason: "OK")
            r.add("Allow", SIPRequests.allow)
            r.add("Accept", "application/sdp")
            r.add("Supported", SIPRequests.supported)
            transmit(r, to: source)
            return
        }
        if let onRequest { onRequest(m, source) } else {
            rejectedRequests += 1
            reply(m, status: 501, reason: "Not Implemented", to: source)
        }
    }

    /// A datagram that did not parse. Our server gets a 400 naming the fault (RFC 3261
    /// §8.2); anyone else gets nothing: an answer would fingerprint us and reflect traffic.
    public func receiveMalformed(_ bytes: [UInt8], error: SIPParseError, from source: SIPNetworkAddress) {
        droppedMalformed += 1
        guard isServer(source), let reply = SIPParser.badRequestResponse(to: bytes, error: error) else { return }
        transmit(reply, to: source)
    }

    func isServer(_ source: SIPNetworkAddress) -> Bool { servers.contains { $0.host == source.host } }

    static func topBranch(_ m: SIPMessage) -> String? {
        guard let v = m["Via"] else { return nil }
        return (try? Via(v))?.branch
    }

    func remember(_ request: SIPMessage, sentTo destination: SIPNetworkAddress) {
        guard let branch = Self.topBranch(request) else { return }
        if requestDestinations.updateValue(destination, forKey: branch) == nil { requestOrder.append(branch) }
        if requestOrder.count > Self.rememberedRequests {
            requestDestinations[requestOrder.removeFirst()] = nil
        }
    }

    func reply(_ m: SIPMessage, status: Int, reason: String, to: SIPNetworkAddress) {
        transmit(SIPResponses.response(to: m, status: status, reason: reason), to: to)
    }

    /// Sends a message to the current server (or `to`).
    public func transmit(_ m: SIPMessage, to: SIPNetworkAddress? = nil) {
        let dest = to ?? server
        if m.isRequest { remember(m, sentTo: dest) }
        onTrace?(m, true, dest)
        sendMessage(m, dest)
    }

    func nextServer() -> Bool {
        guard running, serverIndex + 1 < servers.count else {
            serverIndex = 0
            useRoute()
            if running { onServersExhausted?() }
            return false
        }
        serverIndex += 1
        if serverIndex == primaryCount { onLog?("every address of the server failed; trying the failover server \(server)") }
        useRoute()
        return true
    }

    /// The Route for the server in use: the configured proxy's, or the failover's.
    func useRoute() {
        let route = onFailover ? settings.failoverRoute : primaryRoute
        guard route != settings.registration.route else { return }
        settings.registration.route = route
        session.routeChanged(route)
    }

    /// While a failover server serves the account: ask the first server again later.
    func checkPrimaryLater() {
        guard running, onFailover, primaryCount > 0, !timers.isPending(.primaryCheck) else { return }
        timers.start(.primaryCheck, after: settings.primaryCheck) { [weak self] in self?.askPrimary() }
    }

    /// OPTIONS to the first server; any answer means it is back (`primaryAnswered`).
    func askPrimary() {
        guard running, onFailover, primaryCount > 0 else { return }
        let s = session.client.settings
        var m = SIPRequests.new(.options, uri: s.registrar, via: s.transport.via(fromContact: s.contact))
        if let primaryRoute { m.add("Route", primaryRoute) }
        m.add("From", "<\(s.addressOfRecord)>;tag=\(SecureRandom.token())")
        m.add("To", "<\(s.registrar)>")
        m.add("Call-ID", SecureRandom.token())
        m.add("CSeq", "1 OPTIONS")
        primaryProbe = Self.topBranch(m)
        transmit(m, to: servers[0])
        checkPrimaryLater()
    }

    /// The first server answered while a failover server served us: register there again
    /// (the failover server's binding runs out by itself).
    func primaryAnswered() {
        primaryProbe = nil
        guard running, onFailover, primaryCount > 0 else { return }
        timers.cancel(.primaryCheck)
        serverIndex = 0
        useRoute()
        onLog?("the first server \(server) answers again; registering there")
        session.restart()
    }

    func reflexive(host: String, port: Int?) {
        guard settings.useReceivedAddress, running else { return }
        let seen = SIPNetworkAddress(host, port ?? localAddress.port)
        let current = (try? SIPURI(contact)).map { SIPNetworkAddress($0.host.plain, $0.port ?? 5060) }
        guard seen != current else { return }
        reflexiveAddress = seen == localAddress ? nil : seen
        // Re-register at the address the server reaches us at.
        scheduler.schedule(after: .zero) { [weak self] in
            guard let self else { return }
            self.session.contactChanged(Self.contact(user: self.settings.contactUser, at: seen, transport: self.settings.registration.transport))
        }
    }

    func statusChanged(_ s: RegistrationStatus) {
        onLog?("registration: " + s.summary(now: scheduler.now.nanoseconds / 1_000_000_000))
        if s.inService, running {
            startKeepAlive()
            checkPrimaryLater()
        } else if case .registering = s {} else { stopKeepAlive() }
    }

    func startKeepAlive() {
        guard !timers.isPending(.keepAlive) else { return }
        let interval: Duration
        switch settings.keepAlive {
        case .off: return
        case .crlf(let every), .options(let every): interval = every
        }
        timers.start(.keepAlive, after: interval) { [weak self] in
            guard let self else { return }
            self.sendKeepAlive()
            self.startKeepAlive()
        }
    }

    func stopKeepAlive() {
        timers.cancel(.keepAlive)
    }

    func sendKeepAlive() {
        switch settings.keepAlive {
        case .off: break
        case .crlf: sendBytes(Array("\r\n\r\n".utf8), server)
        case .options:
            let s = session.client.settings
            var m = SIPRequests.new(.options, uri: s.registrar, via: s.transport.via(fromContact: s.contact))
            if let route = s.route { m.add("Route", route) }
            m.add("From", "<\(s.addressOfRecord)>;tag=\(SecureRandom.token())")
            m.add("To", "<\(s.registrar)>")
            m.add("Call-ID", SecureRandom.token())
            m.add("CSeq", "1 OPTIONS")
            transmit(m)
        }
    }
}
