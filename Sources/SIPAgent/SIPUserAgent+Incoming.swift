import TipRingCore
public import SIPCore

/// Requests from the network: retransmissions to their server transaction, new calls, in-dialog requests; and who is calling.
extension SIPUserAgent {
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
}
