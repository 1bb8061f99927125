import Testing
import TipRingCore
import SIPCore
import SIPAgent
import BoardSimulator

/// Two user agents (1001 "Alice", 1002 "Bob") registered with the simulated exchange.
final class CallRig {
    let s = VirtualScheduler(seed: 21)
    let net: SimulatedSIPNetwork
    let exchange: SimulatedExchange
    var phones: [String: Phone] = [:]
    static let exchangeAddress = SIPNetworkAddress("192.0.2.1")

    final class Phone {
        let user: String
        /// Where the box is on the network (it moves: an LTE address change).
        var address: SIPNetworkAddress
        var agent: AccountAgent!
        var ua: SIPUserAgent!
        var events: [UserAgentEvent] = []
        var media: [CallHandle: MediaSession] = [:]
        /// A box that has lost its network: nothing it sends leaves.
        var muted = false
        init(user: String, address: SIPNetworkAddress) {
            self.user = user
            self.address = address
        }
        var incoming: CallHandle? {
            for e in events.reversed() { if case .incomingCall(let h, _) = e { return h } }
            return nil
        }
        func ended(_ h: CallHandle) -> CallEndReason? {
            for e in events { if case .ended(h, let r) = e { return r } }
            return nil
        }
        func saw(_ e: UserAgentEvent) -> Bool { events.contains(e) }
        var registered: Bool { if case .registered = ua.agent.status { true } else { false } }
    }

    init(configure: (String, inout CallSettings) -> Void = { _, _ in }, start: Bool = true) {
        net = SimulatedSIPNetwork(scheduler: s)
        exchange = SimulatedExchange(network: net, address: Self.exchangeAddress, domain: "example.com",
                                     users: ["1001": "secret1", "1002": "secret2"])
        exchange.directory = ["1001": "Alice", "1002": "Bob"]
        for (user, host, password) in [("1001", "192.0.2.10", "secret1"), ("1002", "192.0.2.20", "secret2")] {
            let p = Phone(user: user, address: SIPNetworkAddress(host))
            var reg = RegistrationSettings(registrar: "sip:example.com", addressOfRecord: "sip:\(user)@example.com", contact: "",
                                           instanceID: "urn:uuid:00000000-0000-4000-8000-00000000\(user)", authUser: user, password: password)
            reg.expires = 600
            var a = AccountSettings(registration: reg, contactUser: user)
            a.keepAlive = .off
            p.agent = AccountAgent(settings: a, servers: [Self.exchangeAddress], localAddress: p.address, scheduler: s, seed: UInt64(user)!,
                                   send: { [weak net, weak p] m, to in if p?.muted == false { net?.send(m.serialized(), from: p!.address, to: to) } },
                                   sendBytes: { [weak net, weak p] b, to in if let p { net?.send(b, from: p.address, to: to) } })
            var cs = CallSettings()
            configure(user, &cs)
            p.ua = SIPUserAgent(agent: p.agent, settings: cs, seed: UInt64(user)!)
            p.ua.mediaPort = { h in 10000 + Int(h.id) * 2 }
            p.ua.onEvent = { [weak p] e in p?.events.append(e) }
            p.ua.onMedia = { [weak p] h, m in p?.media[h] = m }
            net.attach(p.address) { [weak p] b, from in
                if let m = try? SIPParser.parse(b) { p?.agent.receive(m, from: from) }
            }
            phones[user] = p
        }
        if start {
            alice.ua.execute(.register)
            bob.ua.execute(.register)
            run(1)
        }
    }

    var alice: Phone { phones["1001"]! }
    var bob: Phone { phones["1002"]! }

    func run(_ seconds: Double) { s.run(until: s.now + .milliseconds(Int64(seconds * 1000))) }

    /// Alice calls Bob; returns both handles once Bob's phone rings.
    func aliceCallsBob(withhold: Bool = false) -> (CallHandle, CallHandle?) {
        let h = alice.ua.newCallHandle()
        alice.ua.execute(.invite(h, target: "1002", withholdIdentity: withhold))
        run(0.5)
        return (h, bob.incoming)
    }

    /// Alice calls, Bob answers: both handles once the call is up.
    func answeredCall() throws -> (CallHandle, CallHandle) {
        let (a, b) = aliceCallsBob()
        let bh = try #require(b)
        bob.ua.execute(.answer(bh))
        run(0.5)
        return (a, bh)
    }

    /// A phone's box gets a new address (the old one is gone), as its address watcher sees it.
    func move(_ p: Phone, to new: SIPNetworkAddress) {
        net.detach(p.address)
        p.address = new
        net.attach(new) { [weak p] b, from in
            if let m = try? SIPParser.parse(b) { p?.agent.receive(m, from: from) }
        }
        p.agent.localAddressChanged(new)
    }

