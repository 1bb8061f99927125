import TipRingCore
public import SIPCore

/// Outgoing calls: INVITE, its responses, CANCEL, ACK, BYE; hold, resume and re-INVITE.
extension SIPUserAgent {
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
}
