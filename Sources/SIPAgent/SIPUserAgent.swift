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

    // MARK: outgoing calls

    func invite(_ h: CallHandle, target: String, withhold: Bool) {
        let domain = (try? SIPURI(aor)).map { "\($0.host)" } ?? "invalid"
        let requestURI: String
        if target.hasPrefix("sip:") || target.hasPrefix("sips:") || target.hasPrefix("tel:") { requestURI = target } else { requestURI = "sip:\(target)@\(domain)" }
        guard (try? SIPURI(requestURI)) != nil else {
            emit(.ended(h, .failed(status: 484, reason: "Address Incomplete")))
            return
        }
        let from: String
        if withhold {
            from = "\"Anonymous\" <sip:anonymous@anonymous.invalid>"
        } else {
            from = (settings.displayName.map { "\"\($0)\" " } ?? "") + "<\(aor)>"
        }
        let local = settings.media.offer(address: localHost, port: mediaPort(h))
        let c = Call(handle: h, outgoing: true, callID: token() + "@tipring", localTag: token(), localParty: from,
                     remoteParty: "<\(requestURI)>", remoteTarget: requestURI, state: .calling, destination: agent.server, local: local)
        c.withhold = withhold
        c.local.sessionID = random.next() >> 20
        c.local.version = c.local.sessionID
        calls[h] = c
        sendInvite(c, authorization: nil)
    }

    func sendInvite(_ c: Call, authorization: (String, String)?) {
        var m = dialogRequest(c, .invite)
        if let route = agent.settings.registration.route, c.routeSet.isEmpty { m.set("Route", route) }
        addContact(&m)
        if c.withhold {
            m.add("Privacy", "id")
            m.add("P-Preferred-Identity", "<\(aor)>")
        }
        m.add("Allow", SIPRequests.allow)
        if settings.requireReliableProvisional {
            m.add("Require", "100rel")
            m.add("Supported", "timer")
        } else {
            m.add("Supported", SIPRequests.supported)
        }
        if settings.sessionExpires > 0 {
            m.add("Session-Expires", "\(settings.sessionExpires)")
            m.add("Min-SE", "\(settings.minSessionExpires)")
        }
        if let (n, v) = authorization { m.add(n, v) }
        withBody(&m, c.local)
        c.invite = m
        c.inviteBranch = (try? Via(m["Via"] ?? "").branch) ?? nil
        c.provisional = false
        startClient(m, handle: c.handle, purpose: .invite, to: agent.server)
    }

    func cancel(_ h: CallHandle) {
        guard let c = calls[h] else { return }
        if c.outgoing, c.state == .calling || c.state == .early {
            c.cancelWanted = true
            if c.provisional { sendCancel(c) }
            return
        }
        end(h)
    }

    func sendCancel(_ c: Call) {
        guard let inv = c.invite, !c.cancelled, let m = SIPRequests.derived(.cancel, from: inv, to: inv["To"]) else { return }
        c.cancelled = true
        // The CANCEL shares the INVITE's branch but is its own transaction: key it apart.
        guard let t = try? ClientTransaction(request: m, reliable: transport.isReliable, timers: agent.settings.timers) else { return }
        clients.add(t, key: t.branch + "-cancel", context: ClientContext(handle: c.handle, purpose: .cancel, destination: agent.server))
    }

    /// A response from the network: to its client transaction (CANCELs keyed apart), or a
    /// retransmitted 2xx of an INVITE whose transaction is over — ACKed again.
    func response(_ m: SIPMessage, from source: SIPNetworkAddress) {
        guard let top = m["Via"], let branch = try? Via(top).branch else { return }
        let method = (try? CSeq(m["CSeq"] ?? ""))?.method
        let key = method == .cancel ? branch + "-cancel" : branch
        guard clients.feed(key, { $0.receive(m, now: scheduler.now) }) else {
            if method == .invite, let s = m.status, (200...299).contains(s), let c = call(for: m), c.state == .confirmed,
               let cseq = try? CSeq(m["CSeq"] ?? "") {
                sendAck(c, cseq: cseq.sequence)
            }
            return
        }
    }

    func clientResponse(_ m: SIPMessage, entry e: ClientContext) {
        guard let status = m.status else { return }
        if e.purpose == .subscribe { return subscribeResponse(m) }
        guard let h = e.handle, let c = calls[h] else {
            // A 2xx to an INVITE of a call already gone: ACK and BYE it (RFC 3261 §15).
            return
        }
        switch e.purpose {
        case .invite: inviteResponse(m, status: status, call: c)
        case .reinvite: reinviteResponse(m, status: status, call: c)
        case .bye, .cancel, .info, .update, .other, .subscribe: break
        case .prack: break
        }
    }

    func clientTimeout(_ e: ClientContext) {
        guard let h = e.handle, let c = calls[h] else { return }
        switch e.purpose {
        case .invite: finish(c, .timeout)
        case .reinvite:
            // No answer to a re-INVITE: the dialog is gone (RFC 3261 §14.1).
            c.reinvitePending = false
            sendBye(c)
            finish(c, .timeout)
        case .bye: finish(c, .localHangUp)
        default: break
        }
    }

    func inviteResponse(_ m: SIPMessage, status: Int, call c: Call) {
        switch status {
        case 100: return
        case 101...199:
            if let tag = (try? NameAddress(m["To"] ?? ""))?.tag {
                c.remoteTag = tag
                // The early dialog's route set (RFC 3261 §12.1.2), for PRACK and UPDATE.
                c.routeSet = m.values("Record-Route").reversed()
            }
            c.provisional = true
            if c.cancelWanted { sendCancel(c); return }
            // RFC 3262: a reliable provisional response is PRACKed.
            if (m["Require"] ?? "").lowercased().contains("100rel"), let rseqText = m["RSeq"], let rseq = ASCIIDecimal.exact(rseqText.trimmingSpaces(), in: HeaderNumbers.rseq).map(UInt32.init) {
                if c.lastRSeq.map({ rseq > $0 }) ?? true {
                    c.lastRSeq = rseq
                    updateTarget(c, from: m)
                    var p = dialogRequest(c, .prack)
                    if let cs = m["CSeq"] { p.add("RAck", "\(rseq) \(cs)") }
                    startClient(p, handle: c.handle, purpose: .prack, to: destination(for: c))
                }
            }
            if !m.body.isEmpty, let sdp = try? SessionDescription.parse(m.body), settings.media.accept(answer: sdp) {
                c.remote = sdp
                c.state = .early
                mediaChanged(c)
                emit(.earlyMedia(c.handle))
            } else if status == 180 || status == 181 || status == 182 {
                if c.state == .calling { c.state = .early }
                emit(.ringing(c.handle))
            }
        case 200...299:
            c.remoteTag = (try? NameAddress(m["To"] ?? ""))?.tag ?? c.remoteTag
            updateTarget(c, from: m)
            c.routeSet = m.values("Record-Route").reversed()
            c.destination = destination(for: c)
            sendAck(c, cseq: (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? c.localCSeq)
            if c.cancelled || c.cancelWanted {
                // The 200-versus-CANCEL race: the call was answered as we gave up.
                sendBye(c)
                finish(c, .localHangUp)
                return
            }
            if !m.body.isEmpty {
                guard let sdp = try? SessionDescription.parse(m.body), settings.media.accept(answer: sdp) else {
                    sendBye(c)
                    finish(c, .failed(status: 488, reason: "the answer's SDP is unusable"))
                    return
                }
                c.remote = sdp
            }
            c.state = .confirmed
            startSessionTimer(c, response: m)
            mediaChanged(c)
            emit(.answered(c.handle))
        case 401 where c.cancelWanted, 407 where c.cancelWanted, 422 where c.cancelWanted:
            // Given up before the network even took the call: no second attempt.
            finish(c, .localHangUp)
        case 401, 407:
            let header = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
            guard !c.authAnswered, let ch = DigestChallenge.preferred(m.values(header), minimum: agent.settings.registration.minimumDigest) else {
                finish(c, .failed(status: 403, reason: "authentication failed"))
                return
            }
            c.authAnswered = true
            let uri: String
            if case .request(_, let u) = c.invite?.startLine { uri = u } else { uri = c.remoteTarget }
            let value = digest.authorization(for: ch, method: .invite, uri: uri)
            sendInvite(c, authorization: (status == 401 ? "Authorization" : "Proxy-Authorization", value))
        case 422:
            if let v = HeaderNumbers.deltaSeconds(m["Min-SE"], in: HeaderNumbers.sessionInterval), v > settings.sessionExpires, v < HeaderNumbers.sessionInterval.upperBound {
                settings.sessionExpires = v
                c.authAnswered = false
                sendInvite(c, authorization: nil)
            } else {
                finish(c, .failed(status: 422, reason: "Session Interval Too Small"))
            }
        default:
            if c.cancelled || c.cancelWanted { finish(c, .localHangUp); return }
            let reason: String
            if case .response(_, let r) = m.startLine { reason = r } else { reason = "" }
            finish(c, .failed(status: status, reason: reason))
        }
    }

    func updateTarget(_ c: Call, from m: SIPMessage) {
        if let contact = m["Contact"], let n = try? NameAddress(contact) { c.remoteTarget = n.uri }
    }

    func sendAck(_ c: Call, cseq: UInt32) {
        var a = dialogRequest(c, .ack, cseq: cseq)
        if c.lateOffer { withBody(&a, c.local) }
        agent.transmit(a, to: destination(for: c))
    }

    func sendBye(_ c: Call) {
        let m = dialogRequest(c, .bye)
        startClient(m, handle: nil, purpose: .bye, to: destination(for: c))
    }

    /// Ends a call locally: CANCEL before an answer, BYE after, a rejection when incoming.
    func end(_ h: CallHandle) {
        guard let c = calls[h] else { return }
        switch c.state {
        case .calling, .early:
            if c.outgoing { cancel(h) } else { reject(h, status: 480) }
        case .incoming:
            reject(h, status: 480)
        case .confirmed:
            sendBye(c)
            finish(c, .localHangUp)
        case .ended:
            break
        }
    }

    func finish(_ c: Call, _ reason: CallEndReason) {
        guard c.state != .ended else { return }
        c.state = .ended
        for k in ["ok", "rel", "se", "sx"] { cancelTimer(k + c.callID) }
        calls[c.handle] = nil
        onMedia?(c.handle, nil)
        emit(.ended(c.handle, reason))
    }

    // MARK: hold, resume, re-INVITE

    func reinvite(_ h: CallHandle, direction: MediaDirection) {
        guard let c = calls[h], c.state == .confirmed else { return }
        if c.reinvitePending {
            c.pendingDirection = direction
            return
        }
        c.wanted = direction
        c.local.direction = direction
        c.local.version += 1
        sendReinvite(c)
    }

    func sendReinvite(_ c: Call) {
        var m = dialogRequest(c, .invite)
        addContact(&m)
        m.add("Supported", SIPRequests.supported)
        if c.sessionInterval > 0 {
            m.add("Session-Expires", "\(c.sessionInterval);refresher=\(c.outgoing ? "uac" : "uas")")
        }
        withBody(&m, c.local)
        c.reinvitePending = true
        startClient(m, handle: c.handle, purpose: .reinvite, to: destination(for: c))
    }

    func reinviteResponse(_ m: SIPMessage, status: Int, call c: Call) {
        guard status >= 200 else { return }
        c.reinvitePending = false
        if (200...299).contains(status) {
            sendAck(c, cseq: (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? c.localCSeq)
            updateTarget(c, from: m)
            if !m.body.isEmpty, let sdp = try? SessionDescription.parse(m.body) { c.remote = sdp }
            restartSessionTimer(c)
            mediaChanged(c)
        } else if status == 481 || status == 408 {
            sendBye(c)
            finish(c, .remoteHangUp)
            return
        } else if status == 491 {
            // Glare: try again after a random 2.1–4 s (RFC 3261 §14.1).
            let wait = Duration.milliseconds(2100 + Int64(random.next() % 1900))
            schedule("rx" + c.callID, after: wait) { [weak self, weak c] in
                guard let self, let c, c.state == .confirmed else { return }
                self.sendReinvite(c)
            }
            return
        }
        if let next = c.pendingDirection {
            c.pendingDirection = nil
            reinvite(c.handle, direction: next)
        }
    }

    // MARK: RFC 4028 session timers

    func startSessionTimer(_ c: Call, response m: SIPMessage) {
        guard let se = m["Session-Expires"] else { return }
        let parts = se.split(separator: ";").map { $0.trimmingSpaces() }
        guard let interval = HeaderNumbers.deltaSeconds(se, in: HeaderNumbers.sessionInterval) else { return }
        let refresher = parts.dropFirst().first { $0.lowercased().hasPrefix("refresher=") }?.dropFirst(10).lowercased() ?? "uac"
        c.sessionInterval = interval
        c.weRefresh = (refresher == "uac") == c.outgoing
        restartSessionTimer(c)
    }

    func restartSessionTimer(_ c: Call) {
        guard c.sessionInterval > 0 else { return }
        let interval = Int64(c.sessionInterval)
        if c.weRefresh {
            schedule("se" + c.callID, after: .seconds(interval / 2)) { [weak self, weak c] in
                guard let self, let c, c.state == .confirmed else { return }
                if c.reinvitePending { return self.restartSessionTimer(c) }
                self.sendReinvite(c)
            }
        } else {
            // No refresh by the end of the interval (less a margin): the session is dead.
            schedule("sx" + c.callID, after: .seconds(interval - min(32, interval / 3))) { [weak self, weak c] in
                guard let self, let c, c.state == .confirmed else { return }
                self.sendBye(c)
                self.finish(c, .timeout)
            }
        }
    }

    // MARK: incoming requests

    func request(_ m: SIPMessage, from source: SIPNetworkAddress) {
        guard case .request(let method, _) = m.startLine else { return }
        lastSource = source
        // Retransmissions go to their server transaction.
        if method != .ack {
            if servers.feed(serverKey(m), { $0.receive(m, now: scheduler.now) }) { return }
        }
        let toTag = (try? NameAddress(m["To"] ?? ""))?.tag
        if method == .ack {
            // ACK of a non-2xx goes to its INVITE transaction; ACK of our 2xx to the call.
            servers.feed(serverKey(m)) { $0.receive(m, now: scheduler.now) }
            if let c = call(for: m) { ackReceived(c, m) }
            return
        }
        if method == .cancel { return cancelReceived(m, from: source) }
        guard let t = try? ServerTransaction(request: m, reliable: transport.isReliable, timers: agent.settings.timers) else { return }
        servers.add(t, key: serverKey(m), context: source)

        if let toTag {
            guard let c = call(for: m), c.localTag == toTag else {
                if method == .notify, mwi?.localTag == toTag { return notifyReceived(m) }
                // The last NOTIFY of a subscription we ended (RFC 6665 §4.1.2.3): acknowledged.
                if method == .notify, endedSubscriptionTag == toTag { return respond(m, status: 200, reason: "OK") }
                return respond(m, status: 481, reason: "Call/Transaction Does Not Exist")
            }
            return inDialog(m, method: method, call: c)
        }
        switch method {
        case .invite: incomingInvite(m, from: source)
        case .options: respondOptions(m)
        case .notify: notifyReceived(m)
        case .bye: respond(m, status: 481, reason: "Call/Transaction Does Not Exist")
        case .info, .update, .prack, .subscribe, .refer, .message:
            respond(m, status: 405, reason: "Method Not Allowed", headers: [("Allow", allowed)])
        default:
            respond(m, status: 501, reason: "Not Implemented", headers: [("Allow", allowed)])
        }
    }

    var allowed: String { SIPRequests.allow }

    func respondOptions(_ m: SIPMessage) {
        respond(m, status: 200, reason: "OK", headers: [("Allow", allowed), ("Accept", "application/sdp"), ("Supported", SIPRequests.supported)])
    }

    func call(for m: SIPMessage) -> Call? {
        guard let id = m["Call-ID"] else { return nil }
        return calls.values.first { $0.callID == id }
    }

    func incomingInvite(_ m: SIPMessage, from source: SIPNetworkAddress) {
        if let c = call(for: m), c.incomingInvite != nil { return }  // a merged or looped request
        let require = (m["Require"] ?? "").lowercased().split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        let unsupported = require.filter { $0 != "100rel" && $0 != "timer" }
        if !unsupported.isEmpty {
            return respond(m, status: 420, reason: "Bad Extension", toTag: token(), headers: [("Unsupported", unsupported.joined(separator: ", "))])
        }
        var offer: SessionDescription?
        if !m.body.isEmpty {
            do { offer = try SessionDescription.parse(m.body) } catch {
                return respond(m, status: 400, reason: "Bad Request (\(error.description.prefix(80)))", toTag: token())
            }
        }
        if let se = m["Session-Expires"], let v = HeaderNumbers.deltaSeconds(se, in: 0...HeaderNumbers.sessionInterval.upperBound), v < settings.minSessionExpires {
            return respond(m, status: 422, reason: "Session Interval Too Small", toTag: token(), headers: [("Min-SE", "\(settings.minSessionExpires)")])
        }
        let h = makeCallHandle()
        let port = mediaPort(h)
        var local: SessionDescription
        if let offer {
            guard let answer = settings.media.answer(to: offer, address: localHost, port: port) else {
                return respond(m, status: 488, reason: "Not Acceptable Here", toTag: token(), headers: [("Warning", "304 TipRing \"no common codec\"")])
            }
            local = answer
        } else {
            local = settings.media.offer(address: localHost, port: port)
        }
        local.sessionID = random.next() >> 20
        local.version = local.sessionID
        guard let from = m["From"], let fromAddr = try? NameAddress(from), let remoteTag = fromAddr.tag,
              let callID = m["Call-ID"], let to = m["To"], let toAddr = try? NameAddress(to) else {
            return respond(m, status: 400, reason: "Bad Request (From, To or Call-ID missing)")
        }
        var remoteParty = NameAddress(displayName: fromAddr.displayName, uri: fromAddr.uri).description
        if fromAddr.displayName == nil { remoteParty = "<\(fromAddr.uri)>" }
        let c = Call(handle: h, outgoing: false, callID: callID, localTag: token(), localParty: "<\(toAddr.uri)>",
                     remoteParty: remoteParty, remoteTarget: (try? NameAddress(m["Contact"] ?? ""))?.uri ?? fromAddr.uri,
                     state: .incoming, destination: source, local: local)
        c.remoteTag = remoteTag
        c.remoteCSeq = (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? 0
        c.routeSet = m.values("Record-Route")
        c.incomingInvite = m
        c.incomingKey = serverKey(m)
        c.remote = offer
        c.lateOffer = offer == nil
        if let se = m["Session-Expires"], let v = HeaderNumbers.deltaSeconds(se, in: HeaderNumbers.sessionInterval) {
            c.sessionInterval = v
            let refresher = se.lowercased().contains("refresher=uas") ? "uas" : "uac"
            c.weRefresh = refresher == "uas"
        }
        calls[h] = c
        // Ringing: reliably when the caller requires it (RFC 3262).
        var ringing: [(String, String)] = m.values("Record-Route").map { ("Record-Route", $0) } + [("Contact", "<\(contactURI)>")]
        if require.contains("100rel") {
            ringing += [("Require", "100rel"), ("RSeq", "1")]
        }
        respond(m, status: 180, reason: "Ringing", toTag: c.localTag, headers: ringing)
        if require.contains("100rel") {
            var r = SIPResponses.response(to: m, status: 180, reason: "Ringing", toTag: c.localTag)
            for (n, v) in ringing { r.add(n, v) }
            c.reliable180 = r
            c.rseqInterval = agent.settings.timers.t1
            retransmitReliable(c)
        }
        emit(.incomingCall(h, account: account, caller: Self.callerIdentity(m)))
    }

    func retransmitReliable(_ c: Call) {
        schedule("rel" + c.callID, after: c.rseqInterval) { [weak self, weak c] in
            guard let self, let c, let r = c.reliable180, c.state == .incoming else { return }
            if c.rseqInterval >= self.agent.settings.timers.t1 * 64 { return }
            self.agent.transmit(r, to: c.destination)
            c.rseqInterval = c.rseqInterval * 2
            self.retransmitReliable(c)
        }
    }

    func answer(_ h: CallHandle) {
        guard let c = calls[h], c.state == .incoming, let inv = c.incomingInvite else { return }
        var headers: [(String, String)] = [("Contact", "<\(contactURI)>"), ("Allow", allowed), ("Supported", SIPRequests.supported)]
        if c.sessionInterval > 0 {
            headers.append(("Session-Expires", "\(c.sessionInterval);refresher=\(c.weRefresh ? "uas" : "uac")"))
            headers.append(("Require", "timer"))
        }
        var ok = SIPResponses.response(to: inv, status: 200, reason: "OK", toTag: c.localTag)
        for r in inv.values("Record-Route") { ok.add("Record-Route", r) }
        for (n, v) in headers { ok.add(n, v) }
        withBody(&ok, c.local)
        c.ok = ok
        c.state = .confirmed
        c.reliable180 = nil
        cancelTimer("rel" + c.callID)
        if !servers.feed(serverKey(inv), { $0.respond(ok, now: scheduler.now) }) {
            agent.transmit(ok, to: c.destination)
        }
        // The 2xx is retransmitted until the ACK (RFC 3261 §13.3.1.4).
        c.okInterval = agent.settings.timers.t1
        retransmitOK(c)
        if c.remote != nil { mediaChanged(c) }
        restartSessionTimer(c)
    }

    func retransmitOK(_ c: Call) {
        schedule("ok" + c.callID, after: c.okInterval) { [weak self, weak c] in
            guard let self, let c, let ok = c.ok else { return }
            if c.okInterval >= self.agent.settings.timers.t1 * 64 {
                // No ACK: the call is not established (RFC 3261 §13.3.1.4).
                c.ok = nil
                self.sendBye(c)
                self.finish(c, .timeout)
                return
            }
            self.agent.transmit(ok, to: c.destination)
            c.okInterval = min(c.okInterval * 2, self.agent.settings.timers.t2)
            if c.okInterval < self.agent.settings.timers.t2 || true { self.retransmitOKUntilH(c) }
        }
    }

    func retransmitOKUntilH(_ c: Call) { retransmitOK(c) }

    func ackReceived(_ c: Call, _ m: SIPMessage) {
        guard c.ok != nil else { return }
        c.ok = nil
        cancelTimer("ok" + c.callID)
        if c.lateOffer, !m.body.isEmpty, let sdp = try? SessionDescription.parse(m.body) {
            c.remote = sdp
            c.lateOffer = false
            mediaChanged(c)
        }
        emit(.answered(c.handle))
    }

    func reject(_ h: CallHandle, status: Int) {
        guard let c = calls[h], c.state == .incoming, let inv = c.incomingInvite else { return }
        let reasons = [480: "Temporarily Unavailable", 486: "Busy Here", 488: "Not Acceptable Here", 603: "Decline", 404: "Not Found", 403: "Forbidden"]
        respond(inv, status: status, reason: reasons[status] ?? "Rejected", toTag: c.localTag)
        finish(c, .localHangUp)
    }

    func cancelReceived(_ m: SIPMessage, from source: SIPNetworkAddress) {
        // The CANCEL matches the INVITE's server transaction by branch.
        let key = serverKey(m).replacingSuffix(" CANCEL", with: " INVITE")
        guard let c = calls.values.first(where: { $0.incomingKey == key }), c.state == .incoming, let inv = c.incomingInvite else {
            agent.transmit(SIPResponses.response(to: m, status: 481, reason: "Call/Transaction Does Not Exist", toTag: token()), to: source)
            return
        }
        agent.transmit(SIPResponses.response(to: m, status: 200, reason: "OK", toTag: c.localTag), to: source)
        respond(inv, status: 487, reason: "Request Terminated", toTag: c.localTag)
        finish(c, .remoteHangUp)
    }

    func inDialog(_ m: SIPMessage, method: SIPMethod, call c: Call) {
        let cseq = (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? 0
        if method != .prack, cseq <= c.remoteCSeq, c.remoteCSeq > 0, !(method == .bye && c.state == .incoming) {
            return respond(m, status: 500, reason: "Server Internal Error (CSeq out of order)")
        }
        if method != .prack { c.remoteCSeq = max(c.remoteCSeq, cseq) }
        switch method {
        case .bye:
            respond(m, status: 200, reason: "OK")
            finish(c, .remoteHangUp)
        case .invite:
            reinviteReceived(m, call: c)
        case .update:
            // A session refresh without a new offer.
            var headers: [(String, String)] = [("Contact", "<\(contactURI)>")]
            if c.sessionInterval > 0 { headers.append(("Session-Expires", "\(c.sessionInterval);refresher=\(c.weRefresh == c.outgoing ? "uac" : "uas")")) }
            respond(m, status: 200, reason: "OK", headers: headers)
            restartSessionTimer(c)
        case .prack:
            c.reliable180 = nil
            cancelTimer("rel" + c.callID)
            respond(m, status: 200, reason: "OK")
        case .info:
            infoReceived(m, call: c)
        case .options:
            respondOptions(m)
        case .notify, .refer, .message, .subscribe:
            respond(m, status: 405, reason: "Method Not Allowed", headers: [("Allow", allowed)])
        default:
            respond(m, status: 501, reason: "Not Implemented", headers: [("Allow", allowed)])
        }
    }

    func reinviteReceived(_ m: SIPMessage, call c: Call) {
        guard c.state == .confirmed else { return respond(m, status: 491, reason: "Request Pending") }
        if c.reinvitePending { return respond(m, status: 491, reason: "Request Pending") }
        updateTarget(c, from: m)
        var answer = c.local
        if !m.body.isEmpty {
            let offer: SessionDescription
            do { offer = try SessionDescription.parse(m.body) } catch {
                return respond(m, status: 488, reason: "Not Acceptable Here", headers: [("Warning", "399 TipRing \"\(error.description.prefix(60))\"")])
            }
            guard var a = settings.media.answer(to: offer, address: localHost, port: c.local.port, wanting: c.wanted) else {
                return respond(m, status: 488, reason: "Not Acceptable Here")
            }
            a.sessionID = c.local.sessionID
            a.version = c.local.version + (a == c.local ? 0 : 1)
            answer = a
            c.remote = offer
        }
        c.local = answer
        var headers: [(String, String)] = [("Contact", "<\(contactURI)>"), ("Supported", SIPRequests.supported)]
        if let se = m["Session-Expires"], let v = HeaderNumbers.deltaSeconds(se, in: HeaderNumbers.sessionInterval) {
            c.sessionInterval = v
            let refresher = se.lowercased().contains("refresher=uas") ? "uas" : "uac"
            c.weRefresh = (refresher == "uas")
            headers.append(("Session-Expires", "\(v);refresher=\(refresher)"))
            headers.append(("Require", "timer"))
        }
        var ok = SIPResponses.response(to: m, status: 200, reason: "OK")
        for (n, v) in headers { ok.add(n, v) }
        withBody(&ok, answer)
        servers.feed(serverKey(m)) { $0.respond(ok, now: scheduler.now) }
        c.ok = ok
        c.okInterval = agent.settings.timers.t1
        retransmitReinviteOK(c)
        restartSessionTimer(c)
        mediaChanged(c)
    }

    func retransmitReinviteOK(_ c: Call) {
        schedule("ok" + c.callID, after: c.okInterval) { [weak self, weak c] in
            guard let self, let c, let ok = c.ok, c.state == .confirmed else { return }
            if c.okInterval >= self.agent.settings.timers.t1 * 64 { c.ok = nil; return }
            self.agent.transmit(ok, to: c.destination)
            c.okInterval = min(c.okInterval * 2, self.agent.settings.timers.t2)
            self.retransmitReinviteOK(c)
        }
    }

    func infoReceived(_ m: SIPMessage, call c: Call) {
        let type = (m["Content-Type"] ?? "").lowercased()
        let body = String(decoding: m.body, as: UTF8.self)
        var digit: Character?
        if type.hasPrefix("application/dtmf-relay") {
            for line in body.split(whereSeparator: \.isNewline) where line.lowercased().hasPrefix("signal") {
                let v = line.split(separator: "=", maxSplits: 1).last?.trimmingSpaces() ?? ""
                digit = v.first
            }
        } else if type.hasPrefix("application/dtmf") {
            digit = body.trimmingSpaces().first
        }
        if let d = digit.map({ Character($0.uppercased()) }), "0123456789*#ABCD".contains(d) {
            respond(m, status: 200, reason: "OK")
            emit(.digit(c.handle, d))
        } else if type.isEmpty && m.body.isEmpty {
            respond(m, status: 200, reason: "OK")  // an INFO keep-alive
        } else {
            respond(m, status: 415, reason: "Unsupported Media Type", headers: [("Accept", "application/dtmf-relay, application/dtmf")])
        }
    }

    func sendDigit(_ h: CallHandle, _ digit: Character, _ ms: Int) {
        guard let c = calls[h], c.state == .confirmed, settings.dtmf != .inband else { return }
        let negotiated = c.remote?.telephoneEvent != nil
        if settings.dtmf == .info || (settings.dtmf == .rfc4733 && !negotiated && onSendDigit == nil) {
            var m = dialogRequest(c, .info)
            m.add("Content-Type", "application/dtmf-relay")
            m.body = Array("Signal=\(digit)\r\nDuration=\(ms)\r\n".utf8)
            startClient(m, handle: h, purpose: .info, to: destination(for: c))
        } else {
            onSendDigit?(h, digit, ms)
        }
    }

    func mediaChanged(_ c: Call) {
        guard let remote = c.remote else { return }
        onMedia?(c.handle, session(local: c.local, remote: remote))
    }

    func session(local: SessionDescription, remote: SessionDescription) -> MediaSession? {
        guard let codec = (remote.codec.flatMap { rc in settings.media.codecs.contains { $0.name == rc.name } ? rc : nil }) ?? local.codec else { return nil }
        let sending = (local.direction == .sendrecv || local.direction == .sendonly) && remote.address != "0.0.0.0" && remote.port != 0
        let receiving = local.direction == .sendrecv || local.direction == .recvonly
        return MediaSession(local: local, remote: remote, codec: codec,
                            telephoneEvent: local.telephoneEvent != nil ? remote.telephoneEvent : nil,
                            sending: sending && (remote.direction == .sendrecv || remote.direction == .recvonly),
                            receiving: receiving && (remote.direction == .sendrecv || remote.direction == .sendonly))
    }

    // MARK: caller identity

    /// Who is calling: P-Asserted-Identity first, then From; anonymous or `Privacy: id` →
    /// withheld; "unavailable" → out of area.
    public static func callerIdentity(_ m: SIPMessage) -> CallerIdentity {
        let privacy = (m["Privacy"] ?? "").lowercased()
        let pai = m.values("P-Asserted-Identity").compactMap { try? NameAddress($0) }.first
        guard let who = pai ?? (try? NameAddress(m["From"] ?? "")) else {
            return CallerIdentity(number: nil, name: nil, availability: .unavailable)
        }
        let user: String?
        if who.uri.hasPrefix("tel:") {
            user = String(who.uri.dropFirst(4).split(separator: ";").first ?? "")
        } else {
            user = who.sipURI?.user
        }
        let name = who.displayName
        let lowered = (user ?? "").lowercased()
        if lowered == "anonymous" || privacy.contains("id") && pai == nil || (name ?? "").lowercased() == "anonymous" && user == nil {
            return CallerIdentity(number: nil, name: nil, availability: .withheld)
        }
        if privacy.split(separator: ";").contains(where: { $0.trimmingSpaces() == "id" || $0.trimmingSpaces() == "user" }) {
            return CallerIdentity(number: nil, name: nil, availability: .withheld)
        }
        if lowered == "unavailable" || lowered == "unknown" {
            return CallerIdentity(number: nil, name: nil, availability: .unavailable)
        }
        return CallerIdentity(number: user, name: name?.isEmpty == true ? nil : name, availability: .available)
    }

    // MARK: message waiting (RFC 3842)

    func registrationChanged(_ s: RegistrationStatus) {
        emit(.registration(account: account, s))
        if case .registered = s, settings.subscribeMessageWaiting, mwi == nil { subscribe() }
        if case .unregistered = s { mwi = nil; cancelTimer("mwi") }
    }

    func subscribe(expires: Int? = nil, authorization: (header: String, value: String)? = nil) {
        if mwi == nil { mwi = Subscription(callID: token() + "@tipring", localTag: token()) }
        guard var s = mwi else { return }
        s.cseq += 1
        if authorization == nil {
            s.expires = expires ?? settings.subscriptionExpires
            s.challenges = 0
        } else {
            s.challenges += 1
        }
        mwi = s
        // Within the subscription's dialog: to the notifier's Contact along the route set.
        let inDialog = s.remoteTag != nil
        var m = SIPRequests.new(.subscribe, uri: inDialog ? (s.remoteTarget ?? aor) : aor, via: via())
        if inDialog && !s.routeSet.isEmpty {
            for r in s.routeSet { m.add("Route", r) }
        } else if let route = agent.settings.registration.route {
            m.add("Route", route)
        }
        m.add("From", "<\(aor)>;tag=\(s.localTag)")
        m.add("To", "<\(aor)>" + (s.remoteTag.map { ";tag=\($0)" } ?? ""))
        m.add("Call-ID", s.callID)
        m.add("CSeq", "\(s.cseq) SUBSCRIBE")
        addContact(&m)
        m.add("Event", "message-summary")
        m.add("Accept", "application/simple-message-summary")
        m.add("Expires", "\(s.expires)")
        if let authorization { m.add(authorization.header, authorization.value) }
        m.add("User-Agent", "TipRing")
        startClient(m, handle: nil, purpose: .subscribe, to: agent.server)
    }

    func subscribeResponse(_ m: SIPMessage) {
        guard let status = m.status, status >= 200, var s = mwi else { return }
        if status == 401 || status == 407, m["Call-ID"] == s.callID {
            let header = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
            guard let ch = DigestChallenge.preferred(m.values(header), minimum: agent.settings.registration.minimumDigest), (m["CSeq"].flatMap { try? CSeq($0) }?.sequence ?? 0) == s.cseq, !s.active || true else { return }
            if s.challenges >= 2 { return }  // challenged again after answering twice: no storm
            let uri = s.remoteTag != nil ? (s.remoteTarget ?? aor) : aor
            subscribe(authorization: (status == 401 ? "Authorization" : "Proxy-Authorization",
                                      digest.authorization(for: ch, method: .subscribe, uri: uri)))
            return
        }
        if (200...299).contains(status) {
            if s.remoteTag == nil {
                // The dialog is established: its route set is fixed from here on.
                s.routeSet = m.values("Record-Route").reversed()
            }
            s.remoteTag = (try? NameAddress(m["To"] ?? ""))?.tag
            if let target = (try? NameAddress(m["Contact"] ?? ""))?.uri { s.remoteTarget = target }
            s.active = true
            mwi = s
            let granted = HeaderNumbers.deltaSeconds(m["Expires"], in: HeaderNumbers.expires) ?? settings.subscriptionExpires
            schedule("mwi", after: .seconds(Int64(max(30, granted * 9 / 10)))) { [weak self] in self?.subscribe() }
        } else {
            // Not offered by this server: try again much later, never a storm.
            mwi = nil
            schedule("mwi", after: .seconds(3600)) { [weak self] in self?.subscribe() }
        }
    }

    func unsubscribe() {
        cancelTimer("mwi")
        guard let s = mwi, s.active else {
            mwi = nil
            return
        }
        subscribe(expires: 0)
        endedSubscriptionTag = s.localTag
        mwi = nil
    }

    func notifyReceived(_ m: SIPMessage) {
        let event = (m["Event"] ?? "").lowercased()
        guard event.hasPrefix("message-summary") else {
            return respond(m, status: 489, reason: "Bad Event")
        }
        respond(m, status: 200, reason: "OK")
        // A NOTIFY within our subscription refreshes the notifier's target.
        if var s = mwi, let toTag = (try? NameAddress(m["To"] ?? ""))?.tag, toTag == s.localTag,
           let target = (try? NameAddress(m["Contact"] ?? ""))?.uri {
            s.remoteTarget = target
            mwi = s
        }
        let summary = MessageSummary.parse(m.body)
        emit(.messageWaiting(account: account, waiting: summary.waiting, newMessages: summary.new, oldMessages: summary.old))
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