    /// The requests of a method that crossed the wire, with their endpoints.
    func wire(_ method: SIPMethod) -> [(from: SIPNetworkAddress, to: SIPNetworkAddress, message: SIPMessage)] {
        net.messages.filter { $0.message.method == method }
    }

    func responses(_ status: Int, to method: SIPMethod) -> [SIPMessage] {
        net.messages.map(\.message).filter { $0.status == status && (try? CSeq($0["CSeq"] ?? ""))?.method == method }
    }
}

@Suite("Calls through the simulated exchange (virtual time, serialized SIP only)")
struct CallTests {
    @Test("Alice calls Bob: 407 and credentials, 180, caller ID from P-Asserted-Identity, 200/ACK, media agreed, BYE from the caller")
    func callAndHangUpFromCaller() throws {
        let rig = CallRig()
        #expect(rig.alice.registered && rig.bob.registered)
        let (a, b) = rig.aliceCallsBob()
        let bh = try #require(b)
        #expect(rig.bob.saw(.incomingCall(bh, caller: CallerIdentity(number: "1001", name: "Alice", availability: .available))))
        #expect(rig.alice.saw(.ringing(a)))
        let invites = rig.wire(.invite)
        #expect(rig.responses(407, to: .invite).count == 1)
        #expect(invites.contains { $0.message["Proxy-Authorization"]?.contains("username=\"1001\"") == true })
        #expect(invites.contains { $0.to == rig.bob.address && $0.message["Record-Route"] != nil })
        rig.bob.ua.execute(.answer(bh))
        rig.run(0.5)
        #expect(rig.alice.saw(.answered(a)) && rig.bob.saw(.answered(bh)))
        let am = try #require(rig.alice.media[a]), bm = try #require(rig.bob.media[bh])
        #expect(am.codec.name == "PCMU" && bm.codec.name == "PCMU")
        #expect(am.remote.port == bm.local.port && bm.remote.port == am.local.port)
        #expect(am.remote.address == "192.0.2.20" && bm.remote.address == "192.0.2.10")
        #expect(am.telephoneEvent?.payloadType == 101)
        #expect(am.sending && am.receiving && bm.sending && bm.receiving)
        #expect(rig.wire(.ack).contains { $0.to == CallRig.exchangeAddress && $0.from == rig.alice.address })
        rig.alice.ua.execute(.hangUp(a))
        rig.run(0.5)
        #expect(rig.alice.ended(a) == .localHangUp)
        #expect(rig.bob.ended(bh) == .remoteHangUp)
        // The BYE followed the record-route through the exchange.
        #expect(rig.wire(.bye).map(\.to) == [CallRig.exchangeAddress, rig.bob.address])
        #expect(rig.responses(200, to: .bye).count == 2)
        #expect(rig.alice.ua.activeCalls.isEmpty && rig.bob.ua.activeCalls.isEmpty)
        #expect(rig.alice.media[a] == nil)
    }

    @Test("both sides send the codec the answer names, whatever order the offer had (RFC 3264 §6.1); Opus with its 48 kHz telephone-event")
    func codecTheAnswerNames() throws {
        // Alice prefers PCMA, Bob PCMU: Bob answers PCMU, and both send PCMU.
        let rig = CallRig { user, s in s.media.codecs = user == "1001" ? [.pcma, .pcmu] : [.pcmu, .pcma] }
        let (a, bh) = try rig.answeredCall()
        let am = try #require(rig.alice.media[a]), bm = try #require(rig.bob.media[bh])
        #expect(am.codec.name == "PCMU" && bm.codec.name == "PCMU", "\(am.codec) \(bm.codec)")
        // Both offer Opus first: Opus both ways, with the telephone-event on its clock.
        let opus = CallRig { _, s in s.media.codecs = [.opus, .pcmu] }
        let (oa, ob) = try opus.answeredCall()
        let oam = try #require(opus.alice.media[oa]), obm = try #require(opus.bob.media[ob])
        #expect(oam.codec.name == "opus" && obm.codec.name == "opus" && oam.codec.clockRate == 48000 && oam.codec.channels == 2)
        #expect(oam.telephoneEvent?.clockRate == 48000 && obm.telephoneEvent?.clockRate == 48000)
        // Each side sends to the other's preferences: the fmtp it received.
        #expect(OpusFormatParameters(fmtp: oam.codec.fmtp).useInbandFEC && OpusFormatParameters(fmtp: obm.codec.fmtp).useDTX)
        // Bob has no Opus: G.711.
        let mixed = CallRig { user, s in s.media.codecs = user == "1001" ? [.opus, .pcmu] : [.pcmu] }
        let (ma, mb) = try mixed.answeredCall()
        #expect(mixed.alice.media[ma]?.codec.name == "PCMU" && mixed.bob.media[mb]?.codec.name == "PCMU")
        #expect(mixed.alice.media[ma]?.telephoneEvent?.clockRate == 8000)
    }

