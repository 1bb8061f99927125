import TipRingCore
public import SIPCore

/// One account's SIP user agent: registration (through its ``AccountAgent``), calls
/// (RFC 3261 dialogs, CANCEL, re-INVITE hold, RFC 4028 session timers, RFC 3262 reliable
/// provisionals), SDP offer/answer, INFO digits and message-waiting (RFC 3842). Runs on the
/// scheduler; the port controller drives it through ``UserAgent`` commands and events.
public final class SIPUserAgent: UserAgent, @unchecked Sendable {
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
    /// The calls in progress, each a pure ``SIPCall`` this agent carries out.
    var calls: [CallHandle: SIPCall] = [:]
    /// Calls placed for a transfer the far end asked for → the call it transferred.
    var transfers: [CallHandle: CallHandle] = [:]
    /// Our requests' transactions, by branch (a CANCEL's keyed apart), with what each is for.
    let clients: TransactionRunner<ClientTransaction, ClientContext>
    /// The transactions of requests we received, by branch and method, with their source.
    let servers: TransactionRunner<ServerTransaction, SIPNetworkAddress>
    lazy var timers = ActionTimers<String>(scheduler: scheduler)
    var random: SeededRandom
    var digest: DigestClient
    var mwi: Subscription?
    /// The local tag of the subscription last ended: its final NOTIFY still gets a 200.
    var endedSubscriptionTag: String?

    struct ClientContext {
        var purpose: Purpose
        var destination: SIPNetworkAddress
    }

    enum Purpose: Equatable {
        case call(CallHandle, CallRequest)
        case subscribe
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

    public init(agent: AccountAgent, settings: CallSettings = CallSettings(), seed: UInt64 = 1) {
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
        agent.onLocalAddressChanged = { [weak self] _ in self?.refreshTargets() }
    }

    /// Takes the account's (reloaded) credentials for calls too.
    public func updateCredentials() {
        digest = DigestClient(username: agent.settings.registration.authUser, password: agent.settings.registration.password.value)
    }

    // MARK: UserAgent

    /// Handles for incoming calls; an agent on its own (a tool, a test) numbers its calls
    /// itself, one in a port is given the port's numbering (``PortController``).
    public var newCallHandle: () -> CallHandle = {
        var own = CallHandles()
        return { own.next() }
    }()

    public func execute(_ command: UserAgentCommand) {
        let ctx = context
        switch command {
        case .register: agent.start()
        case .unregister:
            for h in activeCalls { update(h) { $0.hangUp(context: ctx) } }
            unsubscribe()
            agent.stop()
        case .invite(let h, let target, let withhold):
            let (call, actions) = SIPCall.placing(h, to: target, withholdIdentity: withhold, addressOfRecord: aor, settings: settings,
                                                  localPort: mediaPort(h), sessionID: random.next() >> 20, seed: random.next(), context: ctx)
            if let call { calls[h] = call }
            perform(actions, for: h)
        case .cancel(let h): update(h) { $0.cancel(context: ctx) }
        case .answer(let h): update(h) { $0.answer(context: ctx) }
        case .reject(let h, let status): update(h) { $0.reject(status: status, context: ctx) }
        case .redirect(let h, let target):
            let uri = SIPCall.targetURI(target, addressOfRecord: aor)
            update(h) { $0.redirect(to: uri, context: ctx) }
        case .hangUp(let h): update(h) { $0.hangUp(context: ctx) }
        case .hold(let h): update(h) { $0.changeDirection(to: .sendonly, context: ctx) }
        case .resume(let h): update(h) { $0.changeDirection(to: .sendrecv, context: ctx) }
        case .sendDigit(let h, let digit, let ms): update(h) { $0.sendDigit(digit, milliseconds: ms, context: ctx) }
        case .useVoicebandCodec(let h): update(h) { $0.useVoicebandCodec(context: ctx) }
        case .acceptTransfer(let h, let newCall):
            transfers[newCall] = h
            update(h) { $0.notifyTransfer(status: 100, reason: "Trying", final: false, context: ctx) }
        case .declineTransfer(let h):
            update(h) { $0.notifyTransfer(status: 603, reason: "Declined", final: true, context: ctx) }
        case .transfer(let h, let other, let attended):
            guard let target = calls[other]?.transferTarget(attended: attended) else {
                // The party to transfer to is gone (or was never reached): nothing to refer to.
                return emit(.transferEnded(h, status: 481))
            }
            update(h) { $0.refer(to: target, context: ctx) }
        }
    }

