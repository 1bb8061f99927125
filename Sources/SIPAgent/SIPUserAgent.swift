import TipRingCore
public import SIPCore

/// One account's SIP user agent: registration (through its ``AccountAgent``), calls
/// (RFC 3261 dialogs, CANCEL, re-INVITE hold, RFC 4028 session timers, RFC 3262 reliable
/// provisionals), SDP offer/answer, INFO digits and message-waiting (RFC 3842). Runs on the
/// scheduler; the port controller drives it through ``UserAgent`` commands and events.
public final class SIPUserAgent: UserAgent, @unchecked Sendable {
    public let account: String
    public let agent: AccountAgent
    public var settings: CallSettings
    public var onEvent: ((UserAgentEvent) -> Void)?
    /// The media of a call changed (answer, hold, resume, address change); nil when it ended.
    public var onMedia: ((CallHandle, MediaSession?) -> Void)?
    /// A digit to send in a call as RFC 4733 events or in-band tones (the media layer's job).
    public var onSendDigit: ((CallHandle, Character, Int) -> Void)?
    /// The local RTP port for a call's media (the media layer allocates it).
    public var mediaPort: (CallHandle) -> Int = { _ in 4000 }

    var scheduler: any Scheduler { agent.scheduler }
    var calls: [CallHandle: Call] = [:]
    /// Our requests' transactions, by branch (a CANCEL's keyed apart), with what each is for.
    let clients: TransactionRunner<ClientTransaction, ClientContext>
    /// The transactions of requests we received, by branch and method, with their source.
    let servers: TransactionRunner<ServerTransaction, SIPNetworkAddress>
    lazy var timers = ActionTimers<String>(scheduler: scheduler)
    var nextHandle: UInt64 = 0
    var random: SeededRandom
    var digest: DigestClient
    var mwi: Subscription?
    /// The local tag of the subscription last ended: its final NOTIFY still gets a 200.
    var endedSubscriptionTag: String?

    struct ClientContext {
        var handle: CallHandle?
        var purpose: Purpose
        var destination: SIPNetworkAddress
    }

    enum Purpose: Equatable { case invite, reinvite, cancel, bye, prack, info, update, subscribe, other }

    enum CallState: Equatable { case calling, early, incoming, confirmed, ended }

    final class Call {
        let handle: CallHandle
        let outgoing: Bool
        let callID: String
        let localTag: String
        var remoteTag: String?
        var localParty: String
        var remoteParty: String
        var remoteTarget: String
        var routeSet: [String] = []
        var localCSeq: UInt32 = 0
        var remoteCSeq: UInt32 = 0
        var state: CallState
        var destination: SIPNetworkAddress
        // Outgoing INVITE.
        var invite: SIPMessage?
        var inviteBranch: String?
        var provisional = false
        var cancelWanted = false
        var cancelled = false
        var authAnswered = false
        var withhold = false
        // Incoming INVITE.
        var incomingInvite: SIPMessage?
        var incomingKey: String?
        var ok: SIPMessage?
        var okInterval: Duration = .zero
        var reliable180: SIPMessage?
        var rseqInterval: Duration = .zero
        var lateOffer = false
        // Media.
        var local: SessionDescription
        var remote: SessionDescription?
        var wanted: MediaDirection = .sendrecv
        var reinvitePending = false
        var pendingDirection: MediaDirection?
        // RFC 4028.
        var sessionInterval = 0
        var weRefresh = false
        var lastRSeq: UInt32?

        init(handle: CallHandle, outgoing: Bool, callID: String, localTag: String, localParty: String, remoteParty: String,
             remoteTarget: String, state: CallState, destination: SIPNetworkAddress, local: SessionDescription) {
            self.handle = handle
            self.outgoing = outgoing
            self.callID = callID
            self.localTag = localTag
            self.localParty = localParty
            self.remoteParty = remoteParty
            self.remoteTarget = remoteTarget
            self.state = state
            self.destination = destination
            self.local = local
        }
    }