    @Test("a fax on an Opus call: a re-INVITE offering G.711 only moves the call to PCMU; refused (488), the call stays on Opus; on G.711 nothing is sent")
    func voicebandCodecForData() throws {
        let rig = CallRig { _, s in s.media.codecs = [.opus, .pcmu] }
        let (a, bh) = try rig.answeredCall()
        let before = rig.wire(.invite).count
        rig.alice.ua.execute(.useVoicebandCodec(a))
        rig.run(0.5)
        let offers = rig.wire(.invite).dropFirst(before).map { String(decoding: $0.message.body, as: UTF8.self) }
        #expect(!offers.isEmpty && offers.allSatisfy { $0.contains("m=audio") && $0.contains("PCMU/8000") && !$0.contains("opus") }, "\(offers)")
        #expect(rig.alice.media[a]?.codec.name == "PCMU" && rig.bob.media[bh]?.codec.name == "PCMU")
        // Again: G.711 already, nothing sent.
        let after = rig.wire(.invite).count
        rig.alice.ua.execute(.useVoicebandCodec(a))
        rig.bob.ua.execute(.useVoicebandCodec(bh))
        rig.run(0.5)
        #expect(rig.wire(.invite).count == after)

        // Bob has only Opus: he refuses G.711, and both go on with Opus.
        let onlyOpus = CallRig { user, s in s.media.codecs = user == "1001" ? [.opus, .pcmu] : [.opus] }
        let (oa, ob) = try onlyOpus.answeredCall()
        onlyOpus.alice.ua.execute(.useVoicebandCodec(oa))
        onlyOpus.run(0.5)
        #expect(onlyOpus.responses(488, to: .invite).count >= 1)
        #expect(onlyOpus.alice.media[oa]?.codec.name == "opus" && onlyOpus.bob.media[ob]?.codec.name == "opus")
        // A later re-INVITE (hold) offers what the call had: Opus is still agreed.
        onlyOpus.alice.ua.execute(.hold(oa))
        onlyOpus.run(0.5)
        #expect(onlyOpus.alice.media[oa]?.codec.name == "opus" && onlyOpus.alice.media[oa]?.receiving == false)
    }

    @Test("Bob's address changes mid-call: he re-INVITEs with the new Contact and media address (target refresh), and Alice's BYE and RTP reach him there")
    func addressChangeRefreshesTheCall() throws {
        let rig = CallRig()
        let (a, bh) = try rig.answeredCall()
        let moved = SIPNetworkAddress("192.0.2.21")
        rig.move(rig.bob, to: moved)
        rig.run(1)
        let reinvite = try #require(rig.wire(.invite).last { $0.from == moved })
        #expect(reinvite.message["Contact"]?.contains("@192.0.2.21") == true, "\(reinvite.message)")
        #expect(String(decoding: reinvite.message.body, as: UTF8.self).contains("c=IN IP4 192.0.2.21"))
        #expect(rig.alice.media[a]?.remote.address == "192.0.2.21")
        #expect(rig.bob.saw(.answered(bh)) && rig.bob.ended(bh) == nil)
        rig.alice.ua.execute(.hangUp(a))
        rig.run(1)
        #expect(rig.wire(.bye).contains { $0.to == moved })
        #expect(rig.bob.ended(bh) == .remoteHangUp)
    }

    @Test("Bob calls Alice and hangs up himself")
    func callOtherWayCalleeHangsUp() throws {
        let rig = CallRig()
        let h = rig.bob.ua.newCallHandle()
        rig.bob.ua.execute(.invite(h, target: "1001", withholdIdentity: false))
        rig.run(0.5)
        let ah = try #require(rig.alice.incoming)
        rig.alice.ua.execute(.answer(ah))
        rig.run(0.5)
        #expect(rig.bob.saw(.answered(h)))
        rig.alice.ua.execute(.hangUp(ah))
        rig.run(0.5)
        #expect(rig.bob.ended(h) == .remoteHangUp && rig.alice.ended(ah) == .localHangUp)
    }

    @Test("CANCEL before an answer: 200 for the CANCEL, 487 for the INVITE, ACKed; the callee stops ringing")
    func cancel() throws {
        let rig = CallRig()
        let (a, b) = rig.aliceCallsBob()
        let bh = try #require(b)
        rig.alice.ua.execute(.cancel(a))
        rig.run(1)
        #expect(rig.alice.ended(a) == .localHangUp)
        #expect(rig.bob.ended(bh) == .remoteHangUp)
        #expect(rig.wire(.cancel).count == 2)
        #expect(rig.responses(487, to: .invite).count >= 2)
        #expect(rig.wire(.ack).contains { $0.from == rig.alice.address })
        #expect(rig.alice.ua.activeCalls.isEmpty && rig.bob.ua.activeCalls.isEmpty)
    }