    /// A call placed for a transfer the far end asked for: its progress goes to that far end
    /// (RFC 3515 §2.4.5) — ringing, then the final answer, which ends the subscription.
    func reportTransfer(_ e: UserAgentEvent) {
        let progress: (CallHandle, Int, String, Bool)?
        switch e {
        case .ringing(let h): progress = (h, 180, "Ringing", false)
        case .answered(let h): progress = (h, 200, "OK", true)
        case .ended(let h, .failed(let status, let reason)): progress = (h, status, reason.isEmpty ? "Failed" : reason, true)
        case .ended(let h, .timeout): progress = (h, 408, "Request Timeout", true)
        case .ended(let h, _): progress = (h, 487, "Request Terminated", true)
        default: progress = nil
        }
        guard let (h, status, reason, final) = progress, let transferred = transfers[h] else { return }
        if final { transfers[h] = nil }
        let ctx = context
        update(transferred) { $0.notifyTransfer(status: status, reason: String(reason.prefix(80)), final: final, context: ctx) }
    }

    /// Our address moved: every established call tells its far end (re-INVITE).
    func refreshTargets() {
        let ctx = context
        for h in activeCalls { update(h) { $0.refreshTarget(context: ctx) } }
    }

    /// The calls in progress (for status and invariants).
    public var activeCalls: [CallHandle] { calls.keys.sorted { $0.id < $1.id } }

    /// Calls given up before their answer and waiting for the far end (bounded in time:
    /// RFC 3261 §9.1); the port is done with them already.
    public var callsBeingGivenUp: [CallHandle] { calls.filter { $0.value.isBeingGivenUp }.keys.sorted { $0.id < $1.id } }

    /// Client and server transactions not yet over (each ends by its own timers; a count that
    /// only grows is a leak).
    public var openTransactions: Int { clients.keys.count + servers.keys.count }

    /// Who a call is with: the far end's address of record (the To of an outgoing call — or
    /// where a redirect sent it — the From of an incoming one) and display name.
    public func peer(of h: CallHandle) -> CallPeer? {
        guard let c = calls[h] else { return nil }
        if let moved = c.redirectedTo { return CallPeer(uri: moved, displayName: nil, outgoing: c.outgoing) }
        let party = try? NameAddress(c.remoteParty)
        return CallPeer(uri: party?.uri ?? c.remoteParty, displayName: party?.displayName, outgoing: c.outgoing)
    }

    /// The agreed media of a call, if any.
    public func media(of h: CallHandle) -> MediaSession? { calls[h]?.media }

    // MARK: carrying out calls

    var aor: String { agent.settings.registration.addressOfRecord }
    var contactURI: String { agent.contact }
    var transport: Transport { agent.settings.registration.transport }

    /// What a call needs of the account, as it is now.
    var context: CallContext {
        CallContext(contact: contactURI, transport: transport, timers: agent.settings.timers, server: agent.server,
                    route: agent.settings.registration.route, minimumDigest: agent.settings.registration.minimumDigest,
                    mediaHost: (try? SIPURI(contactURI)).map(\.host.plain) ?? agent.localAddress.host,
                    mediaSendsDigits: onSendDigit != nil)
    }

