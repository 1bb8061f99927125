import Testing
import TipRingCore
@testable import SIPCore
import BoardSimulator

/// Runs transactions of one endpoint on the simulated network: executes their actions,
/// owns their timers, matches responses by branch and requests by branch + method.
final class TransactionHost {
    let address: SIPNetworkAddress
    let network: SimulatedSIPNetwork
    let scheduler: VirtualScheduler
    var clients: [String: ClientTransaction] = [:]
    var servers: [String: (ServerTransaction, SIPNetworkAddress)] = [:]
    var timers: [String: TimerHandle] = [:]
    var delivered: [SIPMessage] = []
    var timeouts = 0
    var terminated = 0
    /// The TU: answers delivered requests (or not).
    var onRequest: ((SIPMessage, TransactionHost) -> Void)?

    init(_ address: SIPNetworkAddress, network: SimulatedSIPNetwork, scheduler: VirtualScheduler) {
        self.address = address
        self.network = network
        self.scheduler = scheduler
        network.attach(address) { [unowned self] bytes, from in self.receive(bytes, from: from) }
    }

    func key(_ m: SIPMessage) -> String {
        let branch = (try? Via(m["Via"] ?? "").branch) ?? nil ?? ""
        let method = (try? CSeq(m["CSeq"] ?? ""))?.method.rawValue ?? ""
        return branch + "/" + (method == "ACK" ? "INVITE" : method)
    }

    func send(_ request: SIPMessage, to peer: SIPNetworkAddress) throws {
        var t = try ClientTransaction(request: request, reliable: false)
        let k = key(request)
        let actions = t.start(now: scheduler.now)
        clients[k] = t
        run(actions, key: k, peer: peer, client: true)
    }

    func receive(_ bytes: [UInt8], from: SIPNetworkAddress) {
        guard let m = try? SIPParser.parse(bytes) else { return }
        let k = key(m)
        if m.isRequest {
            if let (t0, peer) = servers[k] {
                var t = t0
                let actions = t.receive(m, now: scheduler.now)
                servers[k] = (t, peer)
                run(actions, key: k, peer: peer, client: false)
            } else if m.method != .ack, var t = try? ServerTransaction(request: m, reliable: false) {
                let actions = t.start(now: scheduler.now)
                servers[k] = (t, from)
                run(actions, key: k, peer: from, client: false)
            }
        } else if var t = clients[k] {
            let actions = t.receive(m, now: scheduler.now)
            clients[k] = t
            run(actions, key: k, peer: from, client: true)
        }
    }

    func respond(_ request: SIPMessage, status: Int, reason: String) {
        let k = key(request)
        guard let (t0, peer) = servers[k] else { return }
        var t = t0
        let actions = t.respond(SIPResponses.response(to: request, status: status, reason: reason, toTag: "srv"), now: scheduler.now)
        servers[k] = (t, peer)
        run(actions, key: k, peer: peer, client: false)
    }

    func run(_ actions: [TransactionAction], key k: String, peer: SIPNetworkAddress, client: Bool) {
        for a in actions {
            switch a {
            case .send(let m): network.send(m.serialized(), from: address, to: peer)
            case .deliver(let m):
                delivered.append(m)
                if m.isRequest { onRequest?(m, self) }
            case .timeout: timeouts += 1
            case .terminated:
                terminated += 1
                if client { clients[k] = nil } else { servers[k] = nil }
            case .cancelTimer(let t):
                if let h = timers.removeValue(forKey: k + t.rawValue) { scheduler.cancel(h) }
            case .startTimer(let t, let at):
                if let h = timers[k + t.rawValue] { scheduler.cancel(h) }
                timers[k + t.rawValue] = scheduler.schedule(at: at) { [unowned self] in
                    self.timers[k + t.rawValue] = nil
                    if client, var c = self.clients[k] {
                        let actions = c.timer(t, now: self.scheduler.now)
                        self.clients[k] = c
                        self.run(actions, key: k, peer: peer, client: true)
                    } else if !client, let (s0, p) = self.servers[k] {
                        var s = s0
                        let actions = s.timer(t, now: self.scheduler.now)
                        self.servers[k] = (s, p)
                        self.run(actions, key: k, peer: p, client: false)
                    }
                }
            }
        }
    }
}

func request(_ method: SIPMethod, branch: String, cseq: UInt32 = 1) -> SIPMessage {
    var m = SIPMessage(startLine: .request(method: method, uri: "sip:bob@10.0.0.2"))
    m.add("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=\(branch);rport")
    m.add("Max-Forwards", "70")
    m.add("From", "<sip:alice@example.com>;tag=a1")
    m.add("To", "<sip:bob@example.com>")
    m.add("Call-ID", "call-\(branch)")
    m.add("CSeq", "\(cseq) \(method.rawValue)")
    return m
}

@Suite struct ClientTransactionTimerTests {
    let a = SIPNetworkAddress("10.0.0.1"), b = SIPNetworkAddress("10.0.0.2")

