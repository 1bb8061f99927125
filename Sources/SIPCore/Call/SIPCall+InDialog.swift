import TipRingCore

/// Requests inside the call's dialog: BYE, re-INVITE, UPDATE, PRACK, INFO, OPTIONS.
extension SIPCall {
    /// A request whose Call-ID and tags name this call (not its ACK: ``acknowledged(_:)``).
    public mutating func received(_ m: SIPMessage, from source: SIPNetworkAddress, context ctx: CallContext) -> [CallAction] {
        guard let method = m.method else { return [] }
        let cseq = (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? 0
        // RFC 3261 §12.2.2: a CSeq not above the last one is out of order.
        if method != .prack, cseq <= remoteCSeq, remoteCSeq > 0, !(method == .bye && phase == .incoming) {
            return [respond(m, 500, "Server Internal Error (CSeq out of order)", to: source)]
        }
        if method != .prack { remoteCSeq = max(remoteCSeq, cseq) }
        switch method {
        case .bye:
            return [respond(m, 200, "OK", to: source)] + finish(.remoteHangUp)
        case .invite:
            return reinviteReceived(m, from: source, ctx)
        case .update:
            // A session refresh without a new offer.
            var headers: [(String, String)] = [("Contact", "<\(ctx.contact)>")]
            if sessionInterval > 0 { headers.append(("Session-Expires", "\(sessionInterval);refresher=\(weRefresh == outgoing ? "uac" : "uas")")) }
            return [respond(m, 200, "OK", headers: headers, to: source)] + restartSessionTimer()
        case .prack:
            // RFC 3262 §3: the RAck names the reliable response (its RSeq, then the INVITE's
            // CSeq); one that names none of ours is 481, and ours goes on being retransmitted.
            guard let sent = reliableProvisional, let rack = Self.rack(m["RAck"]), rack == (sent.rseq, sent.cseq) else {
                return [respond(m, 481, "Call/Transaction Does Not Exist", to: source)]
            }
            if case .incoming(var r) = state {
                r.reliable180 = nil
                state = .incoming(r)
            }
            return [.cancelTimer(.reliableProvisional), respond(m, 200, "OK", to: source)]
        case .info:
            return infoReceived(m, from: source)
        case .options:
            return [.respond(SIPResponses.capabilities(to: m), to: source)]
        case .refer:
            return referReceived(m, from: source)
        case .notify:
            return notifyReceived(m, from: source)
        case .message, .subscribe:
            return [respond(m, 405, "Method Not Allowed", headers: [("Allow", SIPRequests.allow)], to: source)]
        default:
            return [respond(m, 501, "Not Implemented", headers: [("Allow", SIPRequests.allow)], to: source)]
        }
    }

    /// The far end transfers us (RFC 3515): a Refer-To with a SIP URI in an established call
    /// is accepted (202) and handed to the port; the implicit subscription's NOTIFYs follow.
    mutating func referReceived(_ m: SIPMessage, from source: SIPNetworkAddress) -> [CallAction] {
        guard case .confirmed = state else { return [respond(m, 481, "Call/Transaction Does Not Exist", to: source)] }
        guard let value = m["Refer-To"], let target = Self.referTarget(value) else {
            return [respond(m, 400, "Bad Request (Refer-To: one sip: or sips: URI)", to: source)]
        }
        referCSeq = (try? CSeq(m["CSeq"] ?? ""))?.sequence
        return [respond(m, 202, "Accepted", to: source), .event(.transferRequested(handle, target: target))]
    }

    /// The URI of a Refer-To (name-addr or addr-spec), nil unless it is a SIP URI.
    package static func referTarget(_ value: String) -> String? {
        let trimmed = value.trimmingSpaces()
        let uri = trimmed.hasPrefix("<") || trimmed.contains("\"") ? (try? NameAddress(trimmed))?.uri : trimmed
        guard let uri else { return nil }
        let plain = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        guard plain.hasPrefix("sip:") || plain.hasPrefix("sips:"), (try? SIPURI(plain)) != nil else { return nil }
        return uri
    }

    /// The transfer's progress to the far end that asked for it (RFC 3515 §2.4.5): a NOTIFY
    /// with the new call's status line as a sipfrag; `final` ends the implicit subscription.
    public mutating func notifyTransfer(status: Int, reason: String, final: Bool, context ctx: CallContext) -> [CallAction] {
        guard case .confirmed = state else { return [] }
        var m = dialogRequest(.notify, ctx)
        m.add("Event", "refer" + (referCSeq.map { ";id=\($0)" } ?? ""))
        m.add("Subscription-State", final ? "terminated;reason=noresource" : "active;expires=60")
        m.add("Contact", "<\(ctx.contact)>")
        m.add("Content-Type", "message/sipfrag;version=2.0")
        m.body = Array("SIP/2.0 \(status) \(reason)\r\n".utf8)
        return [.request(m, .notify, to: dialogDestination(ctx))]
    }

    mutating func reinviteReceived(_ m: SIPMessage, from source: SIPNetworkAddress, _ ctx: CallContext) -> [CallAction] {
        guard case .confirmed(var e) = state, !e.reinvitePending else { return [respond(m, 491, "Request Pending", to: source)] }
        updateTarget(from: m)
        var answer = local
        if !m.body.isEmpty {
            let offer: SessionDescription
            do { offer = try SessionDescription.parse(m.body) } catch {
                return [respond(m, 488, "Not Acceptable Here", headers: [("Warning", "399 TipRing \"\(error.description.prefix(60))\"")], to: source)]
            }
            var policy = settings.media
            if voicebandOnly { policy.codecs = voicebandCodecs }
            guard var a = policy.answer(to: offer, address: ctx.mediaHost, port: local.port, wanting: wanted, previous: local) else {
                return [respond(m, 488, "Not Acceptable Here", to: source)]
            }
            a.sessionID = local.sessionID
            a.version = local.version + (a == local ? 0 : 1)
            answer = a
            remote = offer
        }
        local = answer
        var headers: [(String, String)] = [("Contact", "<\(ctx.contact)>"), ("Supported", SIPRequests.supported)]
        if let se = m["Session-Expires"], let v = HeaderNumbers.deltaSeconds(se, in: HeaderNumbers.sessionInterval) {
            sessionInterval = v
            let refresher = se.lowercased().contains("refresher=uas") ? "uas" : "uac"
            weRefresh = refresher == "uas"
            headers.append(("Session-Expires", "\(v);refresher=\(refresher)"))
            headers.append(("Require", "timer"))
        }
        var ok = SIPResponses.response(to: m, status: 200, reason: "OK")
        for (n, v) in headers { ok.add(n, v) }
        Self.withBody(&ok, answer)
        e.unacknowledged = UnacknowledgedOK(response: ok, interval: ctx.timers.t1, initial: false)
        state = .confirmed(e)
        return [.respond(ok, to: source), .startTimer(.okRetransmit, after: ctx.timers.t1)] + restartSessionTimer() + mediaChanged()
    }

    /// A RAck header's response number and CSeq number (`RAck: 776656 1 INVITE`), nil if
    /// it is not one.
    static func rack(_ value: String?) -> (UInt32, UInt32)? {
        guard let parts = value?.split(whereSeparator: { $0 == " " || $0 == "\t" }), parts.count == 3, parts[2].uppercased() == "INVITE",
              let rseq = ASCIIDecimal.exact(String(parts[0]), in: HeaderNumbers.rseq).map(UInt32.init),
              let cseq = try? CSeq("\(parts[1]) INVITE") else { return nil }
        return (rseq, cseq.sequence)
    }

    mutating func infoReceived(_ m: SIPMessage, from source: SIPNetworkAddress) -> [CallAction] {
        let type = (m["Content-Type"] ?? "").lowercased()
        let body = String(decoding: m.body, as: UTF8.self)
        var digit: Character?
        if type.hasPrefix("application/dtmf-relay") {
            for line in body.split(whereSeparator: \.isNewline) where line.lowercased().hasPrefix("signal") {
                digit = line.split(separator: "=", maxSplits: 1).last?.trimmingSpaces().first
            }
        } else if type.hasPrefix("application/dtmf") {
            digit = body.trimmingSpaces().first
        }
        if let d = digit.map({ Character($0.uppercased()) }), "0123456789*#ABCD".contains(d) {
            return [respond(m, 200, "OK", to: source), .event(.digit(handle, d))]
        }
        if type.isEmpty && m.body.isEmpty { return [respond(m, 200, "OK", to: source)] }  // an INFO keep-alive
        return [respond(m, 415, "Unsupported Media Type", headers: [("Accept", "application/dtmf-relay, application/dtmf")], to: source)]
    }

    /// Sends a digit in the call: RFC 4733 or in-band through the media layer, or SIP INFO
    /// when configured so (or when RFC 4733 was not agreed and the media layer cannot).
    public mutating func sendDigit(_ digit: Character, milliseconds ms: Int, context ctx: CallContext) -> [CallAction] {
        guard case .confirmed = state, settings.dtmf != .inband else { return [] }
        let negotiated = remote?.telephoneEvent != nil
        guard settings.dtmf == .info || (settings.dtmf == .rfc4733 && !negotiated && !ctx.mediaSendsDigits) else {
            return [.sendDigit(digit, milliseconds: ms)]
        }
        var m = dialogRequest(.info, ctx)
        m.add("Content-Type", "application/dtmf-relay")
        m.body = Array("Signal=\(digit)\r\nDuration=\(ms)\r\n".utf8)
        return [.request(m, .info, to: dialogDestination(ctx))]
    }
}