    @Test("CANCEL right after the INVITE (no provisional yet): sent once the 180 comes")
    func cancelBeforeProvisional() throws {
        let rig = CallRig()
        rig.exchange.authenticateCalls = false
        let h = rig.alice.ua.newCallHandle()
        rig.alice.ua.execute(.invite(h, target: "1002", withholdIdentity: false))
        rig.alice.ua.execute(.cancel(h))
        rig.run(2)
        #expect(rig.alice.ended(h) == .localHangUp)
        #expect(rig.bob.ua.activeCalls.isEmpty)
        #expect(rig.wire(.cancel).count >= 1)
    }

    @Test("given up before the challenge is answered: no second INVITE, the callee never rings")
    func cancelBeforeChallenge() throws {
        let rig = CallRig()
        let h = rig.alice.ua.newCallHandle()
        rig.alice.ua.execute(.invite(h, target: "1002", withholdIdentity: false))
        rig.alice.ua.execute(.cancel(h))
        rig.run(2)
        #expect(rig.alice.ended(h) == .localHangUp)
        #expect(rig.wire(.invite).count == 1)
        #expect(rig.bob.incoming == nil)
    }

    @Test("the 200-versus-CANCEL race: the answered call is ACKed and ended with BYE")
    func cancelRace() throws {
        let rig = CallRig()
        let (a, b) = rig.aliceCallsBob()
        let bh = try #require(b)
        rig.bob.ua.execute(.answer(bh))
        rig.alice.ua.execute(.cancel(a))
        rig.run(2)
        #expect(rig.alice.ended(a) == .localHangUp)
        #expect(rig.bob.ended(bh) == .remoteHangUp)
        #expect(rig.wire(.bye).contains { $0.from == rig.alice.address })
        #expect(rig.alice.ua.activeCalls.isEmpty && rig.bob.ua.activeCalls.isEmpty)
    }