    struct Subscription {
        var callID: String
        var localTag: String
        var remoteTag: String?
        var cseq: UInt32 = 0
        var active = false
        /// What the last SUBSCRIBE asked for (0: ending it); a challenged one is sent again alike.
        var expires = 0
        /// Challenges answered for the current request.
        var challenges = 0
        /// The notifier's Contact (from the 2xx, refreshed by each NOTIFY): where requests
        /// within the subscription go (RFC 6665 §4.1.2.1).
        var remoteTarget: String?
        /// The dialog's route set (the 2xx's Record-Route, reversed).
        var routeSet: [String] = []
    }

    public init(account: String, agent: AccountAgent, settings: CallSettings = CallSettings(), seed: UInt64 = 1) {
        self.account = account
        self.agent = agent
        var settings = settings
        // In-band DTMF: the tones stay in the audio; no telephone-event is offered.
        if settings.dtmf == .inband { settings.media.telephoneEvent = false }
        self.settings = settings
        random = SeededRandom(seed: seed ^ 0xCA11)
        digest = DigestClient(username: agent.settings.registration.authUser, password: agent.settings.registration.password.value)
        clients = TransactionRunner(scheduler: agent.scheduler)
        servers = TransactionRunner(scheduler: agent.scheduler)
        clients.perform = { [weak self] action, _, context in self?.clientAction(action, context) }
        servers.perform = { [weak self] action, _, source in
            // A server transaction only ever sends (retransmitted responses); what it receives
            // first is handled where it arrived.
            if case .send(let m) = action { self?.agent.transmit(m, to: source) }
        }
        agent.onRequest = { [weak self] m, from in self?.request(m, from: from) }
        agent.onResponse = { [weak self] m, from in self?.response(m, from: from) }
        agent.onStatus = { [weak self] s in self?.registrationChanged(s) }
    }

    /// Takes the account's (reloaded) credentials for calls too.
    public func updateCredentials() {
        digest = DigestClient(username: agent.settings.registration.authUser, password: agent.settings.registration.password.value)
    }

    // MARK: UserAgent

    public func makeCallHandle() -> CallHandle {
        nextHandle += 1
        return CallHandle(id: nextHandle)
    }

    public func execute(_ command: UserAgentCommand) {
        switch command {
        case .register: agent.start()
        case .unregister:
            for h in Array(calls.keys) { end(h) }
            unsubscribe()
            agent.stop()
        case .invite(let h, _, let target, let withhold): invite(h, target: target, withhold: withhold)
        case .cancel(let h): cancel(h)
        case .answer(let h): answer(h)
        case .reject(let h, let status): reject(h, status: status)
        case .hangUp(let h): end(h)
        case .hold(let h): reinvite(h, direction: .sendonly)
        case .resume(let h): reinvite(h, direction: .sendrecv)
        case .sendDigit(let h, let digit, let ms): sendDigit(h, digit, ms)
        }
    }

    /// The calls in progress (for status and invariants).
    public var activeCalls: [CallHandle] { calls.keys.sorted { $0.id < $1.id } }

    /// Who a call is with: the far end's address of record (the To of an outgoing call, the
    /// From of an incoming one) and display name.
    public func peer(of h: CallHandle) -> CallPeer? {
        guard let c = calls[h] else { return nil }
        let party = try? NameAddress(c.remoteParty)
        return CallPeer(uri: party?.uri ?? c.remoteParty, displayName: party?.displayName, outgoing: c.outgoing)
    }

    /// The agreed media of a call, if any.
    public func media(of h: CallHandle) -> MediaSession? {
        guard let c = calls[h], let remote = c.remote else { return nil }
        return session(local: c.local, remote: remote)
    }

    // MARK: building requests

    var aor: String { agent.settings.registration.addressOfRecord }
    var contactURI: String { agent.contact }
    var localHost: String { (try? SIPURI(contactURI)).map { "\($0.host)" } ?? agent.localAddress.host }
    var transport: Transport { agent.settings.registration.transport }

