public import SIPCore
import TipRingCore

/// A simulated telephone exchange: the ``SimulatedRegistrar`` plus a record-routing proxy
/// that routes calls between registered users, challenges INVITEs (407, as Kamailio does),
/// asserts the caller's identity (P-Asserted-Identity with the directory's display name), and
/// serves message-waiting (SUBSCRIBE/NOTIFY, RFC 3842). Everything crosses the simulated
/// network as serialized SIP bytes.
public final class SimulatedExchange {
    public let registrar: SimulatedRegistrar
    public var address: SIPNetworkAddress { registrar.address }
    let network: SimulatedSIPNetwork
    var scheduler: any Scheduler { network.scheduler }
    /// Display names by user, asserted to the called party.
    public var directory: [String: String] = [:]
    /// Challenge INVITEs with 407 before routing them.
    public var authenticateCalls = true
    /// Every request the proxy routed, in order (method, from user, to user).
    public private(set) var routed: [(method: SIPMethod, callID: String)] = []
    var nonces: Set<String> = []
    var nonceCounter = 0
    /// Where a forwarded INVITE went, by our branch (CANCEL and ACK follow it).
    var forwarded: [String: SIPNetworkAddress] = [:]
    var mailboxes: [String: (new: Int, old: Int)] = [:]
    struct Subscriber { var user: String; var callID: String; var fromTag: String; var toTag: String; var contact: String; var destination: SIPNetworkAddress; var cseq: UInt32; var expires: Instant }
    var subscribers: [String: Subscriber] = [:]

    public init(network: SimulatedSIPNetwork, address: SIPNetworkAddress, domain: String, users: [String: String]) {
        self.network = network
        registrar = SimulatedRegistrar(network: network, address: address, realm: domain, users: users)
        registrar.other = { [weak self] m, from in self?.receive(m, from: from) }
    }

    var domain: String { registrar.realm }
    var recordRoute: String { "<sip:\(address.host):\(address.port);lr>" }

    /// Sets a mailbox and tells its subscribers (or the user's phone, unsolicited) at once.
    public func setMessages(user: String, new: Int, old: Int) {
        mailboxes[user] = (new, old)
        let live = subscribers.values.filter { $0.user == user && $0.expires > scheduler.now }
        if live.isEmpty {
            for contact in registrar.contacts(of: "sip:\(user)@\(domain)") {
                guard let dest = Self.address(of: contact) else { continue }
                notify(user: user, requestURI: contact, callID: "mwi-\(user)-\(scheduler.now.nanoseconds)", fromTag: "x", toTag: nil, cseq: 1, to: dest)
            }
        }
        for var s in live {
            s.cseq += 1
            subscribers[s.callID] = s
            notify(user: user, requestURI: s.contact, callID: s.callID, fromTag: s.toTag, toTag: s.fromTag, cseq: s.cseq, to: s.destination)
        }
    }