    /// Gives a call an event and carries out what it returns. The call is stored (or
    /// forgotten, once over) first: an event handler may already command it again.
    func update(_ h: CallHandle, _ event: (inout SIPCall) -> [CallAction]) {
        guard var c = calls[h] else { return }
        let actions = event(&c)
        calls[h] = c.isOver ? nil : c
        perform(actions, for: h)
        // An INVITE still waiting for its final response when its call gave up (the CANCEL's
        // 64·T1 ran out) would wait for ever: it goes with the call.
        if c.isOver { clients.remove { if case .call(h, .invite) = $0.purpose { true } else { false } } }
    }

    func perform(_ actions: [CallAction], for h: CallHandle) {
        for action in actions {
            switch action {
            case .request(let m, let purpose, let destination):
                startClient(m, purpose: .call(h, purpose), to: destination)
            case .transmit(let m, let destination):
                agent.transmit(m, to: destination)
            case .respond(let r, let destination):
                respond(r, to: destination)
            case .startTimer(let t, let delay):
                timers.start(Self.timerKey(h, t), after: delay) { [weak self] in
                    guard let self else { return }
                    let ctx = self.context
                    self.update(h) { $0.timerFired(t, context: ctx) }
                }
            case .cancelTimer(let t):
                timers.cancel(Self.timerKey(h, t))
            case .event(let e):
                emit(e)
            case .media(let session):
                onMedia?(h, session)
            case .sendDigit(let digit, let ms):
                onSendDigit?(h, digit, ms)
            }
        }
    }

    static func timerKey(_ h: CallHandle, _ t: CallTimer) -> String { "\(h.id) \(t)" }

    func via() -> String { transport.via(fromContact: contactURI) }

    func addContact(_ m: inout SIPMessage) {
        m.add("Contact", "<\(contactURI)>")
    }

    /// Starts a client transaction; a CANCEL shares its INVITE's branch but is its own
    /// transaction, so it is keyed apart.
    func startClient(_ m: SIPMessage, purpose: Purpose, to dest: SIPNetworkAddress) {
        guard let t = try? ClientTransaction(request: m, reliable: transport.isReliable, timers: agent.settings.timers) else { return }
        var key: String?
        if case .call(_, .cancel) = purpose { key = t.branch + "-cancel" }
        clients.add(t, key: key, context: ClientContext(purpose: purpose, destination: dest))
    }

    func clientAction(_ action: TransactionAction, _ context: ClientContext) {
        switch action {
        case .send(let m): agent.transmit(m, to: context.destination)
        case .deliver(let m): clientResponse(m, purpose: context.purpose)
        case .timeout: clientTimeout(context.purpose)
        case .terminated, .startTimer, .cancelTimer: break  // the runner's
        }
    }

    /// A response to send: through its request's server transaction; without one (a stray
    /// request), straight to `destination`.
    func respond(_ r: SIPMessage, to destination: SIPNetworkAddress) {
        if !servers.feed(serverKey(r), { $0.respond(r, now: scheduler.now) }) {
            agent.transmit(r, to: destination)
        }
    }

    /// A response to a request outside any call, back to where it came from.
    func respond(_ request: SIPMessage, status: Int, reason: String, toTag: String? = nil, headers: [(String, String)] = []) {
        var r = SIPResponses.response(to: request, status: status, reason: reason, toTag: toTag)
        for (n, v) in headers { r.add(n, v) }
        if let source = lastSource { respond(r, to: source) }
    }

    var lastSource: SIPNetworkAddress?

    func serverKey(_ m: SIPMessage) -> String {
        let branch = (try? Via(m["Via"] ?? "").branch) ?? nil ?? ""
        let method = m.method == .ack ? SIPMethod.invite : (m.method ?? (try? CSeq(m["CSeq"] ?? ""))?.method ?? .invite)
        return branch + " " + method.rawValue
    }

    func schedule(_ key: String, after: Duration, _ body: @escaping () -> Void) { timers.start(key, after: after, body) }

    func cancelTimer(_ key: String) { timers.cancel(key) }

    func emit(_ e: UserAgentEvent) {
        if !transfers.isEmpty { reportTransfer(e) }
        onEvent?(e)
    }
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