    func token() -> String { SecureRandom.token() }

    func via() -> String { transport.via(fromContact: contactURI) }

    /// A request inside a call's dialog (RFC 3261 §12.2.1.1).
    func dialogRequest(_ c: Call, _ method: SIPMethod, cseq: UInt32? = nil) -> SIPMessage {
        var m = SIPRequests.new(method, uri: c.remoteTarget, via: via())
        for r in c.routeSet { m.add("Route", r) }
        m.add("From", c.localParty + ";tag=\(c.localTag)")
        m.add("To", c.remoteParty + (c.remoteTag.map { ";tag=\($0)" } ?? ""))
        m.add("Call-ID", c.callID)
        if let cseq { m.add("CSeq", "\(cseq) \(method)") } else {
            c.localCSeq += 1
            m.add("CSeq", "\(c.localCSeq) \(method)")
        }
        m.add("User-Agent", "TipRing")
        return m
    }

    func addContact(_ m: inout SIPMessage) {
        m.add("Contact", "<\(contactURI)>")
    }

    func withBody(_ m: inout SIPMessage, _ sdp: SessionDescription) {
        m.add("Content-Type", "application/sdp")
        m.body = sdp.serialized()
    }

    /// Where an in-dialog request goes: the first route, else the remote target, when either
    /// is a numeric address; otherwise the server.
    func destination(for c: Call) -> SIPNetworkAddress {
        let first = c.routeSet.first.flatMap { try? NameAddress($0) }?.uri ?? c.remoteTarget
        if let u = try? SIPURI(first), ServerLocator.isIPv4Literal("\(u.host)") {
            return SIPNetworkAddress("\(u.host)", u.port ?? 5060)
        }
        return agent.server
    }

    func startClient(_ m: SIPMessage, handle: CallHandle?, purpose: Purpose, to dest: SIPNetworkAddress) {
        guard let t = try? ClientTransaction(request: m, reliable: transport.isReliable, timers: agent.settings.timers) else { return }
        clients.add(t, context: ClientContext(handle: handle, purpose: purpose, destination: dest))
    }

    func clientAction(_ action: TransactionAction, _ context: ClientContext) {
        switch action {
        case .send(let m): agent.transmit(m, to: context.destination)
        case .deliver(let m): clientResponse(m, entry: context)
        case .timeout: clientTimeout(context)
        case .terminated, .startTimer, .cancelTimer: break  // the runner's
        }
    }

    func respond(_ request: SIPMessage, status: Int, reason: String, toTag: String? = nil, headers: [(String, String)] = [], body: SessionDescription? = nil) {
        var r = SIPResponses.response(to: request, status: status, reason: reason, toTag: toTag)
        for (n, v) in headers { r.add(n, v) }
        if let body { withBody(&r, body) }
        // Through the request's server transaction; without one (a stray request), straight back.
        if !servers.feed(serverKey(request), { $0.respond(r, now: scheduler.now) }), let source = lastSource {
            agent.transmit(r, to: source)
        }
    }

    var lastSource: SIPNetworkAddress?

    func serverKey(_ m: SIPMessage) -> String {
        let branch = (try? Via(m["Via"] ?? "").branch) ?? nil ?? ""
        let method = m.method == .ack ? SIPMethod.invite : (m.method ?? (try? CSeq(m["CSeq"] ?? ""))?.method ?? .invite)
        return branch + " " + method.rawValue
    }

    func schedule(_ key: String, after: Duration, _ body: @escaping () -> Void) { timers.start(key, after: after, body) }

    func cancelTimer(_ key: String) { timers.cancel(key) }

    func emit(_ e: UserAgentEvent) { onEvent?(e) }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}

/// The other end of a call.
public struct CallPeer: Sendable, Hashable {
    public var uri: String
    public var displayName: String?
    public var outgoing: Bool
}
