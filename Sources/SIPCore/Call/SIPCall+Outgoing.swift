import TipRingCore

/// Calls we place: the INVITE and its responses, CANCEL, ACK; and our re-INVITEs (hold,
/// resume, session refresh) with their responses.
extension SIPCall {
    /// A call to `target` (a number in the account's domain, or a `sip:`/`sips:`/`tel:` URI):
    /// the call and its INVITE; nil and a 484 end when the target cannot be a URI (the media
    /// port taken for it goes back).
    public static func placing(_ handle: CallHandle, to target: String, withholdIdentity withhold: Bool, addressOfRecord aor: String,
                               settings: CallSettings, localPort: Int, sessionID: UInt64, seed: UInt64,
                               context ctx: CallContext) -> (SIPCall?, [CallAction]) {
        // A transfer's target may carry a Replaces header (RFC 3891): it goes in the INVITE,
        // never in the Request-URI (RFC 3261 §19.1.5).
        let parts = target.split(separator: "?", maxSplits: 1)
        let replaces = parts.count == 2 ? Self.replacesHeader(parts[1]) : nil
        guard let requestURI = targetURI(String(parts.first ?? ""), addressOfRecord: aor) else {
            return (nil, [.media(nil), .event(.ended(handle, .failed(status: 484, reason: "Address Incomplete")))])
        }
        let from = withhold ? "\"Anonymous\" <sip:anonymous@anonymous.invalid>" : (settings.displayName.map { "\"\($0)\" " } ?? "") + "<\(aor)>"
        var local = settings.media.offer(address: ctx.mediaHost, port: localPort)
        local.sessionID = sessionID
        local.version = sessionID
        // The state is set once the INVITE exists (building it takes the dialog's first CSeq).
        var call = SIPCall(handle: handle, outgoing: true, callID: SecureRandom.token() + "@tipring", localTag: SecureRandom.token(),
                           localParty: from, remoteParty: "<\(requestURI)>", remoteTarget: requestURI, destination: ctx.server,
                           settings: settings, local: local, seed: seed, state: .ended)
        call.replaces = replaces
        let invite = call.inviteRequest(withhold: withhold, aor: aor, authorization: nil, ctx)
        call.state = .outgoing(Attempt(invite: invite, withhold: withhold, addressOfRecord: aor))
        return (call, [.request(invite, .invite, to: ctx.server)])
    }