    /// Send times (ms) of everything the client put on the wire.
    func sendTimes(_ net: SimulatedSIPNetwork, from: SIPNetworkAddress) -> [Int64] {
        net.sent.filter { $0.from == from }.map { $0.sentAt.nanoseconds / 1_000_000 }
    }

    @Test func nonInviteRetransmitsOnTimerEAndGivesUpOnTimerF() throws {
        let s = VirtualScheduler()
        let net = SimulatedSIPNetwork(scheduler: s)
        let client = TransactionHost(a, network: net, scheduler: s)
        try client.send(request(.options, branch: "z9hG4bKe1"), to: b)  // nobody at b
        s.runUntilIdle()
        // E doubles from T1 up to T2: 0, .5, 1.5, 3.5, 7.5, then every 4 s until F at 64·T1.
        #expect(sendTimes(net, from: a) == [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500])
        #expect(client.timeouts == 1)
        #expect(s.now == .seconds(32))
    }

    @Test func inviteRetransmitsOnTimerAAndGivesUpOnTimerB() throws {
        let s = VirtualScheduler()
        let net = SimulatedSIPNetwork(scheduler: s)
        let client = TransactionHost(a, network: net, scheduler: s)
        try client.send(request(.invite, branch: "z9hG4bKa1"), to: b)
        s.runUntilIdle()
        #expect(sendTimes(net, from: a) == [0, 500, 1500, 3500, 7500, 15500, 31500])
        #expect(client.timeouts == 1)
    }

    /// RFC 3261 §17.1.1.2: Timer B guards "Calling" only. An INVITE that got a 180 waits
    /// for its final response (the caller hears ringback) — it never times out on its own,
    /// which would leave the callee ringing after the caller has given up.
    @Test func aRingingInviteDoesNotTimeOut() throws {
        var t = try ClientTransaction(request: request(.invite, branch: "z9hG4bKring"), reliable: false)
        #expect(t.start(now: .zero).contains(.startTimer(.b, at: .seconds(32))))
        var ringing = SIPResponses.response(to: request(.invite, branch: "z9hG4bKring"), status: 180, reason: "Ringing", toTag: "b")
        ringing.add("Contact", "<sip:bob@10.0.0.2>")
        let provisional = t.receive(ringing, now: .milliseconds(200))
        #expect(provisional.contains(.cancelTimer(.b)))
        #expect(t.timer(.b, now: .seconds(32)).isEmpty)
        #expect(t.state == .proceeding)
    }

    @Test func configurableTimers() throws {
        var t = try ClientTransaction(request: request(.options, branch: "z9hG4bKq"), reliable: false,
                                      timers: TransactionTimers(t1: .milliseconds(100), t2: .milliseconds(400)))
        let start = t.start(now: .zero)
        #expect(start.contains(.startTimer(.e, at: .milliseconds(100))))
        #expect(start.contains(.startTimer(.f, at: .milliseconds(6400))))
        #expect(t.timer(.e, now: .milliseconds(100)).last == .startTimer(.e, at: .milliseconds(300)))
        // Reliable transports do not retransmit.
        var r = try ClientTransaction(request: request(.invite, branch: "z9hG4bKr"), reliable: true)
        #expect(!r.start(now: .zero).contains { if case .startTimer(.a, _) = $0 { true } else { false } })
    }

    @Test func aRequestWithoutAnRFC3261BranchIsRefused() {
        #expect(throws: SIPParseError.self) { try ClientTransaction(request: request(.options, branch: "oldstyle"), reliable: false) }
    }
}

@Suite struct TransactionExchangeTests {
    let a = SIPNetworkAddress("10.0.0.1"), b = SIPNetworkAddress("10.0.0.2")

    @Test func inviteRejectedIsAcknowledgedAndAbsorbed() throws {
        let s = VirtualScheduler()
        let net = SimulatedSIPNetwork(scheduler: s)
        let client = TransactionHost(a, network: net, scheduler: s)
        let server = TransactionHost(b, network: net, scheduler: s)
        server.onRequest = { m, host in
            s.schedule(after: .milliseconds(100)) { host.respond(m, status: 486, reason: "Busy Here") }
        }
        try client.send(request(.invite, branch: "z9hG4bKx"), to: b)
        s.runUntilIdle()
        let wire = net.messages.map { $0.message.method?.rawValue ?? String($0.message.status!) }
        #expect(wire == ["INVITE", "100", "486", "ACK"])
        #expect(client.delivered.compactMap(\.status) == [100, 486])
        #expect(server.delivered.compactMap(\.method) == [.invite])
        #expect(client.clients.isEmpty && server.servers.isEmpty)
        #expect(client.timeouts == 0 && server.timeouts == 0)
    }

