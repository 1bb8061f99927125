import TipRingCore
import SIPCore

/// What comes from the network: responses to their client transactions, requests to their
/// server transaction, to the call whose dialog they name, or to a new call.
extension SIPUserAgent {
    /// A response: to its client transaction (CANCELs keyed apart), or a retransmitted 2xx of
    /// an INVITE whose transaction is over — ACKed again by its call.
    func response(_ m: SIPMessage, from source: SIPNetworkAddress) {
        guard let top = m["Via"], let branch = try? Via(top).branch else { return }
        let method = (try? CSeq(m["CSeq"] ?? ""))?.method
        let key = method == .cancel ? branch + "-cancel" : branch
        if clients.feed(key, { $0.receive(m, now: scheduler.now) }) { return }
        if method == .invite, let h = call(for: m) {
            let ctx = context
            update(h) { $0.retransmittedAnswer(m, context: ctx) }
        }
    }

    func clientResponse(_ m: SIPMessage, purpose: Purpose) {
        switch purpose {
        case .subscribe: subscribeResponse(m)
        case .call(let h, let request):
            let ctx = context
            update(h) { $0.receive(m, for: request, context: ctx, digest: &digest) }
        }
    }

    func clientTimeout(_ purpose: Purpose) {
        guard case .call(let h, let request) = purpose else { return }
        let ctx = context
        update(h) { $0.timedOut(request, context: ctx) }
    }

    func request(_ m: SIPMessage, from source: SIPNetworkAddress) {
        guard case .request(let method, _) = m.startLine else { return }
        lastSource = source
        // Retransmissions go to their server transaction.
        if method != .ack, servers.feed(serverKey(m), { $0.receive(m, now: scheduler.now) }) { return }
        if method == .ack {
            // ACK of a non-2xx goes to its INVITE transaction; ACK of our 2xx to the call.
            servers.feed(serverKey(m)) { $0.receive(m, now: scheduler.now) }
            if let h = call(for: m) { update(h) { $0.acknowledged(m) } }
            return
        }
        if method == .cancel { return cancelReceived(m, from: source) }
        guard let t = try? ServerTransaction(request: m, reliable: transport.isReliable, timers: agent.settings.timers) else { return }
        servers.add(t, key: serverKey(m), context: source)

        if let toTag = (try? NameAddress(m["To"] ?? ""))?.tag {
            guard let h = call(for: m), calls[h]?.localTag == toTag else {
                if method == .notify, mwi?.localTag == toTag { return notifyReceived(m) }
                // The last NOTIFY of a subscription we ended (RFC 6665 §4.1.2.3): acknowledged.
                if method == .notify, endedSubscriptionTag == toTag { return respond(m, status: 200, reason: "OK") }
                return respond(m, status: 481, reason: "Call/Transaction Does Not Exist")
            }
            let ctx = context
            return update(h) { $0.received(m, from: source, context: ctx) }
        }
        switch method {
        case .invite: incomingInvite(m, from: source)
        case .options: respond(SIPResponses.capabilities(to: m), to: source)
        case .notify: notifyReceived(m)
        case .bye: respond(m, status: 481, reason: "Call/Transaction Does Not Exist")
        case .info, .update, .prack, .subscribe, .refer, .message:
            respond(m, status: 405, reason: "Method Not Allowed", headers: [("Allow", SIPRequests.allow)])
        default:
            respond(m, status: 501, reason: "Not Implemented", headers: [("Allow", SIPRequests.allow)])
        }
    }

    /// The call a message's Call-ID names.
    func call(for m: SIPMessage) -> CallHandle? {
        guard let id = m["Call-ID"] else { return nil }
        return calls.first { $0.value.callID == id }?.key
    }

    /// A new INVITE: screened first, so a refused call costs no media port; then a handle, a
    /// port and a ringing call.
    func incomingInvite(_ m: SIPMessage, from source: SIPNetworkAddress) {
        // The Call-ID of a call we have, without a To tag, on a new branch (retransmissions
        // were absorbed by their transaction): the same request reached us twice by a fork
        // that merged, or our own INVITE came back round a loop (RFC 3261 §8.2.2.2). Answered
        // 482, which also ends the transaction made for it.
        if call(for: m) != nil { return respond(m, status: 482, reason: "Loop Detected") }
        // Replaces (RFC 3891 §3): the dialog named must be one of ours, established.
        var replaced: CallHandle?
        if let value = m["Replaces"] {
            guard let old = replacedCall(value) else { return respond(m, status: 481, reason: "Call/Transaction Does Not Exist") }
            replaced = old
        }
        switch SIPCall.screen(m, settings: settings, mediaHost: context.mediaHost) {
        case .refuse(let r):
            respond(r, to: source)
        case .accept(let offer):
            let h = newCallHandle()
            guard let (c, actions) = SIPCall.ringing(m, offer: offer, handle: h, from: source, settings: settings, localPort: mediaPort(h),
                                                     sessionID: random.next() >> 20, seed: random.next(), context: context) else {
                onMedia?(h, nil)  // the port goes back
                return respond(m, status: 400, reason: "Bad Request")
            }
            calls[h] = c
            perform(actions, for: h)
            if let replaced {
                emit(.replacingCall(h, replaces: replaced, caller: Self.callerIdentity(m)))
            } else {
                emit(.incomingCall(h, caller: Self.callerIdentity(m)))
            }
        }
    }

    /// The established call a Replaces header names: its Call-ID, our tag as `to-tag`, the
    /// far end's as `from-tag` (RFC 3891 §3).
    func replacedCall(_ value: String) -> CallHandle? {
        let fields = value.split(separator: ";").map { $0.trimmingSpaces() }
        guard let id = fields.first, !id.isEmpty else { return nil }
        func tag(_ name: String) -> String? {
            fields.dropFirst().first { $0.lowercased().hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
        }
        guard let ours = tag("to-tag"), let theirs = tag("from-tag") else { return nil }
        return calls.first { _, c in c.callID == id && c.localTag == ours && c.remoteTag == theirs && c.phase == .confirmed }?.key
    }

    /// A CANCEL matches the INVITE's server transaction by branch.
    func cancelReceived(_ m: SIPMessage, from source: SIPNetworkAddress) {
        let key = serverKey(m).replacingSuffix(" CANCEL", with: " INVITE")
        let ringing = calls.first { $0.value.incomingInvite.map(self.serverKey) == key }?.key
        var handled = false
        if let h = ringing {
            update(h) { c in
                guard let actions = c.cancelled(by: m, from: source) else { return [] }
                handled = true
                return actions
            }
        }
        if !handled {
            agent.transmit(SIPResponses.response(to: m, status: 481, reason: "Call/Transaction Does Not Exist", toTag: SecureRandom.token()), to: source)
        }
    }
}
