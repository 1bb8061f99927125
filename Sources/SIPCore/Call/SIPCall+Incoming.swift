import TipRingCore

/// Calls from the network: the INVITE screened, rung (reliably when asked), answered or
/// refused; CANCEL and the ACK of our 2xx.
extension SIPCall {
    /// What an INVITE outside any dialog gets before anything is allocated for it.
    public enum Screening: Sendable, Hashable {
        /// It can ring; its offer, if it has one.
        case accept(offer: SessionDescription?)
        /// It cannot: the final response to send (420, 400, 422, 488).
        case refuse(SIPMessage)
    }

    /// The extensions we do: reliable provisionals (RFC 3262) and session timers (RFC 4028).
    static let understood: Set<String> = ["100rel", "timer", "replaces"]

    /// Every option tag the message requires, from every Require header and list element
    /// (`Require: 100rel, foo` must not pass as 100rel alone).
    static func required(_ m: SIPMessage) -> [String] {
        m.values("Require").map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
    }

    /// Screens a new INVITE: what it requires, its SDP (its address of a family our media
    /// sockets take, when `mediaHost` says which), its session interval, its codecs, its dialog
    /// identifiers — so a refused call costs no media ports.
    public static func screen(_ m: SIPMessage, settings: CallSettings, mediaHost: String? = nil) -> Screening {
        func refuse(_ status: Int, _ reason: String, _ headers: [(String, String)] = []) -> Screening {
            var r = SIPResponses.response(to: m, status: status, reason: reason, toTag: SecureRandom.token())
            for (n, v) in headers { r.add(n, v) }
            return .refuse(r)
        }
        let unsupported = required(m).filter { !understood.contains($0) }
        if !unsupported.isEmpty { return refuse(420, "Bad Extension", [("Unsupported", unsupported.joined(separator: ", "))]) }
        var offer: SessionDescription?
        if !m.body.isEmpty {
            do { offer = try SessionDescription.parse(m.body) } catch {
                return refuse(400, "Bad Request (\(error.description.prefix(80)))")
            }
        }
        if let se = m["Session-Expires"], let v = HeaderNumbers.deltaSeconds(se, in: 0...HeaderNumbers.sessionInterval.upperBound), v < settings.minSessionExpires {
            return refuse(422, "Session Interval Too Small", [("Min-SE", "\(settings.minSessionExpires)")])
        }
        if let offer, settings.media.answer(to: offer, address: "0.0.0.0", port: 0) == nil {
            return refuse(488, "Not Acceptable Here", [("Warning", "304 TipRing \"no common codec\"")])
        }
        // Media to an IPv6 address from an IPv4 socket (or the reverse) would go nowhere: the
        // offer is refused as RFC 3261 §20.43 words it, not answered and left silent.
        if let offer, let mediaHost, offer.address != "0.0.0.0", offer.address.contains(":") != mediaHost.contains(":") {
            return refuse(488, "Not Acceptable Here", [("Warning", "301 TipRing \"Incompatible network address formats\"")])
        }
        guard let from = m["From"], (try? NameAddress(from))?.tag != nil, m["Call-ID"] != nil, let to = m["To"], (try? NameAddress(to)) != nil else {
            return refuse(400, "Bad Request (From, To or Call-ID missing)")
        }
        return .accept(offer: offer)
    }