    @Test func serverRetransmitsItsFinalResponseUntilTheACKAndTimesOutWithout() throws {
        let s = VirtualScheduler()
        let net = SimulatedSIPNetwork(scheduler: s)
        let server = TransactionHost(b, network: net, scheduler: s)
        server.onRequest = { m, host in host.respond(m, status: 603, reason: "Decline") }
        // A client that sends one INVITE and never ACKs.
        net.attach(a) { _, _ in }
        net.send(request(.invite, branch: "z9hG4bKg").serialized(), from: a, to: b)
        s.runUntilIdle()
        let finals = net.sent.filter { $0.from == b && String(decoding: $0.bytes.prefix(11), as: UTF8.self) == "SIP/2.0 603" }
        // G: T1 doubling up to T2 until H at 64·T1 (+ the 10 ms network delay).
        #expect(finals.map { $0.sentAt.nanoseconds / 1_000_000 } == [10, 510, 1510, 3510, 7510, 11510, 15510, 19510, 23510, 27510, 31510])
        #expect(server.timeouts == 1)
    }

    @Test func retransmittedRequestsReachTheTUOnce() throws {
        let s = VirtualScheduler()
        let net = SimulatedSIPNetwork(scheduler: s, conditions: .init(duplication: 1))
        let client = TransactionHost(a, network: net, scheduler: s)
        let server = TransactionHost(b, network: net, scheduler: s)
        server.onRequest = { m, host in s.schedule(after: .seconds(2)) { host.respond(m, status: 200, reason: "OK") } }
        try client.send(request(.options, branch: "z9hG4bKdup"), to: b)
        s.runUntilIdle()
        #expect(server.delivered.count == 1)
        #expect(client.delivered.compactMap(\.status) == [200])
    }

    /// Over a lossy, duplicating, reordering network every transaction still ends exactly
    /// once: the final response reaches the client TU once, or it times out.
    @Test(arguments: Array(UInt64(1)...UInt64(60)))
    func lossyNetwork(seed: UInt64) throws {
        let s = VirtualScheduler(seed: seed)
        let net = SimulatedSIPNetwork(scheduler: s, seed: seed, conditions: .init(loss: 0.3, duplication: 0.1, delay: .milliseconds(20), jitter: .milliseconds(80)))
        let client = TransactionHost(a, network: net, scheduler: s)
        let server = TransactionHost(b, network: net, scheduler: s)
        server.onRequest = { m, host in
            s.schedule(after: .milliseconds(50)) { host.respond(m, status: m.method == .invite ? 480 : 200, reason: "X") }
        }
        for i in 0..<4 {
            try client.send(request(i % 2 == 0 ? .invite : .register, branch: "z9hG4bKl\(seed)x\(i)", cseq: UInt32(i + 1)), to: b)
        }
        s.runUntilIdle()
        let finals = client.delivered.filter { ($0.status ?? 0) >= 200 }
        #expect(finals.count + client.timeouts == 4, "seed \(seed)")
        #expect(Set(finals.map { $0["CSeq"]! }).count == finals.count, "a final response delivered twice (seed \(seed))")
        #expect(server.delivered.filter(\.isRequest).count <= 4)
        #expect(client.clients.isEmpty && server.servers.isEmpty, "transactions left over (seed \(seed))")
    }
}

@Suite struct SimulatedNetworkTests {
    @Test func addressChangesLoseTrafficToTheOldAddress() {
        let s = VirtualScheduler()
        let net = SimulatedSIPNetwork(scheduler: s)
        var got: [String] = []
        let old = SIPNetworkAddress("10.0.0.7"), new = SIPNetworkAddress("10.0.0.8")
        net.attach(old) { b, _ in got.append(String(decoding: b, as: UTF8.self)) }
        net.attach(SIPNetworkAddress("10.0.0.1")) { _, _ in }
        net.send(Array("one".utf8), from: SIPNetworkAddress("10.0.0.1"), to: old)
        s.runUntilIdle()
        net.move(old, to: new)
        net.send(Array("two".utf8), from: SIPNetworkAddress("10.0.0.1"), to: old)
        net.send(Array("three".utf8), from: SIPNetworkAddress("10.0.0.1"), to: new)
        s.runUntilIdle()
        #expect(got == ["one", "three"])
        #expect(net.dropped == 1 && net.delivered == 2)
    }

    @Test func jitterReordersAndTheSeedReproducesTheRun() {
        func run(seed: UInt64) -> [Int] {
            let s = VirtualScheduler()
            let net = SimulatedSIPNetwork(scheduler: s, seed: seed, conditions: .init(delay: .milliseconds(5), jitter: .milliseconds(50)))
            var order: [Int] = []
            net.attach(SIPNetworkAddress("b")) { bytes, _ in order.append(Int(bytes[0])) }
            for i in 0..<20 {
                s.schedule(at: .milliseconds(Int64(i))) { net.send([UInt8(i)], from: SIPNetworkAddress("a"), to: SIPNetworkAddress("b")) }
            }
            s.runUntilIdle()
            return order
        }
        let a = run(seed: 3)
        #expect(a.count == 20)
        #expect(a != Array(0..<20))   // reordered
        #expect(a == run(seed: 3))    // reproducible
        #expect(a != run(seed: 4))
    }
}