    static func fnv(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    static func address(of uri: String) -> SIPNetworkAddress? {
        guard let u = try? SIPURI(uri) else { return nil }
        return SIPNetworkAddress("\(u.host)", u.port ?? 5060)
    }

    func send(_ m: SIPMessage, to: SIPNetworkAddress) {
        network.send(m.serialized(), from: address, to: to)
    }

    func reply(_ m: SIPMessage, _ status: Int, _ reason: String, to: SIPNetworkAddress, headers: [(String, String)] = []) {
        var r = SIPResponses.response(to: m, status: status, reason: reason, toTag: "ex\(status)")
        for (n, v) in headers { r.add(n, v) }
        send(r, to: to)
    }

    func receive(_ m: SIPMessage, from: SIPNetworkAddress) {
        if m.isRequest { request(m, from: from) } else { response(m) }
    }

    // MARK: requests

    func request(_ m: SIPMessage, from: SIPNetworkAddress) {
        guard case .request(let method, let uri) = m.startLine else { return }
        let toTag = (try? NameAddress(m["To"] ?? ""))?.tag
        // Mark where the request came from (RFC 3581) so responses find their way back.
        var m = m
        if let top = m["Via"], var via = try? Via(top) {
            via.parameters["received"] = .some(from.host)
            via.parameters["rport"] = .some("\(from.port)")
            m.replaceFirst("Via", with: via.description)
        }
        // The ACK of a final response the exchange made itself (407, 404, …) ends here.
        if method == .ack, let tag = toTag, tag.hasPrefix("ex") { return }
        // Message-waiting subscriptions: new ones, and refreshes and unsubscriptions within
        // the exchange's own subscription dialogs.
        if method == .subscribe && (toTag == nil || toTag!.hasPrefix("mwi")) { return subscribe(m, from: from) }
        if toTag == nil && (method == .invite) && authenticateCalls {
            guard authenticated(m, method: method) else {
                nonceCounter += 1
                let nonce = "px\(nonceCounter)n\(scheduler.now.nanoseconds)"
                nonces.insert(nonce)
                return reply(m, 407, "Proxy Authentication Required", to: from,
                             headers: [("Proxy-Authenticate", "Digest realm=\"\(domain)\", nonce=\"\(nonce)\", qop=\"auth\", algorithm=MD5")])
            }
        }
        var out = m
        // Loose routing: a Route naming us is ours to remove.
        if let first = out.values("Route").first, let n = try? NameAddress(first), let u = n.sipURI,
           "\(u.host)" == address.host, (u.port ?? 5060) == address.port {
            let rest = Array(out.values("Route").dropFirst())
            out.set("Route", nil)
            for r in rest { out.add("Route", r) }
        }
        out.set("Proxy-Authorization", nil)
        if let mf = out["Max-Forwards"].flatMap({ Int($0) }) {
            guard mf > 0 else { return reply(m, 483, "Too Many Hops", to: from) }
            out.set("Max-Forwards", "\(mf - 1)")
        }
        // Where to: a Route still there, a contact address in the Request-URI, or the
        // bindings of the called user.
        var target: SIPNetworkAddress?
        var requestURI = uri
        if let next = out.values("Route").first.flatMap({ try? NameAddress($0) })?.uri {
            target = Self.address(of: next)
        } else if let u = try? SIPURI(uri), "\(u.host)" != domain, ServerLocator.isIPv4Literal("\(u.host)") {
            target = Self.address(of: uri)
        } else if let user = (try? SIPURI(uri))?.user {
            let contacts = registrar.contacts(of: "sip:\(user)@\(domain)")
            if let c = contacts.last {
                requestURI = c
                target = Self.address(of: c)
            }
        }
        let incomingBranch = (try? Via(m["Via"] ?? "").branch) ?? nil ?? ""
        // Stateless branch (RFC 3261 §16.11): the same for an INVITE and its CANCEL.
        let branch = "z9hG4bKex" + String(Self.fnv(incomingBranch), radix: 36)
        if method == .cancel || (method == .ack && toTag != nil && forwarded[branch] != nil) {
            target = forwarded[branch] ?? target
        }
        guard let target else {
            if method == .ack { return }
            return reply(m, method == .invite ? 480 : 404, method == .invite ? "Temporarily Unavailable" : "Not Found", to: from)
        }
        out.startLine = .request(method: method, uri: requestURI)
        if toTag == nil && method == .invite {
            out.add("Record-Route", recordRoute, atTop: true)
            if let from = try? NameAddress(m["From"] ?? ""), let caller = from.sipURI?.user, out["P-Asserted-Identity"] == nil, caller != "anonymous" {
                // The directory's name, else the one the caller gave.
                let name = (directory[caller] ?? from.displayName).map { "\"\($0)\" " } ?? ""
                out.add("P-Asserted-Identity", "\(name)<sip:\(caller)@\(domain)>")
            } else if let ppi = m["P-Preferred-Identity"], let n = try? NameAddress(ppi), let user = n.sipURI?.user {
                out.add("P-Asserted-Identity", "<sip:\(user)@\(domain)>")
            }
            out.set("P-Preferred-Identity", nil)
            forwarded[branch] = target
        }
        out.add("Via", "SIP/2.0/UDP \(address.host):\(address.port);branch=\(branch)", atTop: true)
        if method != .ack { routed.append((method, m["Call-ID"] ?? "")) }
        send(out, to: target)
    }

    func authenticated(_ m: SIPMessage, method: SIPMethod) -> Bool {
        guard let auth = m["Proxy-Authorization"],
              let p = try? DigestChallenge.parameters(String(auth.dropFirst(6))),
              let user = p["username"], let nonce = p["nonce"], nonces.contains(nonce),
              let password = registrar.password(of: user) else { return false }
        return DigestVerifier.verify(auth, method: method.rawValue, realm: domain, password: password, nonce: nonce, algorithm: .md5)
    }

    // MARK: responses

    func response(_ m: SIPMessage) {
        let vias = m.values("Via")
        guard let top = vias.first, let v = try? Via(top), "\(v.host)" == address.host, (v.port ?? 5060) == address.port,
              vias.count >= 2, let next = try? Via(vias[1]) else { return }
        var out = m
        out.set("Via", nil)
        for (i, via) in vias.dropFirst().enumerated() { out.headers.insert(SIPHeader("Via", via), at: i) }
        let host: String = (next.parameters["received"] ?? nil) ?? "\(next.host)"
        let port: Int = (next.parameters["rport"] ?? nil).flatMap { Int($0) } ?? next.port ?? 5060
        send(out, to: SIPNetworkAddress(host, port))
    }

    // MARK: message waiting

    func subscribe(_ m: SIPMessage, from: SIPNetworkAddress) {
        guard (m["Event"] ?? "").lowercased().hasPrefix("message-summary") else {
            return reply(m, 489, "Bad Event", to: from)
        }
        guard let user = (try? NameAddress(m["To"] ?? ""))?.sipURI?.user, let callID = m["Call-ID"],
              let fromTag = (try? NameAddress(m["From"] ?? ""))?.tag else { return reply(m, 400, "Bad Request", to: from) }
        let expires = m["Expires"].flatMap { Int($0) } ?? 3600
        let toTag = subscribers[callID]?.toTag ?? "mwi\(Self.fnv(callID) & 0xFFFF)"
        var r = SIPResponses.response(to: m, status: 200, reason: "OK", toTag: toTag)
        r.add("Expires", "\(expires)")
        r.add("Contact", "<sip:\(address.host):\(address.port)>")
        send(r, to: from)
        let contact = (try? NameAddress(m["Contact"] ?? ""))?.uri ?? "sip:\(from.host):\(from.port)"
        let lastCSeq = subscribers[callID]?.cseq ?? 0
        if expires == 0 {
            subscribers[callID] = nil
        } else {
            subscribers[callID] = Subscriber(user: user, callID: callID, fromTag: fromTag, toTag: toTag, contact: contact,
                                             destination: from, cseq: subscribers[callID]?.cseq ?? 0, expires: scheduler.now + .seconds(Int64(expires)))
        }
        var s = subscribers[callID] ?? Subscriber(user: user, callID: callID, fromTag: fromTag, toTag: toTag, contact: contact, destination: from, cseq: lastCSeq, expires: scheduler.now)
        s.cseq += 1
        if expires > 0 { subscribers[callID] = s }
        notify(user: user, requestURI: contact, callID: callID, fromTag: toTag, toTag: fromTag, cseq: s.cseq, to: from,
               state: expires == 0 ? "terminated" : "active;expires=\(expires)")
    }

    func notify(user: String, requestURI: String, callID: String, fromTag: String, toTag: String?, cseq: UInt32, to: SIPNetworkAddress, state: String = "active") {
        let box = mailboxes[user] ?? (0, 0)
        var n = SIPMessage(startLine: .request(method: .notify, uri: requestURI))
        n.add("Via", "SIP/2.0/UDP \(address.host):\(address.port);branch=z9hG4bKn\(cseq)x\(scheduler.now.nanoseconds)")
        n.add("Max-Forwards", "70")
        n.add("From", "<sip:\(user)@\(domain)>;tag=\(fromTag)")
        n.add("To", "<sip:\(user)@\(domain)>" + (toTag.map { ";tag=\($0)" } ?? ""))
        n.add("Call-ID", callID)
        n.add("CSeq", "\(cseq) NOTIFY")
        // The subscriber's remote target (RFC 6665: a NOTIFY carries a Contact).
        n.add("Contact", "<sip:\(address.host):\(address.port)>")
        n.add("Event", "message-summary")
        n.add("Subscription-State", state)
        n.add("Content-Type", "application/simple-message-summary")
        n.body = Array("Messages-Waiting: \(box.new > 0 ? "yes" : "no")\r\nMessage-Account: sip:\(user)@\(domain)\r\nVoice-Message: \(box.new)/\(box.old)\r\n".utf8)
        send(n, to: to)
    }
}