    /// The Replaces header among a URI's headers (`Replaces=id%40host%3Bto-tag%3Da%3Bfrom-tag%3Db`),
    /// %-decoded; nil when there is none or it is not one.
    package static func replacesHeader(_ headers: Substring) -> String? {
        for pair in headers.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].lowercased() == "replaces", let value = try? SIPURI.unescape(kv[1]) else { continue }
            let fields = value.split(separator: ";")
            guard fields.count >= 3, !fields[0].isEmpty, value.contains("to-tag="), value.contains("from-tag="),
                  !value.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) else { return nil }
            return value
        }
        return nil
    }

    /// What a dialled number (or a URI) becomes as a Request-URI or a Contact: a number is a
    /// user at the account's domain; nil when the result is no URI.
    public static func targetURI(_ target: String, addressOfRecord aor: String) -> String? {
        let domain = (try? SIPURI(aor)).map { "\($0.host)" } ?? "invalid"
        let uri = target.hasPrefix("sip:") || target.hasPrefix("sips:") || target.hasPrefix("tel:") ? target : "sip:\(target)@\(domain)"
        return (try? SIPURI(uri)) != nil ? uri : nil
    }

    mutating func inviteRequest(withhold: Bool, aor: String, authorization: (String, String)?, _ ctx: CallContext) -> SIPMessage {
        var m = dialogRequest(.invite, ctx)
        if let route = ctx.route, routeSet.isEmpty { m.set("Route", route) }
        m.add("Contact", "<\(ctx.contact)>")
        if withhold {
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
        if let replaces { m.add("Replaces", replaces) }
        Self.withBody(&m, local)
        return m
    }

    /// The same INVITE again (after a challenge or a 422), with a new CSeq and branch.
    mutating func inviteAgain(_ a: inout Attempt, authorization: (String, String)?, _ ctx: CallContext) -> CallAction {
        let m = inviteRequest(withhold: a.withhold, aor: a.addressOfRecord, authorization: authorization, ctx)
        a.invite = m
        a.provisional = false
        return .request(m, .invite, to: ctx.server)
    }

    /// Gives up a call not yet answered: CANCEL once a provisional response has come (RFC
    /// 3261 §9.1), else as soon as one does. Past the answer, a hang-up.
    public mutating func cancel(context ctx: CallContext) -> [CallAction] {
        guard case .outgoing(var a) = state else { return hangUp(context: ctx) }
        a.cancelWanted = true
        let actions = a.provisional ? cancelRequest(&a, ctx) : []
        state = .outgoing(a)
        return actions
    }

    func cancelRequest(_ a: inout Attempt, _ ctx: CallContext) -> [CallAction] {
        guard !a.cancelled, let m = SIPRequests.derived(.cancel, from: a.invite, to: a.invite["To"]) else { return [] }
        a.cancelled = true
        return [.request(m, .cancel, to: ctx.server), .startTimer(.cancelGiveUp, after: ctx.timers.t1 * 64)]
    }

    /// A response to one of the call's requests, from its client transaction.
    public mutating func receive(_ m: SIPMessage, for request: CallRequest, context ctx: CallContext, digest: inout DigestClient) -> [CallAction] {
        guard let status = m.status else { return [] }
        switch request {
        case .invite: return inviteResponse(m, status: status, ctx, digest: &digest)
        case .reinvite: return reinviteResponse(m, status: status, ctx)
        case .refer: return referResponse(status: status)
        case .cancel, .bye, .prack, .info, .notify: return []
        }
    }

    /// A retransmitted 2xx to our INVITE after its transaction ended: the ACK was lost; again.
    public mutating func retransmittedAnswer(_ m: SIPMessage, context ctx: CallContext) -> [CallAction] {
        guard case .confirmed = state, let status = m.status, (200...299).contains(status), let cseq = try? CSeq(m["CSeq"] ?? "") else { return [] }
        return [ack(cseq: cseq.sequence, ctx)]
    }

    /// A request's transaction timed out.
    public mutating func timedOut(_ request: CallRequest, context ctx: CallContext) -> [CallAction] {
        switch request {
        case .invite:
            return finish(.timeout)
        case .reinvite:
            // No answer to a re-INVITE: the dialog is gone (RFC 3261 §14.1).
            guard case .confirmed(var e) = state else { return [] }
            e.reinvitePending = false
            state = .confirmed(e)
            return [bye(ctx)] + finish(.timeout)
        case .bye:
            return finish(.localHangUp)
        case .refer:
            return referResponse(status: 408)
        case .cancel, .prack, .info, .notify:
            return []
        }
    }

    mutating func inviteResponse(_ m: SIPMessage, status: Int, _ ctx: CallContext, digest: inout DigestClient) -> [CallAction] {
        guard case .outgoing(var a) = state else {
            return (200...299).contains(status) ? retransmittedAnswer(m, context: ctx) : []
        }
        switch status {
        case 100:
            return []
        case 101...199:
            var actions: [CallAction] = []
            if let tag = (try? NameAddress(m["To"] ?? ""))?.tag {
                remoteTag = tag
                // The early dialog's route set (RFC 3261 §12.1.2), for PRACK and UPDATE.
                routeSet = m.values("Record-Route").reversed()
            }
            a.provisional = true
            if a.cancelWanted {
                actions = cancelRequest(&a, ctx)
                state = .outgoing(a)
                return actions
            }
            // RFC 3262: a reliable provisional response is PRACKed, once per RSeq.
            if Self.required(m).contains("100rel"), let rseqText = m["RSeq"],
               let rseq = ASCIIDecimal.exact(rseqText.trimmingSpaces(), in: HeaderNumbers.rseq).map(UInt32.init),
               a.lastRSeq.map({ rseq > $0 }) ?? true {
                a.lastRSeq = rseq
                updateTarget(from: m)
                var p = dialogRequest(.prack, ctx)
                if let cs = m["CSeq"] { p.add("RAck", "\(rseq) \(cs)") }
                actions.append(.request(p, .prack, to: dialogDestination(ctx)))
            }
            if !m.body.isEmpty, let sdp = try? SessionDescription.parse(m.body), settings.media.accept(answer: sdp, offered: local) {
                remote = sdp
                a.early = true
                state = .outgoing(a)
                return actions + mediaChanged() + [.event(.earlyMedia(handle))]
            }
            if status == 180 || status == 181 || status == 182 {
                a.early = true
                actions.append(.event(.ringing(handle)))
            }
            state = .outgoing(a)
            return actions
        case 200...299:
            remoteTag = (try? NameAddress(m["To"] ?? ""))?.tag ?? remoteTag
            updateTarget(from: m)
            routeSet = m.values("Record-Route").reversed()
            destination = dialogDestination(ctx)
            var actions = [ack(cseq: (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? localCSeq, ctx)]
            state = .confirmed(Established())
            if a.cancelled || a.cancelWanted {
                // The 200-versus-CANCEL race: the call was answered as we gave up.
                return actions + [bye(ctx)] + finish(.localHangUp)
            }
            if !m.body.isEmpty {
                guard let sdp = try? SessionDescription.parse(m.body), settings.media.accept(answer: sdp, offered: local) else {
                    return actions + [bye(ctx)] + finish(.failed(status: 488, reason: "the answer's SDP is unusable"))
                }
                remote = sdp
            }
            actions += startSessionTimer(response: m)
            return actions + mediaChanged() + [.event(.answered(handle))]
        case 401 where a.cancelWanted, 407 where a.cancelWanted, 422 where a.cancelWanted:
            // Given up before the network even took the call: no second attempt.
            return finish(.localHangUp)
        case 401, 407:
            let header = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
            guard !a.authAnswered, let ch = DigestChallenge.preferred(m.values(header), minimum: ctx.minimumDigest) else {
                return finish(.failed(status: 403, reason: "authentication failed"))
            }
            a.authAnswered = true
            let uri: String
            if case .request(_, let u) = a.invite.startLine { uri = u } else { uri = remoteTarget }
            let value = digest.authorization(for: ch, method: .invite, uri: uri)
            let again = inviteAgain(&a, authorization: (status == 401 ? "Authorization" : "Proxy-Authorization", value), ctx)
            state = .outgoing(a)
            return [again]
        case 422:
            guard let v = HeaderNumbers.deltaSeconds(m["Min-SE"], in: HeaderNumbers.sessionInterval), v > settings.sessionExpires,
                  v < HeaderNumbers.sessionInterval.upperBound else {
                return finish(.failed(status: 422, reason: "Session Interval Too Small"))
            }
            settings.sessionExpires = v
            a.authAnswered = false
            let again = inviteAgain(&a, authorization: nil, ctx)
            state = .outgoing(a)
            return [again]
        case 300...399 where !a.cancelWanted && a.redirects < Attempt.redirectLimit:
            // Redirected (RFC 3261 §8.1.3.4): the same request to the first new SIP Contact —
            // the early dialog of a provisional response before it is gone.
            guard let next = Self.redirectTargets(m).first(where: { !a.tried.contains($0) }) else { fallthrough }
            a.redirects += 1
            a.tried.insert(next)
            remoteTarget = next
            redirectedTo = next
            remoteTag = nil
            routeSet = []
            a.authAnswered = false
            let again = inviteAgain(&a, authorization: nil, ctx)
            state = .outgoing(a)
            return [again]
        default:
            if a.cancelled || a.cancelWanted { return finish(.localHangUp) }
            let reason: String
            if case .response(_, let r) = m.startLine { reason = r } else { reason = "" }
            return finish(.failed(status: status, reason: reason))
        }
    }

    /// The SIP URIs a 3xx offers, in its order (`q` values are not weighed).
    static func redirectTargets(_ m: SIPMessage) -> [String] {
        m.values("Contact").flatMap { $0.split(separator: ",").map(String.init) }.compactMap { v in
            guard let uri = (try? NameAddress(v.trimmingSpaces()))?.uri, uri.hasPrefix("sip:") || uri.hasPrefix("sips:"),
                  (try? SIPURI(uri)) != nil else { return nil }
            return uri
        }
    }

    // MARK: hold, resume, re-INVITE

    /// Hold (`sendonly`) or resume (`sendrecv`) by re-INVITE; one at a time, the latest wish
    /// sent when the one out is answered.
    public mutating func changeDirection(to direction: MediaDirection, context ctx: CallContext) -> [CallAction] {
        guard case .confirmed(var e) = state else { return [] }
        if e.reinvitePending {
            e.pendingDirection = direction
            state = .confirmed(e)
            return []
        }
        wanted = direction
        local.direction = direction
        local.version += 1
        return [reinviteRequest(ctx)]
    }

    /// Our address changed under the call (an LTE reconnect): a re-INVITE with the new
    /// Contact and the media at the new address — a target refresh (RFC 3261 §12.2) with a new
    /// offer (RFC 3264 §8) — so that the far end's requests and media follow us. One re-INVITE
    /// at a time, as for hold: the refresh goes out when the one in flight is answered.
    public mutating func refreshTarget(context ctx: CallContext) -> [CallAction] {
        guard case .confirmed(let e) = state, local.address != ctx.mediaHost else { return [] }
        local.address = ctx.mediaHost
        local.version += 1
        return reoffer(e, ctx)
    }

    /// Our description changed: a re-INVITE with it now, or once the one in flight is answered.
    mutating func reoffer(_ established: Established, _ ctx: CallContext) -> [CallAction] {
        guard established.reinvitePending else { return [reinviteRequest(ctx)] }
        var e = established
        e.pendingDirection = wanted
        state = .confirmed(e)
        return []
    }

    /// A fax or modem in the call: it must cross as G.711 (a speech codec such as Opus would
    /// ruin its signals). When the call is on another codec, a re-INVITE offers G.711 only
    /// (our G.711 formats, PCMU and PCMA if we list none) and telephone-event; refused, the
    /// call stays as it is. One re-INVITE at a time: it waits for one in flight.
    public mutating func useVoicebandCodec(context ctx: CallContext) -> [CallAction] {
        guard case .confirmed(let e) = state, !voicebandOnly else { return [] }
        voicebandOnly = true
        guard let current = media?.codec, !Self.isVoiceband(current) else { return [] }
        formatsBeforeVoiceband = local.formats
        local.formats = voicebandCodecs + local.formats.filter { $0.name == "telephone-event" && $0.clockRate == 8000 }
        local.version += 1
        return reoffer(e, ctx)
    }

    static func isVoiceband(_ f: PayloadFormat) -> Bool { f.name == "PCMU" || f.name == "PCMA" }

    /// Our G.711 codecs in our order; PCMU and PCMA when we list none.
    var voicebandCodecs: [PayloadFormat] {
        let ours = settings.media.codecs.filter(Self.isVoiceband)
        return ours.isEmpty ? [.pcmu, .pcma] : ours
    }

    mutating func reinviteRequest(_ ctx: CallContext) -> CallAction {
        var m = dialogRequest(.invite, ctx)
        m.add("Contact", "<\(ctx.contact)>")
        m.add("Supported", SIPRequests.supported)
        if sessionInterval > 0 {
            m.add("Session-Expires", "\(sessionInterval);refresher=\(outgoing ? "uac" : "uas")")
        }
        Self.withBody(&m, local)
        if case .confirmed(var e) = state {
            e.reinvitePending = true
            state = .confirmed(e)
        }
        return .request(m, .reinvite, to: dialogDestination(ctx))
    }

    mutating func reinviteResponse(_ m: SIPMessage, status: Int, _ ctx: CallContext) -> [CallAction] {
        guard status >= 200, case .confirmed(var e) = state else { return [] }
        e.reinvitePending = false
        state = .confirmed(e)
        var actions: [CallAction] = []
        if (200...299).contains(status) {
            actions.append(ack(cseq: (try? CSeq(m["CSeq"] ?? ""))?.sequence ?? localCSeq, ctx))
            updateTarget(from: m)
            if !m.body.isEmpty, let sdp = try? SessionDescription.parse(m.body) { remote = sdp }
            formatsBeforeVoiceband = nil
            actions += restartSessionTimer()
            actions += mediaChanged()
        } else if status == 481 || status == 408 {
            return [bye(ctx)] + finish(.remoteHangUp)
        } else if status == 491 {
            // Glare: try again after a random 2.1–4 s (RFC 3261 §14.1).
            return [.startTimer(.glareRetry, after: .milliseconds(2100 + Int64(random.next() % 1900)))]
        } else if let before = formatsBeforeVoiceband {
            // G.711 refused (488): the call goes on with the codec it has, and answers the
            // far end's offers with it as before.
            local.formats = before
            formatsBeforeVoiceband = nil
            voicebandOnly = false
        }
        if let next = e.pendingDirection {
            e.pendingDirection = nil
            state = .confirmed(e)
            actions += changeDirection(to: next, context: ctx)
        }
        return actions
    }
}
