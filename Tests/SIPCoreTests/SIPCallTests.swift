import Testing
import TipRingCore
@testable import SIPCore

/// The call as a pure value: messages are fed to it one at a time, and what it asks for (the
/// actions) is read against RFC 3261, 3262 and 4028 — no network, no scheduler, no user agent.
@Suite("A call as a pure state machine")
struct SIPCallTests {
    static let server = SIPNetworkAddress("192.0.2.1")
    static let peer = SIPNetworkAddress("198.51.100.7")
    static let ctx = CallContext(contact: "sip:1001@192.0.2.10:5060", transport: .udp, timers: TransactionTimers(), server: server,
                                 route: nil, minimumDigest: .md5, mediaHost: "192.0.2.10", mediaSendsDigits: true)
    static let answerSDP = """
    v=0\r
    o=- 7 7 IN IP4 198.51.100.7\r
    s=-\r
    c=IN IP4 198.51.100.7\r
    t=0 0\r
    m=audio 30000 RTP/AVP 0 101\r
    a=rtpmap:0 PCMU/8000\r
    a=rtpmap:101 telephone-event/8000\r
    a=sendrecv\r

    """

    // MARK: helpers

    static func placing(_ settings: CallSettings = CallSettings()) throws -> (SIPCall, SIPMessage) {
        let (call, actions) = SIPCall.placing(CallHandle(id: 1), to: "1002", withholdIdentity: false, addressOfRecord: "sip:1001@example.com",
                                              settings: settings, localPort: 4000, sessionID: 42, seed: 1, context: ctx)
        let c = try #require(call)
        guard case .request(let invite, .invite, let to)? = actions.first, actions.count == 1 else {
            Issue.record("placing a call sends exactly its INVITE: \(actions)")
            throw Failure()
        }
        #expect(to == server)
        return (c, invite)
    }

    struct Failure: Error {}

    static func response(to request: SIPMessage, _ status: Int, _ reason: String, toTag: String? = "b0b",
                         headers: [(String, String)] = [], sdp: String? = nil) -> SIPMessage {
        var r = SIPResponses.response(to: request, status: status, reason: reason, toTag: toTag)
        for (n, v) in headers { r.add(n, v) }
        if let sdp {
            r.add("Content-Type", "application/sdp")
            r.body = Array(sdp.utf8)
        }
        return r
    }

    static func parse(_ text: String) throws -> SIPMessage {
        try SIPParser.parse(Array(text.replacing("\n", with: "\r\n").utf8))
    }

    static func incomingInvite(require: String? = nil, sessionExpires: String? = nil, sdp: String? = answerSDP) throws -> SIPMessage {
        var extra = ""
        if let require { extra += "Require: \(require)\n" }
        if let sessionExpires { extra += "Session-Expires: \(sessionExpires)\n" }
        let body = (sdp ?? "").replacing("\r\n", with: "\n")
        return try parse("""
        INVITE sip:1001@192.0.2.10:5060 SIP/2.0
        Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKcaller1
        Max-Forwards: 70
        From: "Bob" <sip:1002@example.com>;tag=bobtag
        To: <sip:1001@example.com>
        Call-ID: incoming-1@198.51.100.7
        CSeq: 10 INVITE
        Contact: <sip:1002@198.51.100.7:5060>
        \(extra)Content-Type: application/sdp
        Content-Length: \(body.replacing("\n", with: "\r\n").utf8.count)

        \(body)
        """)
    }

    /// A request from Bob in the incoming call's dialog (`toTag`: ours; nil before it exists).
    static func fromBob(_ method: String, cseq: Int, branch: String, toTag: String?, extra: String = "") throws -> SIPMessage {
        try parse("""
        \(method) sip:1001@192.0.2.10:5060 SIP/2.0
        Via: SIP/2.0/UDP 198.51.100.7:5060;branch=\(branch)
        From: "Bob" <sip:1002@example.com>;tag=bobtag
        To: <sip:1001@example.com>\(toTag.map { ";tag=\($0)" } ?? "")
        Call-ID: incoming-1@198.51.100.7
        CSeq: \(cseq) \(method)
        \(extra)Content-Length: 0


        """)
    }