    @Test("busy: 486 reaches the caller as the failure status")
    func busy() throws {
        let rig = CallRig()
        let (a, b) = rig.aliceCallsBob()
        rig.bob.ua.execute(.reject(try #require(b), status: 486))
        rig.run(1)
        #expect(rig.alice.ended(a) == .failed(status: 486, reason: "Busy Here"))
        #expect(rig.wire(.ack).contains { $0.from == rig.alice.address })
    }

    @Test("no common codec: 488 with a Warning, the callee never rings and takes no media port for it")
    func noCommonCodec() throws {
        let rig = CallRig { user, s in if user == "1001" { s.media.codecs = [PayloadFormat(payloadType: 18, name: "G729")] } }
        var portsTaken = 0
        rig.bob.ua.mediaPort = { h in portsTaken += 1; return 10000 + Int(h.id) * 2 }
        let (a, b) = rig.aliceCallsBob()
        rig.run(1)
        #expect(b == nil)
        #expect(rig.alice.ended(a) == .failed(status: 488, reason: "Not Acceptable Here"))
        #expect(portsTaken == 0)
    }

    @Test("calling a user who is not registered: 480")
    func notRegistered() {
        let rig = CallRig()
        let h = rig.alice.ua.newCallHandle()
        rig.alice.ua.execute(.invite(h, target: "1099", withholdIdentity: false))
        rig.run(1)
        #expect(rig.alice.ended(h) == .failed(status: 480, reason: "Temporarily Unavailable"))
    }

    @Test("CLIR: anonymous From and Privacy: id; the callee sees a withheld number")
    func withheld() throws {
        let rig = CallRig()
        let (_, b) = rig.aliceCallsBob(withhold: true)
        let bh = try #require(b)
        #expect(rig.bob.saw(.incomingCall(bh, caller: CallerIdentity(number: nil, name: nil, availability: .withheld))))
        let toBob = try #require(rig.wire(.invite).first { $0.to == rig.bob.address }?.message)
        #expect(toBob["From"]?.contains("anonymous@anonymous.invalid") == true)
        #expect(toBob["Privacy"] == "id")
    }

    @Test("hold and resume both ways: sendonly answered recvonly; media directions follow")
    func holdResume() throws {
        let rig = CallRig()
        let (a, b) = rig.aliceCallsBob()
        let bh = try #require(b)
        rig.bob.ua.execute(.answer(bh))
        rig.run(0.5)
        rig.alice.ua.execute(.hold(a))
        rig.run(0.5)
        var am = try #require(rig.alice.media[a]), bm = try #require(rig.bob.media[bh])
        #expect(am.local.direction == .sendonly && am.remote.direction == .recvonly)
        #expect(am.sending && !am.receiving)
        #expect(!bm.sending && bm.receiving)  // Bob hears Alice's music on hold
        rig.alice.ua.execute(.resume(a))
        rig.run(0.5)
        am = try #require(rig.alice.media[a])
        bm = try #require(rig.bob.media[bh])
        #expect(am.sending && am.receiving && bm.sending && bm.receiving)
        // Bob holds Alice.
        rig.bob.ua.execute(.hold(bh))
        rig.run(0.5)
        #expect(rig.alice.media[a]?.sending == false && rig.alice.media[a]?.receiving == true)
        rig.bob.ua.execute(.resume(bh))
        rig.run(0.5)
        #expect(rig.alice.media[a]?.sending == true && rig.alice.media[a]?.receiving == true)
        let reinvites = rig.wire(.invite).filter { ($0.message["To"] ?? "").contains("tag=") }
        #expect(reinvites.count == 8)  // four re-INVITEs, each through the exchange
        #expect(rig.alice.ua.activeCalls == [a])
    }

    @Test("session timer: the caller refreshes every half interval; a silent refresher gets the call ended")
    func sessionTimer() throws {
        let rig = CallRig { _, s in s.sessionExpires = 120 }
        let (a, bh) = try rig.answeredCall()
        let before = rig.wire(.invite).count
        rig.run(600)
        let refreshes = (rig.wire(.invite).count - before) / 2
        #expect(refreshes == 10)
        #expect(rig.alice.ua.activeCalls == [a] && rig.bob.ua.activeCalls == [bh])
        // Alice's box vanishes: Bob ends the session when no refresh comes.
        rig.alice.muted = true
        rig.run(130)
        #expect(rig.bob.ended(bh) == .timeout)
    }

    @Test("a Session-Expires of 10^17 s is held to a day: no refresh storm, the call stays up")
    func hugeSessionExpires() throws {
        let rig = CallRig { user, s in if user == "1001" { s.sessionExpires = 100_000_000_000_000_000 } }
        let (a, bh) = try rig.answeredCall()
        let before = rig.wire(.invite).count
        rig.run(600)
        #expect(rig.wire(.invite).count == before, "no refresh within 10 minutes")
        rig.run(86_400)
        let refreshes = (rig.wire(.invite).count - before) / 2
        #expect((1...2).contains(refreshes), "\(refreshes) refreshes in a day")
        #expect(rig.alice.ua.activeCalls == [a] && rig.bob.ua.activeCalls == [bh])
    }

    @Test("a too-short Session-Expires is refused with 422 and the caller retries with Min-SE")
    func sessionIntervalTooSmall() throws {
        let rig = CallRig { user, s in
            if user == "1001" { s.sessionExpires = 60; s.minSessionExpires = 60 }
            if user == "1002" { s.minSessionExpires = 300 }
        }
        let (_, b) = rig.aliceCallsBob()
        #expect(b != nil)
        #expect(rig.responses(422, to: .invite).count >= 1)
        #expect(rig.wire(.invite).last?.message["Session-Expires"]?.hasPrefix("300") == true)
    }

    @Test("100rel: a caller that requires it gets a reliable 180 (RSeq), PRACKs it, and retransmissions stop")
    func reliableProvisional() throws {
        let rig = CallRig { user, s in if user == "1001" { s.requireReliableProvisional = true } }
        let (a, b) = rig.aliceCallsBob()
        let bh = try #require(b)
        rig.run(5)
        let reliable = rig.net.messages.filter { $0.message.status == 180 && $0.from == rig.bob.address }
        let rseq = try #require(reliable.first?.message["RSeq"])
        #expect(rig.wire(.prack).allSatisfy { $0.message["RAck"]?.hasPrefix(rseq + " ") == true })
        #expect(reliable.first?.message["Require"] == "100rel")
        #expect(rig.wire(.prack).count == 2, "\(rig.wire(.prack).map { "\($0.from)→\($0.to) \(String(decoding: $0.message.serialized(), as: UTF8.self))" })")
        #expect(rig.responses(200, to: .prack).count >= 1)
        // Sent once and PRACKed within T1 (the simulated network answers in milliseconds): no
        // retransmission at all.
        #expect(reliable.count == 1)
        rig.bob.ua.execute(.answer(bh))
        rig.run(0.5)
        #expect(rig.alice.saw(.answered(a)))
    }

    @Test("message waiting: SUBSCRIBE after registering; NOTIFYs reach the user agent with counts")
    func messageWaiting() throws {
        let rig = CallRig()
        #expect(rig.wire(.subscribe).contains { $0.from == rig.alice.address && $0.message["Event"] == "message-summary" })
        rig.exchange.setMessages(user: "1001", new: 2, old: 5)
        rig.run(0.5)
        #expect(rig.alice.saw(.messageWaiting(waiting: true, newMessages: 2, oldMessages: 5)))
        rig.exchange.setMessages(user: "1001", new: 0, old: 7)
        rig.run(0.5)
        #expect(rig.alice.events.last == .messageWaiting(waiting: false, newMessages: 0, oldMessages: 7))
        // Refreshed before it lapses.
        let subs = rig.wire(.subscribe).filter { $0.from == rig.alice.address }.count
        rig.run(3600)
        #expect(rig.wire(.subscribe).filter { $0.from == rig.alice.address }.count > subs)
        // A refresh goes within the subscription's dialog: to the notifier's Contact, with the
        // To-tag it gave (RFC 6665 §4.1.2.1); the first went to the address of record.
        let mine = rig.wire(.subscribe).filter { $0.from == rig.alice.address }.map(\.message)
        #expect(mine.first.map { "\($0.startLine)" }?.contains("sip:1001@") == true, "\(mine.first.map { "\($0.startLine)" } ?? "")")
        let refresh = try #require(mine.last { ($0["To"] ?? "").contains("tag=") })
        #expect("\(refresh.startLine)".contains("sip:\(CallRig.exchangeAddress.host):\(CallRig.exchangeAddress.port)"), "\(refresh.startLine)")
        // Every refresh is answered by the exchange's subscription, none turned away.
        let turnedAway = rig.net.messages.map(\.message).filter { m in
            (try? CSeq(m["CSeq"] ?? ""))?.method == .subscribe && (m.status ?? 0) >= 300 && m.status != 401 && m.status != 407
        }
        #expect(turnedAway.isEmpty, "\(turnedAway.map { $0.status ?? 0 })")
        // Unregistering ends the subscription; the final NOTIFY (terminated) is answered 200.
        let notifiesAnswered = rig.responses(200, to: .notify).count
        rig.alice.ua.execute(.unregister)
        rig.run(5)
        let final = rig.wire(.notify).last { $0.to == rig.alice.address }?.message
        #expect(final?["Subscription-State"] == "terminated")
        // Within the dialog the NOTIFYs count up.
        let notifyCSeqs = rig.wire(.notify).filter { $0.to == rig.alice.address }.compactMap { (try? CSeq($0.message["CSeq"] ?? ""))?.sequence }
        #expect(notifyCSeqs == notifyCSeqs.sorted() && Set(notifyCSeqs).count == notifyCSeqs.count, "\(notifyCSeqs)")
        #expect(rig.responses(200, to: .notify).count == notifiesAnswered + 1)
        #expect(rig.responses(481, to: .notify).isEmpty)
    }

    @Test("unsolicited NOTIFY from the server (no subscription) is accepted")
    func unsolicitedNotify() {
        let rig = CallRig { _, s in s.subscribeMessageWaiting = false }
        rig.exchange.setMessages(user: "1002", new: 1, old: 0)
        rig.run(0.5)
        #expect(rig.bob.saw(.messageWaiting(waiting: true, newMessages: 1, oldMessages: 0)))
        #expect(rig.wire(.subscribe).isEmpty)
    }

    @Test("DTMF by SIP INFO both ways when configured")
    func infoDigits() throws {
        let rig = CallRig { _, s in s.dtmf = .info }
        let (a, b) = rig.aliceCallsBob()
        let bh = try #require(b)
        rig.bob.ua.execute(.answer(bh))
        rig.run(0.5)
        for d in "15#" { rig.alice.ua.execute(.sendDigit(a, d, milliseconds: 100)) }
        rig.run(1)
        let digits: [Character] = rig.bob.events.compactMap { if case .digit(bh, let d) = $0 { d } else { nil } }
        #expect(digits == ["1", "5", "#"])
        #expect(rig.wire(.info).first?.message["Content-Type"] == "application/dtmf-relay")
    }

    @Test("RFC 4733 digits go to the media layer when telephone-event was agreed")
    func rfc4733Digits() throws {
        let rig = CallRig()
        var handed: [Character] = []
        rig.alice.ua.onSendDigit = { _, d, _ in handed.append(d) }
        let (a, b) = rig.aliceCallsBob()
        rig.bob.ua.execute(.answer(try #require(b)))
        rig.run(0.5)
        rig.alice.ua.execute(.sendDigit(a, "7", milliseconds: 100))
        #expect(handed == ["7"])
        #expect(rig.wire(.info).isEmpty)
    }

    @Test("unregistering ends calls first (BYE) and unregisters; every event is accounted for")
    func unregisterEndsCalls() throws {
        let rig = CallRig()
        let (a, b) = rig.aliceCallsBob()
        rig.bob.ua.execute(.answer(try #require(b)))
        rig.run(0.5)
        rig.alice.ua.execute(.unregister)
        rig.run(1)
        #expect(rig.alice.ended(a) == .localHangUp)
        #expect(rig.bob.ua.activeCalls.isEmpty)
        #expect(rig.exchange.registrar.contacts(of: "sip:1001@example.com").isEmpty)
        #expect(rig.alice.events.last == .registration(.unregistered))
    }
}

@Suite("SIP requests a user agent must survive")
struct UserAgentRobustnessTests {
    func crlf(_ text: String) -> String { text.map { $0 == "\n" ? "\r\n" : String($0) }.joined() }
    func raw(_ text: String) -> [UInt8] { Array(crlf(text).utf8) }

    @Test("malformed SDP → 400, unknown Require → 420, unknown method → 501, stray BYE → 481, OPTIONS → 200 with Allow")
    func oddRequests() throws {
        let rig = CallRig()
        let server = SIPNetworkAddress("192.0.2.1", 5999)
        rig.net.attach(server) { _, _ in }
        func send(_ method: String, callID: String, extra: String = "", body: String = "") {
            let text = "\(method) sip:1002@192.0.2.20 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bK\(callID)\nFrom: <sip:1001@example.com>;tag=f\(callID)\nTo: <sip:1002@example.com>\nCall-ID: \(callID)\nCSeq: 1 \(method)\nMax-Forwards: 70\nContact: <sip:1001@192.0.2.1:5999>\n\(extra)Content-Length: \(body.utf8.count + body.filter { $0 == "\n" }.count)\n\n\(crlf(body))"
            rig.net.send(raw(text), from: server, to: rig.bob.address)
        }
        send("INVITE", callID: "bad-sdp", extra: "Content-Type: application/sdp\n", body: "v=0\nm=audio notaport RTP/AVP 0\n")
        send("INVITE", callID: "ext", extra: "Require: foo\n")
        send("FROB", callID: "frob")
        send("BYE", callID: "stray-bye")
        send("OPTIONS", callID: "opt")
        rig.run(1)
        func status(_ id: String) -> Int? { rig.net.messages.first { $0.to == server && $0.message["Call-ID"] == id && ($0.message.status ?? 0) >= 200 }?.message.status }
        #expect(status("bad-sdp") == 400)
        #expect(status("ext") == 420)
        #expect(status("frob") == 501)
        #expect(status("stray-bye") == 481)
        #expect(status("opt") == 200)
        #expect(rig.bob.incoming == nil)
        // The same INVITE again on a new branch (a fork that merged, a loop): 482, and the
        // transaction made for it ends with its timers.
        send("INVITE", callID: "opt2", extra: "Content-Type: application/sdp\n", body: "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n")
        rig.run(1)
        #expect(rig.bob.incoming != nil)
        let merged = "INVITE sip:1002@192.0.2.20 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bKmerged\nFrom: <sip:1001@example.com>;tag=fopt2\nTo: <sip:1002@example.com>\nCall-ID: opt2\nCSeq: 1 INVITE\nMax-Forwards: 69\nContact: <sip:1001@192.0.2.1:5999>\nContent-Length: 0\n\n"
        rig.net.send(raw(merged), from: server, to: rig.bob.address)
        rig.run(1)
        #expect(rig.net.messages.contains { $0.to == server && $0.message.status == 482 && (try? Via($0.message["Via"] ?? ""))?.branch == "z9hG4bKmerged" })
        rig.run(40)
        // Only the ringing call's INVITE transaction is left (every other one, the 482's
        // included, ended with Timer J or I).
        #expect(rig.bob.ua.openTransactions == 1)
        // A stray response is ignored without a reply.
        rig.net.send(raw("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKnothing\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nCall-ID: stray\nCSeq: 9 INVITE\nContent-Length: 0\n\n"), from: server, to: rig.bob.address)
        rig.run(1)
        #expect(!rig.net.messages.contains { $0.from == rig.bob.address && $0.message["Call-ID"] == "stray" })
    }
}

@Suite("Caller identity from an INVITE")
struct CallerIdentityTests {
    func invite(_ headers: String) throws -> SIPMessage {
        try SIPParser.parse(Array("INVITE sip:1002@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nTo: <sip:1002@example.com>\r\n\(headers)Content-Length: 0\r\n\r\n".utf8))
    }

    @Test func identities() throws {
        #expect(SIPUserAgent.callerIdentity(try invite("From: \"Carol\" <sip:5551234@example.com>;tag=1\r\n")) == CallerIdentity(number: "5551234", name: "Carol", availability: .available))
        #expect(SIPUserAgent.callerIdentity(try invite("From: <sip:x@example.com>;tag=1\r\nP-Asserted-Identity: \"Dave\" <tel:+15551234>\r\n")) == CallerIdentity(number: "+15551234", name: "Dave", availability: .available))
        #expect(SIPUserAgent.callerIdentity(try invite("From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n")).availability == .withheld)
        #expect(SIPUserAgent.callerIdentity(try invite("From: <sip:1001@example.com>;tag=1\r\nP-Asserted-Identity: <sip:1001@example.com>\r\nPrivacy: id\r\n")).availability == .withheld)
        #expect(SIPUserAgent.callerIdentity(try invite("From: <sip:unavailable@example.com>;tag=1\r\n")).availability == .unavailable)
    }
}

@Suite("SDP offer/answer (RFC 3264)")
struct SDPTests {
    @Test("round trip of our offer")
    func roundTrip() throws {
        let offer = MediaPolicy().offer(address: "192.0.2.10", port: 4000)
        let parsed = try SessionDescription.parse(offer.serialized())
        #expect(parsed.formats.map(\.name) == ["PCMU", "PCMA", "telephone-event"])
        #expect(parsed.port == 4000 && parsed.address == "192.0.2.10" && parsed.ptime == 20 && parsed.direction == .sendrecv)
        #expect(String(decoding: offer.serialized(), as: UTF8.self).contains("a=fmtp:101 0-16\r\n"))
    }

    @Test("answer by our preference among what was offered, their payload numbers kept")
    func answerChoosesOurPreference() throws {
        let offer = try SessionDescription.parse(Array("v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n".utf8))
        let answer = try #require(MediaPolicy().answer(to: offer, address: "192.0.2.10", port: 4000))
        #expect(answer.formats.map(\.name) == ["PCMU", "telephone-event"])
        #expect(answer.telephoneEvent?.payloadType == 96)
        #expect(answer.direction == .recvonly)
        var pcmaFirst = MediaPolicy()
        pcmaFirst.codecs = [.pcma, .pcmu]
        #expect(pcmaFirst.answer(to: offer, address: "x", port: 1)?.codec?.name == "PCMA")
        let g729 = SessionDescription(address: "198.51.100.1", port: 3000, formats: [PayloadFormat(payloadType: 18, name: "G729")])
        #expect(MediaPolicy().answer(to: g729, address: "x", port: 1) == nil)
    }

    @Test("Opus in SDP (RFC 7587): opus/48000/2 and our fmtp offered; a baresip-like offer answered in its numbering with our fmtp; its fmtp read")
    func opusInSDP() throws {
        var policy = MediaPolicy()
        policy.codecs = [.opus, .pcmu]
        let text = String(decoding: policy.offer(address: "192.0.2.10", port: 4000).serialized(), as: UTF8.self)
        #expect(text.contains("m=audio 4000 RTP/AVP 111 0 101 102\r\n"), "\(text)")
        #expect(text.contains("a=rtpmap:111 opus/48000/2\r\n") && text.contains("a=rtpmap:102 telephone-event/48000\r\n"))
        #expect(text.contains("a=fmtp:111 maxplaybackrate=8000;sprop-maxcapturerate=8000;maxaveragebitrate=20000;useinbandfec=1;usedtx=1\r\n"))
        let parsed = try SessionDescription.parse(Array(text.utf8))
        #expect(parsed.codec == .opus)
        let theirs = try SessionDescription.parse(Array(("v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n" +
            "m=audio 30000 RTP/AVP 96 0 8 101\r\na=rtpmap:96 OPUS/48000/2\r\na=fmtp:96 stereo=1; sprop-stereo=1 ;maxaveragebitrate=12000\r\n" +
            "a=rtpmap:101 telephone-event/8000\r\n").utf8))
        let far = OpusFormatParameters(fmtp: theirs.codec?.fmtp)
        #expect(far.maxAverageBitrate == 12000 && !far.useInbandFEC && !far.useDTX && far.maxPlaybackRate == 48000)
        let answer = try #require(policy.answer(to: theirs, address: "192.0.2.10", port: 4000))
        #expect(answer.codec?.payloadType == 96 && answer.codec?.name == "opus" && answer.codec?.fmtp == PayloadFormat.opus.fmtp)
        // Only an 8 kHz telephone-event offered: taken beside Opus.
        #expect(answer.telephoneEvent?.payloadType == 101)
        // Nonsense parameters fall back to the defaults.
        let odd = OpusFormatParameters(fmtp: "maxaveragebitrate=99999999999999999999;maxplaybackrate=7;useinbandfec=yes;=;;x")
        #expect(odd == OpusFormatParameters())
    }

    @Test("directions answered per RFC 3264 §6.1")
    func directions() {
        #expect(MediaDirection.sendrecv.answer(wanting: .sendrecv) == .sendrecv)
        #expect(MediaDirection.sendonly.answer(wanting: .sendrecv) == .recvonly)
        #expect(MediaDirection.recvonly.answer(wanting: .sendrecv) == .sendonly)
        #expect(MediaDirection.inactive.answer(wanting: .sendrecv) == .inactive)
        #expect(MediaDirection.sendrecv.answer(wanting: .sendonly) == .sendonly)
    }

    @Test("malformed SDP gets a reason, never a crash", arguments: [
        ("", "SDP without v=0"),
        ("v=1\r\n", "SDP version 1 (only 0 exists)"),
        ("v=0\r\nc=IN IP4 1.2.3.4\r\n", "SDP without an audio stream (m=audio)"),
        ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "SDP without a connection address (c=)"),
        ("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n", "SDP audio port '99999' is not a port"),
        ("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 300\r\n", "SDP payload type '300' is not 0–127"),
        ("garbage", "SDP line 'garbage' is not type=value"),
    ])
    func malformed(text: String, reason: String) {
        #expect(throws: SIPParseError(reason)) { try SessionDescription.parse(Array(text.utf8)) }
    }
}