    /// An incoming call for an INVITE that ``screen(_:settings:mediaHost:)`` accepted: the call and its
    /// 180 (reliable, and retransmitted, when the caller requires 100rel). Nil for an INVITE
    /// the screen would refuse.
    public static func ringing(_ m: SIPMessage, offer: SessionDescription?, handle: CallHandle, from source: SIPNetworkAddress,
                               settings: CallSettings, localPort: Int, sessionID: UInt64, seed: UInt64,
                               context ctx: CallContext) -> (SIPCall, [CallAction])? {
        guard let fromAddr = m["From"].flatMap({ try? NameAddress($0) }), let remoteTag = fromAddr.tag,
              let callID = m["Call-ID"], let toAddr = m["To"].flatMap({ try? NameAddress($0) }) else { return nil }
        var local: SessionDescription
        if let offer {
            guard let answer = settings.media.answer(to: offer, address: ctx.mediaHost, port: localPort) else { return nil }
            local = answer
        } else {
            local = settings.media.offer(address: ctx.mediaHost, port: localPort)
        }
        local.sessionID = sessionID
        local.version = sessionID
        let remoteParty = fromAddr.displayName == nil ? "<\(fromAddr.uri)>" : NameAddress(displayName: fromAddr.displayName, uri: fromAddr.uri).description
        let require = required(m)
        var ringing = Ringing(invite: m, reliable180: nil, rseqInterval: ctx.timers.t1)
        var c = SIPCall(handle: handle, outgoing: false, callID: callID, localTag: SecureRandom.token(), localParty: "<\(toAddr.uri)>",
                        remoteParty: remoteParty, remoteTarget: m["Contact"].flatMap({ try? NameAddress($0) })?.uri ?? fromAddr.uri,
                        destination: source, settings: settings, local: local, seed: seed, state: .ended)
        c.remoteTag = remoteTag
        c.remoteCSeq = (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? 0
        // A UAS keeps the Record-Route order (RFC 3261 §12.1.1).
        c.routeSet = m.values("Record-Route")
        c.remote = offer
        c.lateOffer = offer == nil
        if let se = m["Session-Expires"], let v = HeaderNumbers.deltaSeconds(se, in: HeaderNumbers.sessionInterval) {
            c.sessionInterval = v
            c.weRefresh = se.lowercased().contains("refresher=uas")
        }
        var headers: [(String, String)] = m.values("Record-Route").map { ("Record-Route", $0) } + [("Contact", "<\(ctx.contact)>")]
        if require.contains("100rel") { headers += [("Require", "100rel"), ("RSeq", "\(ringing.rseq)")] }
        let ring = c.respond(m, 180, "Ringing", toTag: c.localTag, headers: headers, to: source)
        var actions = [ring]
        if require.contains("100rel"), case .respond(let r, _) = ring {
            ringing.reliable180 = r
            c.reliableProvisional = (ringing.rseq, c.remoteCSeq)
            actions.append(.startTimer(.reliableProvisional, after: ringing.rseqInterval))
        }
        c.state = .incoming(ringing)
        return (c, actions)
    }

    /// Answers the ringing call: 200 with our SDP, retransmitted until the ACK.
    public mutating func answer(context ctx: CallContext) -> [CallAction] {
        guard case .incoming(let r) = state else { return [] }
        var headers: [(String, String)] = [("Contact", "<\(ctx.contact)>"), ("Allow", SIPRequests.allow), ("Supported", SIPRequests.supported)]
        if sessionInterval > 0 {
            headers.append(("Session-Expires", "\(sessionInterval);refresher=\(weRefresh ? "uas" : "uac")"))
            headers.append(("Require", "timer"))
        }
        var ok = SIPResponses.response(to: r.invite, status: 200, reason: "OK", toTag: localTag)
        for rr in r.invite.values("Record-Route") { ok.add("Record-Route", rr) }
        for (n, v) in headers { ok.add(n, v) }
        Self.withBody(&ok, local)
        state = .confirmed(Established(unacknowledged: UnacknowledgedOK(response: ok, interval: ctx.timers.t1, initial: true)))
        return [.cancelTimer(.reliableProvisional), .respond(ok, to: destination), .startTimer(.okRetransmit, after: ctx.timers.t1)]
            + mediaChanged() + restartSessionTimer()
    }

    static let rejectionReasons = [480: "Temporarily Unavailable", 486: "Busy Here", 488: "Not Acceptable Here", 603: "Decline",
                                   404: "Not Found", 403: "Forbidden"]

    /// Refuses the ringing call with a final status (486 busy, 480 unavailable, 603 decline…);
    /// a call already answered is hung up instead.
    public mutating func reject(status: Int, context ctx: CallContext) -> [CallAction] {
        // Past its answer a call can no longer be refused, only ended: the port's wish (a
        // held call rung back on hang-up and never picked up) must not leave it up.
        guard case .incoming(let r) = state else { return isOver ? [] : hangUp(context: ctx) }
        return [respond(r.invite, status, Self.rejectionReasons[status] ?? "Rejected", toTag: localTag, to: destination)]
            + finish(.localHangUp)
    }

    /// Sends the ringing call elsewhere: 302 Moved Temporarily with the new target as its
    /// Contact (RFC 3261 §21.3.3) — call forwarding done by the caller's side. Nil target
    /// (no URI): refused as unavailable instead.
    public mutating func redirect(to target: String?, context ctx: CallContext) -> [CallAction] {
        guard let target else { return reject(status: 480, context: ctx) }
        guard case .incoming(let r) = state else { return isOver ? [] : hangUp(context: ctx) }
        return [respond(r.invite, 302, "Moved Temporarily", toTag: localTag, headers: [("Contact", "<\(target)>")], to: destination)]
            + finish(.localHangUp)
    }

    /// The caller gave up (CANCEL, matched to the INVITE's transaction by the agent): 200 to
    /// the CANCEL, 487 to the INVITE. Nil when the call no longer rings (the agent says 481).
    public mutating func cancelled(by m: SIPMessage, from source: SIPNetworkAddress) -> [CallAction]? {
        guard case .incoming(let r) = state else { return nil }
        return [.transmit(SIPResponses.response(to: m, status: 200, reason: "OK", toTag: localTag), to: source),
                respond(r.invite, 487, "Request Terminated", toTag: localTag, to: destination)] + finish(.remoteHangUp)
    }

    /// The ACK of our 2xx: the retransmissions stop; a late offer's answer is in it.
    public mutating func acknowledged(_ m: SIPMessage) -> [CallAction] {
        guard case .confirmed(var e) = state, let ok = e.unacknowledged else { return [] }
        e.unacknowledged = nil
        state = .confirmed(e)
        var actions: [CallAction] = [.cancelTimer(.okRetransmit)]
        if lateOffer, !m.body.isEmpty, let sdp = try? SessionDescription.parse(m.body) {
            remote = sdp
            lateOffer = false
            actions += mediaChanged()
        }
        if ok.initial { actions.append(.event(.answered(handle))) }
        return actions
    }
}