    static func ringing(_ invite: SIPMessage) throws -> (SIPCall, [CallAction]) {
        guard case .accept(let offer) = SIPCall.screen(invite, settings: CallSettings()) else {
            Issue.record("the INVITE should ring")
            throw Failure()
        }
        return try #require(SIPCall.ringing(invite, offer: offer, handle: CallHandle(id: 9), from: peer, settings: CallSettings(),
                                            localPort: 4000, sessionID: 42, seed: 1, context: ctx))
    }

    static func requests(_ actions: [CallAction]) -> [(SIPMessage, CallRequest)] {
        actions.compactMap { if case .request(let m, let p, _) = $0 { (m, p) } else { nil } }
    }

    static func transmitted(_ actions: [CallAction]) -> [SIPMessage] {
        actions.compactMap { if case .transmit(let m, _) = $0 { m } else { nil } }
    }

    static func responses(_ actions: [CallAction]) -> [SIPMessage] {
        actions.compactMap { if case .respond(let m, _) = $0 { m } else { nil } }
    }

    static func events(_ actions: [CallAction]) -> [UserAgentEvent] {
        actions.compactMap { if case .event(let e) = $0 { e } else { nil } }
    }

    static func started(_ actions: [CallAction], _ timer: CallTimer) -> Duration? {
        for case .startTimer(timer, let d) in actions { return d }
        return nil
    }

    // MARK: outgoing

    @Test("an outgoing call: INVITE, 180 rings, 200 is ACKed to the dialog's target and starts the refresh at half the interval, BYE ends it")
    func outgoingCall() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "x")
        #expect(invite["CSeq"] == "1 INVITE")
        #expect(invite["Session-Expires"] == "1800")
        #expect(invite["Content-Type"] == "application/sdp")
        #expect((try? NameAddress(invite["From"] ?? ""))?.tag == call.localTag)
        #expect(call.phase == .calling)

        let ringing = call.receive(Self.response(to: invite, 180, "Ringing"), for: .invite, context: Self.ctx, digest: &digest)
        #expect(Self.events(ringing) == [.ringing(call.handle)])
        #expect(call.phase == .early)
        #expect(call.remoteTag == "b0b")

        let ok = Self.response(to: invite, 200, "OK", headers: [("Contact", "<sip:1002@198.51.100.7:5070>"),
                                                               ("Session-Expires", "1800;refresher=uac")], sdp: Self.answerSDP)
        let answered = call.receive(ok, for: .invite, context: Self.ctx, digest: &digest)
        #expect(call.phase == .confirmed)
        guard case .transmit(let ack, let to)? = answered.first else { Issue.record("the 2xx is ACKed first: \(answered)"); return }
        #expect(ack.method == .ack)
        #expect(ack["CSeq"] == "1 ACK")  // the INVITE's number (RFC 3261 §13.2.2.4)
        #expect(to == SIPNetworkAddress("198.51.100.7", 5070))  // the Contact: a numeric target
        if case .request(.ack, let uri) = ack.startLine { #expect(uri == "sip:1002@198.51.100.7:5070") }
        #expect(Self.started(answered, .sessionRefresh) == .seconds(900))  // we are the UAC refresher
        #expect(call.media?.remote.port == 30000)
        #expect(Self.events(answered) == [.answered(call.handle)])

        let hangUp = call.hangUp(context: Self.ctx)
        let bye = try #require(Self.requests(hangUp).first)
        #expect(bye.1 == .bye)
        #expect(bye.0["CSeq"] == "2 BYE")
        #expect((try? NameAddress(bye.0["To"] ?? ""))?.tag == "b0b")
        #expect(hangUp.contains(.media(nil)))
        #expect(hangUp.contains(.cancelTimer(.sessionRefresh)))
        #expect(Self.events(hangUp) == [.ended(call.handle, .localHangUp)])
        #expect(call.isOver)
        #expect(call.hangUp(context: Self.ctx).isEmpty)  // nothing twice
    }

    @Test("a target that cannot be a URI ends at once as 484, handing the media port back")
    func unusableTarget() {
        let (call, actions) = SIPCall.placing(CallHandle(id: 3), to: "sip:bob@", withholdIdentity: false, addressOfRecord: "sip:1001@example.com",
                                              settings: CallSettings(), localPort: 4000, sessionID: 1, seed: 1, context: Self.ctx)
        #expect(call == nil)
        #expect(actions == [.media(nil), .event(.ended(CallHandle(id: 3), .failed(status: 484, reason: "Address Incomplete")))])
    }

    @Test("a CANCEL waits for a provisional response (RFC 3261 §9.1); a 200 that crosses it is ACKed and BYEd")
    func cancelWaitsForProvisional() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "x")
        #expect(call.cancel(context: Self.ctx).isEmpty)
        let trying = call.receive(Self.response(to: invite, 100, "Trying", toTag: nil), for: .invite, context: Self.ctx, digest: &digest)
        #expect(trying.isEmpty)
        let afterRinging = call.receive(Self.response(to: invite, 180, "Ringing"), for: .invite, context: Self.ctx, digest: &digest)
        let cancel = try #require(Self.requests(afterRinging).first)
        #expect(cancel.1 == .cancel)
        #expect(cancel.0["CSeq"] == "1 CANCEL")
        #expect(cancel.0["Via"] == invite["Via"])  // the INVITE's branch
        #expect(call.cancel(context: Self.ctx).isEmpty)  // one CANCEL

        let crossed = call.receive(Self.response(to: invite, 200, "OK", sdp: Self.answerSDP), for: .invite, context: Self.ctx, digest: &digest)
        #expect(Self.transmitted(crossed).map(\.method) == [.ack])
        #expect(Self.requests(crossed).map(\.1) == [.bye])
        #expect(Self.events(crossed) == [.ended(call.handle, .localHangUp)])
    }

    @Test("a CANCEL whose INVITE never gets its final response (a 481 to the CANCEL, the 487 lost): the call ends 64·T1 after the CANCEL (RFC 3261 §9.1)")
    func cancelGivesUpAfter64T1() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "x")
        _ = call.receive(Self.response(to: invite, 180, "Ringing"), for: .invite, context: Self.ctx, digest: &digest)
        let cancelling = call.cancel(context: Self.ctx)
        let cancel = try #require(Self.requests(cancelling).first)
        #expect(cancel.1 == .cancel)
        #expect(Self.started(cancelling, .cancelGiveUp) == Self.ctx.timers.t1 * 64)
        #expect(call.isBeingGivenUp && !call.isOver)
        _ = call.receive(Self.response(to: cancel.0, 481, "Call/Transaction Does Not Exist"), for: .cancel, context: Self.ctx, digest: &digest)
        #expect(!call.isOver)  // the INVITE may still get its 487
        let gaveUp = call.timerFired(.cancelGiveUp, context: Self.ctx)
        #expect(Self.events(gaveUp) == [.ended(call.handle, .localHangUp)])
        #expect(gaveUp.contains(.media(nil)))
        #expect(call.isOver)
        // A 487 arriving after that changes nothing.
        #expect(Self.events(call.receive(Self.response(to: invite, 487, "Request Terminated"), for: .invite, context: Self.ctx, digest: &digest)).isEmpty)
    }

    @Test("refusing a call already answered (a held call rung back and never picked up) hangs it up with BYE instead of doing nothing")
    func rejectingAnAnsweredCallHangsUp() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "x")
        _ = call.receive(Self.response(to: invite, 200, "OK", sdp: Self.answerSDP), for: .invite, context: Self.ctx, digest: &digest)
        let refused = call.reject(status: 480, context: Self.ctx)
        #expect(Self.requests(refused).map(\.1) == [.bye])
        #expect(Self.events(refused) == [.ended(call.handle, .localHangUp)])
        #expect(call.isOver)
        #expect(call.reject(status: 480, context: Self.ctx).isEmpty)
    }

    @Test("a reliable provisional (RFC 3262) is PRACKed once per RSeq, wherever 100rel stands in its Require list")
    func reliableProvisionalPRACKed() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "x")
        let reliable = Self.response(to: invite, 183, "Session Progress", headers: [("Require", "timer, 100rel"), ("RSeq", "7")], sdp: Self.answerSDP)
        let first = call.receive(reliable, for: .invite, context: Self.ctx, digest: &digest)
        let prack = try #require(Self.requests(first).first)
        #expect(prack.1 == .prack)
        #expect(prack.0["RAck"] == "7 1 INVITE")
        #expect(Self.events(first) == [.earlyMedia(call.handle)])
        let repeated = call.receive(reliable, for: .invite, context: Self.ctx, digest: &digest)
        #expect(Self.requests(repeated).isEmpty)
    }

    @Test("a challenge is answered once with a new CSeq; a second one ends the call as 403")
    func challengeAnsweredOnce() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "secret")
        let challenge = ("Proxy-Authenticate", "Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\", algorithm=MD5")
        let first = call.receive(Self.response(to: invite, 407, "Proxy Authentication Required", headers: [challenge]),
                                 for: .invite, context: Self.ctx, digest: &digest)
        let again = try #require(Self.requests(first).first)
        #expect(again.1 == .invite)
        #expect(again.0["CSeq"] == "2 INVITE")
        #expect(again.0["Proxy-Authorization"]?.contains("username=\"1001\"") == true)
        #expect(again.0["Call-ID"] == invite["Call-ID"])
        #expect(again.0["Via"] != invite["Via"])  // a new transaction
        let second = call.receive(Self.response(to: again.0, 407, "Proxy Authentication Required", headers: [challenge]),
                                  for: .invite, context: Self.ctx, digest: &digest)
        #expect(Self.events(second) == [.ended(call.handle, .failed(status: 403, reason: "authentication failed"))])
    }

    @Test("a 302 is followed (RFC 3261 §8.1.3.4): the same INVITE to its Contact, new CSeq and branch, the early dialog dropped; a loop back to a tried target, or a sixth redirect, ends the call with the 3xx")
    func redirectFollowed() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "secret")
        _ = call.receive(Self.response(to: invite, 180, "Ringing", toTag: "early"), for: .invite, context: Self.ctx, digest: &digest)
        let moved = call.receive(Self.response(to: invite, 302, "Moved Temporarily", headers: [("Contact", "\"Voicemail\" <sip:1003@example.com>;q=0.5")]),
                                 for: .invite, context: Self.ctx, digest: &digest)
        let again = try #require(Self.requests(moved).first)
        #expect(again.1 == .invite && Self.events(moved).isEmpty)
        if case .request(_, let uri) = again.0.startLine { #expect(uri == "sip:1003@example.com") } else { Issue.record("not a request") }
        #expect(again.0["CSeq"] == "2 INVITE" && again.0["Call-ID"] == invite["Call-ID"] && again.0["Via"] != invite["Via"])
        #expect(again.0["To"] == invite["To"])  // no tag: the 180's early dialog is gone
        #expect(call.redirectedTo == "sip:1003@example.com")
        // Back to where it started: tried already, so the call ends with the 302.
        let loop = call.receive(Self.response(to: again.0, 302, "Moved Temporarily", headers: [("Contact", "<sip:1003@example.com>")]),
                                for: .invite, context: Self.ctx, digest: &digest)
        #expect(Self.events(loop) == [.ended(call.handle, .failed(status: 302, reason: "Moved Temporarily"))])
        // A chain of new targets stops after five.
        var (chain, first) = try Self.placing()
        var last = first
        for i in 0..<6 {
            let actions = chain.receive(Self.response(to: last, 302, "Moved Temporarily", headers: [("Contact", "<sip:20\(i)@example.com>")]),
                                        for: .invite, context: Self.ctx, digest: &digest)
            if i < 5 { last = try #require(Self.requests(actions).first?.0) } else {
                #expect(Self.events(actions) == [.ended(chain.handle, .failed(status: 302, reason: "Moved Temporarily"))])
            }
        }
        // A 3xx with no SIP contact (a tel: or none) is a failure like any other.
        var (plain, i3) = try Self.placing()
        let noContact = plain.receive(Self.response(to: i3, 302, "Moved Temporarily", headers: [("Contact", "<tel:+15551234>")]), for: .invite, context: Self.ctx, digest: &digest)
        #expect(Self.events(noContact) == [.ended(plain.handle, .failed(status: 302, reason: "Moved Temporarily"))])
    }

    @Test("a ringing call redirected: 302 Moved Temporarily with the target as Contact, the call over; answered already, a hang-up")
    func redirectRingingCall() throws {
        var (call, _) = try Self.ringing(try Self.incomingInvite())
        let actions = call.redirect(to: "sip:2001@example.com", context: Self.ctx)
        let r = try #require(Self.responses(actions).first)
        #expect(r.status == 302 && r["Contact"] == "<sip:2001@example.com>" && r["To"]?.contains("tag=") == true)
        #expect(Self.events(actions) == [.ended(call.handle, .localHangUp)])
        #expect(SIPCall.targetURI("2001", addressOfRecord: "sip:1001@example.com") == "sip:2001@example.com")
        #expect(SIPCall.targetURI("sip:x@y", addressOfRecord: "sip:1001@example.com") == "sip:x@y")
        var unusable = try Self.ringing(try Self.incomingInvite()).0
        #expect(Self.responses(unusable.redirect(to: nil, context: Self.ctx)).first?.status == 480)
    }

    /// An outgoing call answered (Bob's tag "b0b", Contact 198.51.100.7:5070).
    static func established() throws -> SIPCall {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "x")
        _ = call.receive(Self.response(to: invite, 200, "OK", headers: [("Contact", "<sip:1002@198.51.100.7:5070>")], sdp: Self.answerSDP),
                         for: .invite, context: Self.ctx, digest: &digest)
        return call
    }

    static func refer(_ call: SIPCall, referTo: String?, cseq: Int = 7) throws -> SIPMessage {
        try parse("""
        REFER sip:1001@192.0.2.10:5060 SIP/2.0
        Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKrefer\(cseq)
        From: <sip:1002@example.com>;tag=b0b
        To: <sip:1001@example.com>;tag=\(call.localTag)
        Call-ID: \(call.callID)
        CSeq: \(cseq) REFER
        \(referTo.map { "Refer-To: \($0)\n" } ?? "")Content-Length: 0


        """)
    }

    @Test("REFER in an established call (RFC 3515): 202 and the target handed on — name-addr or bare, with Replaces kept; no SIP URI is a 400; not established, 481")
    func referReceived() throws {
        var call = try Self.established()
        let accepted = call.received(try Self.refer(call, referTo: "<sip:1003@example.com>"), from: Self.peer, context: Self.ctx)
        #expect(Self.responses(accepted).map(\.status) == [202])
        #expect(Self.events(accepted) == [.transferRequested(call.handle, target: "sip:1003@example.com")])
        let attended = call.received(try Self.refer(call, referTo: "<sip:1003@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>", cseq: 8),
                                     from: Self.peer, context: Self.ctx)
        #expect(Self.events(attended) == [.transferRequested(call.handle, target: "sip:1003@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2")])
        for (i, bad) in ["<tel:+15551234>", "<mailto:a@b>", "nonsense", nil].enumerated() {
            let r = call.received(try Self.refer(call, referTo: bad, cseq: 9 + i), from: Self.peer, context: Self.ctx)
            #expect(Self.responses(r).map(\.status) == [400] && Self.events(r).isEmpty, "\(bad ?? "no Refer-To")")
        }
        var ringing = try Self.ringing(try Self.incomingInvite()).0
        let early = ringing.received(try Self.refer(ringing, referTo: "<sip:1003@example.com>", cseq: 1000), from: Self.peer, context: Self.ctx)
        #expect(Self.responses(early).map(\.status) == [481], "\(early)")
    }

    @Test("the transfer's progress as NOTIFY (RFC 3515 §2.4.5): Event refer with the REFER's id, sipfrag body, the subscription ended by the final one")
    func transferNotify() throws {
        var call = try Self.established()
        _ = call.received(try Self.refer(call, referTo: "<sip:1003@example.com>", cseq: 7), from: Self.peer, context: Self.ctx)
        let trying = try #require(Self.requests(call.notifyTransfer(status: 100, reason: "Trying", final: false, context: Self.ctx)).first)
        #expect(trying.1 == .notify && trying.0.method == .notify)
        #expect(trying.0["Event"] == "refer;id=7" && trying.0["Subscription-State"] == "active;expires=60")
        #expect(trying.0["Content-Type"] == "message/sipfrag;version=2.0" && String(decoding: trying.0.body, as: UTF8.self) == "SIP/2.0 100 Trying\r\n")
        #expect((try? NameAddress(trying.0["To"] ?? ""))?.tag == "b0b")
        let done = try #require(Self.requests(call.notifyTransfer(status: 200, reason: "OK", final: true, context: Self.ctx)).first)
        #expect(done.0["Subscription-State"] == "terminated;reason=noresource" && String(decoding: done.0.body, as: UTF8.self) == "SIP/2.0 200 OK\r\n")
    }

    static func notify(_ call: SIPCall, _ body: String, state: String, event: String = "refer", cseq: Int) throws -> SIPMessage {
        try parse("""
        NOTIFY sip:1001@192.0.2.10:5060 SIP/2.0
        Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKnotify\(cseq)
        From: <sip:1002@example.com>;tag=b0b
        To: <sip:1001@example.com>;tag=\(call.localTag)
        Call-ID: \(call.callID)
        CSeq: \(cseq) NOTIFY
        Event: \(event)
        Subscription-State: \(state)
        Content-Type: message/sipfrag;version=2.0
        Content-Length: \(body.utf8.count)

        \(body)
        """)
    }

    @Test("our REFER (RFC 3515): Refer-To and Referred-By in the dialog; 202 then NOTIFYs — 1xx answered and nothing more, the final sipfrag ends the transfer once")
    func referSent() throws {
        var call = try Self.established()
        let sent = try #require(Self.requests(call.refer(to: "sip:1003@example.com", context: Self.ctx)).first)
        #expect(sent.1 == .refer && sent.0.method == .refer)
        #expect(sent.0["Refer-To"] == "<sip:1003@example.com>" && sent.0["Referred-By"] == "<sip:1001@example.com>")
        #expect((try? NameAddress(sent.0["To"] ?? ""))?.tag == "b0b")
        // One at a time: a second REFER while this one runs is refused here.
        #expect(Self.events(call.refer(to: "sip:1004@example.com", context: Self.ctx)) == [.transferEnded(call.handle, status: 491)])
        var digest = DigestClient(username: "1001", password: "x")
        #expect(call.receive(Self.response(to: sent.0, 202, "Accepted"), for: .refer, context: Self.ctx, digest: &digest).isEmpty)
        let trying = call.received(try Self.notify(call, "SIP/2.0 100 Trying\r\n", state: "active;expires=60", cseq: 1), from: Self.peer, context: Self.ctx)
        #expect(Self.responses(trying).map(\.status) == [200] && Self.events(trying).isEmpty)
        let ringing = call.received(try Self.notify(call, "SIP/2.0 180 Ringing\r\n", state: "active;expires=60", cseq: 2), from: Self.peer, context: Self.ctx)
        #expect(Self.events(ringing).isEmpty)
        let done = call.received(try Self.notify(call, "SIP/2.0 200 OK\r\n", state: "terminated;reason=noresource", cseq: 3), from: Self.peer, context: Self.ctx)
        #expect(Self.responses(done).map(\.status) == [200] && Self.events(done) == [.transferEnded(call.handle, status: 200)])
        // The subscription is over: another NOTIFY has none to belong to.
        let late = call.received(try Self.notify(call, "SIP/2.0 200 OK\r\n", state: "terminated", cseq: 4), from: Self.peer, context: Self.ctx)
        #expect(Self.responses(late).map(\.status) == [481] && Self.events(late).isEmpty)
    }

    @Test("a REFER refused (405, 603) or unanswered (408) ends the transfer with that status; a failing target's sipfrag, or a subscription ended without a final one, too; an unknown event is 489")
    func referRefusedOrFailed() throws {
        var digest = DigestClient(username: "1001", password: "x")
        for status in [405, 501, 603] {
            var call = try Self.established()
            let sent = try #require(Self.requests(call.refer(to: "sip:1003@example.com", context: Self.ctx)).first)
            let r = call.receive(Self.response(to: sent.0, status, "No"), for: .refer, context: Self.ctx, digest: &digest)
            #expect(Self.events(r) == [.transferEnded(call.handle, status: status)])
        }
        var lost = try Self.established()
        _ = lost.refer(to: "sip:1003@example.com", context: Self.ctx)
        #expect(Self.events(lost.timedOut(.refer, context: Self.ctx)) == [.transferEnded(lost.handle, status: 408)])
        var busy = try Self.established()
        _ = busy.refer(to: "sip:1003@example.com", context: Self.ctx)
        let r486 = busy.received(try Self.notify(busy, "SIP/2.0 486 Busy Here\r\n", state: "terminated", cseq: 1), from: Self.peer, context: Self.ctx)
        #expect(Self.events(r486) == [.transferEnded(busy.handle, status: 486)])
        var silent = try Self.established()
        _ = silent.refer(to: "sip:1003@example.com", context: Self.ctx)
        let ended = silent.received(try Self.notify(silent, "garbage", state: "terminated;reason=timeout", cseq: 1), from: Self.peer, context: Self.ctx)
        #expect(Self.responses(ended).map(\.status) == [200] && Self.events(ended) == [.transferEnded(silent.handle, status: 487)])
        var other = try Self.established()
        _ = other.refer(to: "sip:1003@example.com", context: Self.ctx)
        let dialog = other.received(try Self.notify(other, "x", state: "active", event: "dialog", cseq: 1), from: Self.peer, context: Self.ctx)
        #expect(Self.responses(dialog).map(\.status) == [489] && Self.events(dialog).isEmpty)
        // Not a call in progress: nothing to refer.
        var ringing = try Self.ringing(try Self.incomingInvite()).0
        #expect(Self.events(ringing.refer(to: "sip:1003@example.com", context: Self.ctx)) == [.transferEnded(ringing.handle, status: 481)])
        #expect(SIPCall.sipfragStatus(Array("SIP/2.0 180 Ringing\r\n".utf8)) == 180)
        for bad in ["", "SIP/2.0", "SIP/2.0 99 x", "SIP/2.0 1800 x", "HTTP/1.1 200 OK", "SIP/2.0 2x0 OK"] {
            #expect(SIPCall.sipfragStatus(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("where a transfer points: blind, the party as dialled (or where a redirect sent us); attended, with Replaces naming our dialog as the target sees it, %-escaped")
    func transferTargets() throws {
        let call = try Self.established()
        #expect(call.transferTarget(attended: false) == "sip:1002@example.com")
        let attended = try #require(call.transferTarget(attended: true))
        #expect(attended.hasPrefix("sip:1002@example.com?Replaces="))
        let value = try #require(SIPCall.replacesHeader(attended.split(separator: "?", maxSplits: 1)[1]))
        #expect(value == "\(call.callID);to-tag=b0b;from-tag=\(call.localTag)")
        #expect(!attended.contains(";to-tag") && !attended.contains("@", after: "?"))
        let (placing, _) = try Self.placing()
        #expect(placing.transferTarget(attended: true) == nil)  // no dialog to replace before the answer
    }

    @Test("calling a transfer's target with Replaces (RFC 3891): the header goes in the INVITE, %-decoded, never in the Request-URI; a malformed one is left out")
    func replacesInTheInvite() throws {
        let (_, actions) = SIPCall.placing(CallHandle(id: 2), to: "sip:1003@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2", withholdIdentity: false,
                                           addressOfRecord: "sip:1001@example.com", settings: CallSettings(), localPort: 4000, sessionID: 1, seed: 1, context: Self.ctx)
        let invite = try #require(Self.requests(actions).first?.0)
        if case .request(_, let uri) = invite.startLine { #expect(uri == "sip:1003@example.com") } else { Issue.record("no request") }
        #expect(invite["Replaces"] == "abc@h;to-tag=1;from-tag=2")
        let (_, plain) = SIPCall.placing(CallHandle(id: 3), to: "sip:1003@example.com?Replaces=only-a-call-id", withholdIdentity: false,
                                         addressOfRecord: "sip:1001@example.com", settings: CallSettings(), localPort: 4000, sessionID: 1, seed: 1, context: Self.ctx)
        #expect(try #require(Self.requests(plain).first?.0)["Replaces"] == nil)
    }

    @Test("a 422 raises this call's interval to the Min-SE asked for and tries again; the account's setting is not changed")
    func sessionIntervalTooSmall() throws {
        var settings = CallSettings()
        settings.sessionExpires = 90
        var (call, invite) = try Self.placing(settings)
        var digest = DigestClient(username: "1001", password: "x")
        let retry = call.receive(Self.response(to: invite, 422, "Session Interval Too Small", headers: [("Min-SE", "600")]),
                                 for: .invite, context: Self.ctx, digest: &digest)
        let again = try #require(Self.requests(retry).first)
        #expect(again.0["Session-Expires"] == "600")
        #expect(settings.sessionExpires == 90)
        // A Min-SE beyond what we accept ends the call instead of looping.
        let refused = call.receive(Self.response(to: again.0, 422, "Session Interval Too Small", headers: [("Min-SE", "99999999999")]),
                                   for: .invite, context: Self.ctx, digest: &digest)
        #expect(Self.events(refused) == [.ended(call.handle, .failed(status: 422, reason: "Session Interval Too Small"))])
    }

    @Test("hold meets glare (491): the re-INVITE is sent again after 2.1–4 s (RFC 3261 §14.1); a resume asked meanwhile follows it")
    func glare() throws {
        var (call, invite) = try Self.placing()
        var digest = DigestClient(username: "1001", password: "x")
        _ = call.receive(Self.response(to: invite, 200, "OK", sdp: Self.answerSDP), for: .invite, context: Self.ctx, digest: &digest)
        let hold = try #require(Self.requests(call.changeDirection(to: .sendonly, context: Self.ctx)).first)
        #expect(hold.1 == .reinvite)
        #expect(String(decoding: hold.0.body, as: UTF8.self).contains("a=sendonly"))
        #expect(call.changeDirection(to: .sendrecv, context: Self.ctx).isEmpty)  // waits for the one out
        let glare = call.receive(Self.response(to: hold.0, 491, "Request Pending"), for: .reinvite, context: Self.ctx, digest: &digest)
        let wait = try #require(Self.started(glare, .glareRetry))
        #expect(wait >= .milliseconds(2100) && wait <= .seconds(4))
        let retried = try #require(Self.requests(call.timerFired(.glareRetry, context: Self.ctx)).first)
        #expect(retried.1 == .reinvite)
        let accepted = call.receive(Self.response(to: retried.0, 200, "OK", sdp: Self.answerSDP), for: .reinvite, context: Self.ctx, digest: &digest)
        #expect(Self.transmitted(accepted).map(\.method) == [.ack])
        let resume = try #require(Self.requests(accepted).first)
        #expect(String(decoding: resume.0.body, as: UTF8.self).contains("a=sendrecv"))
    }

    // MARK: incoming

    @Test("screening refuses before anything is allocated: 420 for an unknown extension, 488 for no common codec, 400 without a From tag")
    func screening() throws {
        guard case .refuse(let r420) = SIPCall.screen(try Self.incomingInvite(require: "100rel, foo"), settings: CallSettings()) else {
            Issue.record("420 expected"); return
        }
        #expect(r420.status == 420)
        #expect(r420["Unsupported"] == "foo")
        let g729 = Self.answerSDP.replacing("RTP/AVP 0 101", with: "RTP/AVP 18").replacing("a=rtpmap:0 PCMU/8000", with: "a=rtpmap:18 G729/8000")
        guard case .refuse(let r488) = SIPCall.screen(try Self.incomingInvite(sdp: g729), settings: CallSettings()) else {
            Issue.record("488 expected"); return
        }
        #expect(r488.status == 488)
        var noTag = try Self.incomingInvite()
        noTag.set("From", "<sip:1002@example.com>")
        guard case .refuse(let r400) = SIPCall.screen(noTag, settings: CallSettings()) else { Issue.record("400 expected"); return }
        #expect(r400.status == 400)
        guard case .accept(let offer) = SIPCall.screen(try Self.incomingInvite(), settings: CallSettings()) else {
            Issue.record("a plain INVITE rings"); return
        }
        #expect(offer?.port == 30000)
    }

    @Test("an offer of the other address family than our media sockets: 488 with Warning 301 (RFC 3261 §20.43); the same family, or no family known, rings")
    func addressFamilyScreening() throws {
        let six = Self.answerSDP.replacing("IN IP4 198.51.100.7", with: "IN IP6 2001:db8::7")
        guard case .refuse(let r) = SIPCall.screen(try Self.incomingInvite(sdp: six), settings: CallSettings(), mediaHost: "192.0.2.10") else {
            Issue.record("488 expected"); return
        }
        #expect(r.status == 488 && r["Warning"]?.hasPrefix("301 ") == true, "\(r.status) \(r["Warning"] ?? "")")
        guard case .refuse(let r2) = SIPCall.screen(try Self.incomingInvite(), settings: CallSettings(), mediaHost: "2001:db8::10") else {
            Issue.record("488 expected"); return
        }
        #expect(r2.status == 488)
        guard case .accept = SIPCall.screen(try Self.incomingInvite(sdp: six), settings: CallSettings(), mediaHost: "2001:db8::10") else {
            Issue.record("IPv6 to IPv6 rings"); return
        }
        guard case .accept = SIPCall.screen(try Self.incomingInvite(sdp: six), settings: CallSettings()) else {
            Issue.record("no family known: rings"); return
        }
    }

    @Test("a reliable 180 (RFC 3262) is sent again at T1, 2·T1… until the PRACK; the answer's 2xx until the ACK, which reports the answer")
    func incomingReliableRinging() throws {
        var (call, ring) = try Self.ringing(try Self.incomingInvite(require: "100rel"))
        let r180 = try #require(Self.responses(ring).first)
        #expect(r180.status == 180)
        // RSeq: random in 1…2³¹−1 (RFC 3262 §3), another for another call.
        let rseq = try #require(r180["RSeq"].flatMap { UInt32($0) })
        #expect((1...0x7FFF_FFFF).contains(rseq))
        let other = try #require(Self.responses(try Self.ringing(try Self.incomingInvite(require: "100rel")).1).first?["RSeq"])
        #expect(other != "\(rseq)")
        #expect(r180["Require"] == "100rel")
        #expect((try? NameAddress(r180["To"] ?? ""))?.tag == call.localTag)
        #expect(Self.started(ring, .reliableProvisional) == .milliseconds(500))
        let again = call.timerFired(.reliableProvisional, context: Self.ctx)
        #expect(Self.transmitted(again) == [r180])
        #expect(Self.started(again, .reliableProvisional) == .seconds(1))

        // A PRACK naming another response (RSeq, or the INVITE's CSeq) is 481; ours is still
        // unacknowledged and goes on being sent.
        for rack in ["\(rseq &+ 1) 10 INVITE", "\(rseq) 9 INVITE", "\(rseq) 10 UPDATE", "garbage"] {
            let wrong = try Self.fromBob("PRACK", cseq: 11, branch: "z9hG4bKprack0", toTag: call.localTag, extra: "RAck: \(rack)\n")
            let refused = call.received(wrong, from: Self.peer, context: Self.ctx)
            #expect(Self.responses(refused).map(\.status) == [481], "RAck: \(rack)")
            #expect(!refused.contains(.cancelTimer(.reliableProvisional)))
        }
        #expect(Self.transmitted(call.timerFired(.reliableProvisional, context: Self.ctx)) == [r180])

        let prack = try Self.fromBob("PRACK", cseq: 11, branch: "z9hG4bKprack1", toTag: call.localTag, extra: "RAck: \(rseq) 10 INVITE\n")
        let acked = call.received(prack, from: Self.peer, context: Self.ctx)
        #expect(acked.contains(.cancelTimer(.reliableProvisional)))
        #expect(Self.responses(acked).map(\.status) == [200])
        #expect(call.timerFired(.reliableProvisional, context: Self.ctx).isEmpty)

        let answer = call.answer(context: Self.ctx)
        let ok = try #require(Self.responses(answer).first)
        #expect(ok.status == 200)
        #expect(ok["Content-Type"] == "application/sdp")
        #expect(Self.started(answer, .okRetransmit) == .milliseconds(500))
        #expect(Self.events(answer).isEmpty)  // answered only once the ACK is in

        let ack = try Self.fromBob("ACK", cseq: 10, branch: "z9hG4bKack1", toTag: call.localTag)
        let done = call.acknowledged(ack)
        #expect(done.contains(.cancelTimer(.okRetransmit)))
        #expect(Self.events(done) == [.answered(call.handle)])
        #expect(call.acknowledged(ack).isEmpty)
    }

    @Test("a 2xx never ACKed is sent at T1 doubling up to T2 for 64·T1, then the call ends with a BYE (RFC 3261 §13.3.1.4)")
    func unacknowledgedAnswerEnds() throws {
        var (call, _) = try Self.ringing(try Self.incomingInvite())
        var delay = try #require(Self.started(call.answer(context: Self.ctx), .okRetransmit))
        var elapsed = Duration.zero
        var sent = 0
        for _ in 0..<100 {
            elapsed += delay
            let actions = call.timerFired(.okRetransmit, context: Self.ctx)
            if call.isOver {
                #expect(Self.requests(actions).map(\.1) == [.bye])
                #expect(Self.events(actions) == [.ended(call.handle, .timeout)])
                break
            }
            sent += Self.transmitted(actions).count
            delay = try #require(Self.started(actions, .okRetransmit))
            #expect(delay <= .seconds(4))
        }
        #expect(call.isOver)
        #expect(elapsed >= .seconds(32) && elapsed <= .seconds(36))
        #expect(sent == 10)  // at 0.5, 1.5, 3.5, 7.5, 11.5 … 31.5 s: T1 doubling, then T2 apart
    }

    @Test("when the caller refreshes (refresher=uac), a session nobody refreshes ends at the interval less min(32 s, a third) with a BYE")
    func sessionExpiry() throws {
        var (call, _) = try Self.ringing(try Self.incomingInvite(sessionExpires: "120;refresher=uac"))
        let answer = call.answer(context: Self.ctx)
        #expect(Self.responses(answer).first?["Session-Expires"] == "120;refresher=uac")
        #expect(Self.started(answer, .sessionExpiry) == .seconds(88))
        #expect(Self.started(answer, .sessionRefresh) == nil)
        let expired = call.timerFired(.sessionExpiry, context: Self.ctx)
        #expect(Self.requests(expired).map(\.1) == [.bye])
        #expect(Self.events(expired) == [.ended(call.handle, .timeout)])
    }

    @Test("CANCEL while ringing: 200 to the CANCEL, 487 to the INVITE; a request with an old CSeq gets 500")
    func cancelAndOrder() throws {
        var (call, _) = try Self.ringing(Self.incomingInvite())
        let stale = try Self.fromBob("INFO", cseq: 9, branch: "z9hG4bKinfo1", toTag: call.localTag)
        #expect(Self.responses(call.received(stale, from: Self.peer, context: Self.ctx)).map(\.status) == [500])
        let cancel = try Self.fromBob("CANCEL", cseq: 10, branch: "z9hG4bKcaller1", toTag: nil)
        let cancelled = call.cancelled(by: cancel, from: Self.peer)
        let actions = try #require(cancelled)
        #expect(Self.transmitted(actions).map(\.status) == [200])
        #expect(Self.responses(actions).map(\.status) == [487])
        #expect(Self.events(actions) == [.ended(call.handle, .remoteHangUp)])
        #expect(call.cancelled(by: cancel, from: Self.peer) == nil)
    }
}

extension String {
    /// Whether `c` occurs after the first `marker`.
    func contains(_ c: Character, after marker: Character) -> Bool {
        guard let i = firstIndex(of: marker) else { return false }
        return self[index(after: i)...].contains(c)
    }
}
