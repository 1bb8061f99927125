import TipRingCore
import SIPCore

/// Message waiting (RFC 3842): the subscription to message-summary and its NOTIFYs.
extension SIPUserAgent {
    func registrationChanged(_ s: RegistrationStatus) {
        emit(.registration(s))
        if s.inService, settings.subscribeMessageWaiting, mwi == nil { subscribe() }
        if case .unregistered = s { mwi = nil; cancelTimer("mwi") }
    }

    func subscribe(expires: Int? = nil, authorization: (header: String, value: String)? = nil) {
        if mwi == nil { mwi = Subscription(callID: SecureRandom.token() + "@tipring", localTag: SecureRandom.token()) }
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
        startClient(m, purpose: .subscribe, to: agent.server)
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
        emit(.messageWaiting(waiting: summary.waiting, newMessages: summary.new, oldMessages: summary.old))
    }
}
