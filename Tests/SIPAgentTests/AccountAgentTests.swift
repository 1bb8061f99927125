import Testing
import TipRingCore
import SIPCore
import SIPAgent
import BoardSimulator

/// An ``AccountAgent`` on the simulated network.
final class AgentRig {
    let s = VirtualScheduler(seed: 5)
    let net: SimulatedSIPNetwork
    var address: SIPNetworkAddress
    var agent: AccountAgent!
    var statuses: [RegistrationStatus] = []

    init(servers: [SIPNetworkAddress], failoverServers: [SIPNetworkAddress] = [], address: SIPNetworkAddress = SIPNetworkAddress("192.0.2.10"),
         configure: (inout AccountSettings) -> Void = { _ in }) {
        net = SimulatedSIPNetwork(scheduler: s)
        self.address = address
        var settings = AccountSettings(registration: RegistrationRig.settings, contactUser: "1001")
        settings.timers = TransactionTimers(t1: .milliseconds(100))
        configure(&settings)
        agent = AccountAgent(settings: settings, servers: servers, failoverServers: failoverServers, localAddress: address, scheduler: s, seed: 3,
                             send: { [weak self] m, to in self.map { $0.net.send(m.serialized(), from: $0.address, to: to) } },
                             sendBytes: { [weak self] b, to in self.map { $0.net.send(b, from: $0.address, to: to) } })
        agent.onStatus = { [weak self] in self?.statuses.append($0) }
        attach()
    }

    func attach() {
        net.attach(address) { [weak self] b, from in
            if let m = try? SIPParser.parse(b) { self?.agent.receive(m, from: from) }
        }
    }

    var registrars: [SimulatedRegistrar] = []
    @discardableResult
    func registrar(at a: SIPNetworkAddress) -> SimulatedRegistrar {
        let r = SimulatedRegistrar(network: net, address: a, realm: "example.com", users: ["1001": "secret1"])
        registrars.append(r)
        return r
    }

    var isRegistered: Bool { if case .registered = agent.status { true } else { false } }
    func sent(to a: SIPNetworkAddress) -> [SIPMessage] { net.messages.filter { $0.to == a }.map(\.message) }
}

@Suite("Account agent: servers, NAT, keep-alive, screening")
struct AccountAgentTests {
    let dead = SIPNetworkAddress("192.0.2.91")
    let first = SIPNetworkAddress("192.0.2.1")
    let second = SIPNetworkAddress("192.0.2.2")

    @Test("a dead first server: the REGISTER times out and goes to the next at once, no backoff")
    func failoverOnTimeout() {
        let rig = AgentRig(servers: [dead, second])
        let reg = rig.registrar(at: second)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(10))
        #expect(rig.isRegistered)
        #expect(!rig.sent(to: dead).isEmpty)
        #expect(reg.contacts(of: "sip:1001@example.com") == ["sip:1001@192.0.2.10:5060"])
        #expect(!rig.statuses.contains { if case .retrying = $0 { true } else { false } })
        // Timer F (64·T1 = 6.4 s) is the whole delay.
        #expect(rig.agent.server == second)
    }

    @Test("503 from the first server: the next one is tried at once")
    func failoverOn503() {
        let rig = AgentRig(servers: [first, second])
        let busy = rig.registrar(at: first)
        busy.mode = .unavailable(retryAfter: nil)
        let good = rig.registrar(at: second)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(1))
        #expect(rig.isRegistered)
        #expect(busy.registers.count == 1)
        #expect(good.contacts(of: "sip:1001@example.com").count == 1)
    }

    @Test("the failover server: used when every address of the first has failed, with its own Route; the first asked every minute (OPTIONS) and taken back as soon as it answers")
    func failoverServerAndBack() throws {
        let primaryRoute = "<sip:192.0.2.91;lr>", failoverRoute = "<sip:192.0.2.2;lr>"
        let rig = AgentRig(servers: [dead], failoverServers: [second], configure: {
            $0.registration.route = primaryRoute
            $0.failoverRoute = failoverRoute
        })
        let backup = rig.registrar(at: second)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(10))
        #expect(rig.isRegistered && rig.agent.onFailover && rig.agent.server == second)
        let toBackup = try #require(backup.registers.last?.1)
        #expect(toBackup["Route"] == failoverRoute)
        #expect(rig.sent(to: dead).allSatisfy { $0["Route"] == primaryRoute })

        // The first server stays dead for two checks, then answers: the account goes back.
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(135))
        let asked = rig.sent(to: dead).filter { $0.method == .options }
        #expect(asked.count == 2 && asked.allSatisfy { $0["Route"] == primaryRoute }, "\(asked.count) OPTIONS")
        let back = rig.registrar(at: dead)
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(200))
        #expect(rig.isRegistered && !rig.agent.onFailover && rig.agent.server == dead)
        #expect(back.contacts(of: "sip:1001@example.com") == ["sip:1001@192.0.2.10:5060"])
        #expect(back.registers.last?.1["Route"] == primaryRoute && rig.agent.settings.registration.route == primaryRoute)
        // Back home, nobody asks any more.
        let optionsBefore = rig.sent(to: dead).filter { $0.method == .options }.count
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(400))
        #expect(rig.sent(to: dead).filter { $0.method == .options }.count == optionsBefore)
    }

    @Test("register: no — in service at once, no REGISTER ever; taken down without one either")
    func withoutRegistration() {
        let rig = AgentRig(servers: [first], configure: { $0.registration.register = false })
        let reg = rig.registrar(at: first)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(3600))
        #expect(rig.agent.status == .inServiceWithoutRegistration && rig.agent.status.inService)
        #expect(reg.registers.isEmpty && !rig.sent(to: first).contains { $0.method == .register })
        rig.agent.stop()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(3700))
        #expect(rig.agent.status == .unregistered && rig.agent.isIdle && reg.registers.isEmpty)
    }

    @Test("every server dead: backoff, then the first server again")
    func allDeadBacksOff() {
        let rig = AgentRig(servers: [dead, SIPNetworkAddress("192.0.2.92")])
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(15))
        #expect(rig.statuses.contains { if case .retrying = $0 { true } else { false } })
        #expect(rig.agent.server == dead)
    }

    @Test("every server failed in turn: the endpoint is asked to look them up again, once per round")
    func exhaustedServersAskForANewLookUp() {
        let rig = AgentRig(servers: [dead, SIPNetworkAddress("192.0.2.92")])
        var asked = 0
        rig.agent.onServersExhausted = { asked += 1 }
        rig.agent.start()
        // Two Timer F's (6.4 s each with T1 = 100 ms): one round.
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(13))
        #expect(asked == 1)
        #expect(rig.statuses.contains { if case .retrying = $0 { true } else { false } })
    }

    @Test("DNS moved the registrar: the account registers with the new server at once; the same list again, or one that keeps our server, changes nothing")
    func replacedServers() {
        let rig = AgentRig(servers: [first])
        let old = rig.registrar(at: first)
        let moved = rig.registrar(at: second)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(2))
        #expect(rig.isRegistered && old.contacts(of: "sip:1001@example.com").count == 1)
        let sent = rig.net.messages.count
        rig.agent.replaceServers([first])
        rig.agent.replaceServers([second, first])  // ours is still listed: the binding stays
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(4))
        #expect(rig.net.messages.count == sent)
        rig.agent.replaceServers([second])
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(6))
        #expect(rig.agent.server == second)
        #expect(moved.contacts(of: "sip:1001@example.com") == ["sip:1001@192.0.2.10:5060"])
        #expect(rig.isRegistered)
        // Requests now come from the new server only.
        #expect(rig.agent.servers == [second])
    }

    @Test("behind a NAT: the Contact moves to the address the registrar saw (received/rport), the private one is unbound")
    func natReflexiveContact() {
        let inside = SIPNetworkAddress("10.0.0.2", 5060)
        let outside = SIPNetworkAddress("198.51.100.7", 40000)
        let rig = AgentRig(servers: [first], address: inside)
        rig.net.nat(inside: inside, outside: outside)
        let reg = rig.registrar(at: first)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(5))
        #expect(rig.isRegistered)
        #expect(reg.contacts(of: "sip:1001@example.com") == ["sip:1001@198.51.100.7:40000"])
        #expect(rig.agent.reflexiveAddress == outside)
        // Settles: challenge+answer, then one more pair for the new Contact; no loop.
        #expect(reg.registers.count == 4)
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(7200))
        #expect(reg.contacts(of: "sip:1001@example.com") == ["sip:1001@198.51.100.7:40000"])
    }

    @Test("useReceivedAddress off: the Contact stays private")
    func natIgnored() {
        let inside = SIPNetworkAddress("10.0.0.2", 5060)
        let rig = AgentRig(servers: [first], address: inside) { $0.useReceivedAddress = false }
        rig.net.nat(inside: inside, outside: SIPNetworkAddress("198.51.100.7", 40000))
        let reg = rig.registrar(at: first)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(5))
        #expect(reg.contacts(of: "sip:1001@example.com") == ["sip:1001@10.0.0.2:5060"])
    }

    @Test("local address change noticed by the watcher: re-REGISTER with the new Contact within 5 s")
    func addressChangeWatcher() {
        let rig = AgentRig(servers: [first])
        let reg = rig.registrar(at: first)
        var probed = "192.0.2.10"
        let watcher = AddressWatcher(scheduler: rig.s, interval: .seconds(2), initial: probed, probe: { probed }) { new in
            let old = rig.address
            rig.address = SIPNetworkAddress(new, old.port)
            rig.net.move(old, to: rig.address)
            rig.agent.localAddressChanged(rig.address)
        }
        rig.agent.start()
        watcher.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(100))
        let before = reg.registers.count
        probed = "192.0.2.77"
        let changedAt = rig.s.now
        rig.s.run(until: changedAt + .seconds(5))
        let after = reg.registers.dropFirst(before)
        #expect(after.contains { $0.message.values("Contact").contains { $0.contains("192.0.2.77") } })
        #expect(after.allSatisfy { $0.at - changedAt <= .seconds(5) })
        #expect(reg.contacts(of: "sip:1001@example.com") == ["sip:1001@192.0.2.77:5060"])
        #expect(rig.isRegistered)
        watcher.stop()
    }

    @Test("a connection made again from the same local port (a restarted server): register again at once")
    func reconnectedSameAddress() {
        let rig = AgentRig(servers: [first])
        let reg = rig.registrar(at: first)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(10))
        reg.restart()
        #expect(reg.contacts(of: "sip:1001@example.com").isEmpty)
        rig.agent.reconnected(localAddress: rig.address)
        rig.s.run(until: rig.s.now + .seconds(1))
        #expect(reg.contacts(of: "sip:1001@example.com") == ["sip:1001@192.0.2.10:5060"])
    }

    @Test("keep-alive: CRLF pings toward the server while registered, none after unregistering")
    func keepAliveCRLF() {
        let rig = AgentRig(servers: [first]) { $0.keepAlive = .crlf(every: .seconds(20)) }
        rig.registrar(at: first)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(101))
        let pings = rig.net.sent.filter { $0.to == first && $0.bytes == Array("\r\n\r\n".utf8) }
        #expect(pings.count == 5)
        rig.agent.stop()
        rig.s.run(until: rig.s.now + .seconds(100))
        #expect(rig.net.sent.filter { $0.to == first && $0.bytes == Array("\r\n\r\n".utf8) }.count == 5)
    }

    @Test("keep-alive by OPTIONS")
    func keepAliveOptions() {
        let rig = AgentRig(servers: [first]) { $0.keepAlive = .options(every: .seconds(30)) }
        rig.registrar(at: first)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(95))
        #expect(rig.sent(to: first).filter { $0.method == .options }.count == 3)
    }

    @Test("outbound proxy: REGISTER goes to the proxy with a loose Route")
    func outboundProxy() {
        let proxy = SIPNetworkAddress("192.0.2.5")
        let rig = AgentRig(servers: [proxy]) { $0.registration.route = "<sip:proxy.example.com;lr>" }
        rig.registrar(at: proxy)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(1))
        let registers = rig.sent(to: proxy).filter { $0.method == .register }
        #expect(!registers.isEmpty)
        #expect(registers.allSatisfy { $0["Route"] == "<sip:proxy.example.com;lr>" })
        #expect(registers.allSatisfy { if case .request(_, let uri) = $0.startLine { uri == "sip:example.com" } else { false } })
    }

    @Test("requests from strangers are dropped unanswered; ours get answers; not-ours get 404")
    func screening() throws {
        let rig = AgentRig(servers: [first])
        rig.registrar(at: first)
        var forwarded: [SIPMessage] = []
        rig.agent.onRequest = { m, _ in forwarded.append(m) }
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(1))
        let scanner = SIPNetworkAddress("203.0.113.66", 5070)
        func request(_ method: String, user: String, branch: String) -> [UInt8] {
            Array("""
            \(method) sip:\(user)@192.0.2.10 SIP/2.0\r
            Via: SIP/2.0/UDP 203.0.113.66:5070;branch=z9hG4bK\(branch)\r
            From: <sip:100@203.0.113.66>;tag=x\r
            To: <sip:\(user)@192.0.2.10>\r
            Call-ID: \(branch)\r
            CSeq: 1 \(method)\r
            Max-Forwards: 70\r
            Content-Length: 0\r
            \r

            """.utf8)
        }
        rig.net.attach(scanner) { _, _ in }
        rig.net.send(request("INVITE", user: "1001", branch: "scan1"), from: scanner, to: rig.address)
        rig.net.send(request("OPTIONS", user: "100", branch: "scan2"), from: scanner, to: rig.address)
        rig.s.run(until: rig.s.now + .seconds(1))
        #expect(rig.agent.droppedRequests == 2)
        #expect(rig.sent(to: scanner).isEmpty)
        #expect(forwarded.isEmpty)

        rig.net.attach(SIPNetworkAddress("192.0.2.1", 5080)) { _, _ in }
        let fromServer = SIPNetworkAddress("192.0.2.1", 5080)
        // Without a user agent on top, the agent answers OPTIONS itself.
        let handler = rig.agent.onRequest
        rig.agent.onRequest = nil
        rig.net.send(request("OPTIONS", user: "1001", branch: "o1"), from: fromServer, to: rig.address)
        rig.s.run(until: rig.s.now + .seconds(1))
        rig.agent.onRequest = handler
        rig.net.send(request("INVITE", user: "9999", branch: "i1"), from: fromServer, to: rig.address)
        rig.net.send(request("INVITE", user: "1001", branch: "i2"), from: fromServer, to: rig.address)
        rig.s.run(until: rig.s.now + .seconds(1))
        let answers = rig.sent(to: fromServer)
        let options = try #require(answers.first { $0["Call-ID"] == "o1" })
        #expect(options.status == 200)
        #expect(options["Allow"]?.contains("INVITE") == true)
        #expect(answers.first { $0["Call-ID"] == "i1" }?.status == 404)
        #expect(forwarded.map { $0["Call-ID"] } == ["i2"])
    }

    @Test("responses are believed only from where their request went: a forged 2xx moves nothing, a forged 401 burns nothing")
    func forgedResponses() throws {
        let rig = AgentRig(servers: [first])
        let reg = rig.registrar(at: first)
        rig.agent.start()
        rig.s.run(until: Instant(nanoseconds: 0) + .seconds(1))
        #expect(rig.isRegistered)
        let attacker = SIPNetworkAddress("203.0.113.66", 5060)
        rig.net.attach(attacker) { _, _ in }
        let register = try #require(rig.sent(to: first).last { $0.method == .register })
        // A 2xx that would move our binding to the attacker (RFC 3581 received/rport).
        var forged = SIPResponses.response(to: register, status: 200, reason: "OK", toTag: "x")
        let via = try #require(register["Via"])
        forged.replaceFirst("Via", with: via.replacing(";rport", with: ";rport=6666;received=203.0.113.66"))
        forged.add("Contact", "<\(rig.agent.contact)>;expires=3600")
        rig.net.send(forged.serialized(), from: attacker, to: rig.address)
        // A 401 that would burn the credential back-off.
        let challenge = SIPResponses.response(to: register, status: 401, reason: "Unauthorized", toTag: "y")
        rig.net.send(challenge.serialized(), from: attacker, to: rig.address)
        // And one from the right host but another port.
        rig.net.send(forged.serialized(), from: SIPNetworkAddress(first.host, 5070), to: rig.address)
        rig.s.run(until: rig.s.now + .seconds(5))
        #expect(rig.agent.droppedResponses == 3)
        #expect(rig.agent.reflexiveAddress == nil)
        #expect(rig.isRegistered)
        #expect(reg.contacts(of: "sip:1001@example.com") == ["sip:1001@192.0.2.10:5060"])
    }

    @Test("a malformed request from a stranger gets no answer (no fingerprint, no reflection); from our server, a 400")
    func malformedRequests() throws {
        let rig = AgentRig(servers: [first])
        rig.registrar(at: first)
        let stranger = SIPNetworkAddress("203.0.113.66", 5070)
        let server = SIPNetworkAddress(first.host, 5060)
        rig.net.attach(stranger) { _, _ in }
        let broken = Array("""
        INVITE sip:1001@192.0.2.10 SIP/2.0\r
        Via: SIP/2.0/UDP 203.0.113.66:5070;branch=z9hG4bKm1\r
        From: <sip:100@203.0.113.66>;tag=x\r
        To: <sip:1001@192.0.2.10>\r
        Call-ID: m1\r
        Content-Length: 0\r
        \r

        """.utf8)
        var error = SIPParseError("")
        do { _ = try SIPParser.parse(broken) } catch let e { error = e }
        #expect(error.description.contains("CSeq"))
        rig.agent.receiveMalformed(broken, error: error, from: stranger)
        rig.agent.receiveMalformed(broken, error: error, from: server)
        rig.s.run(until: rig.s.now + .seconds(1))
        #expect(!rig.net.sent.contains { $0.to == stranger })
        // The 400 copies what could be read (no CSeq here), so it is checked as bytes.
        let answers = rig.net.sent.filter { $0.to == server }.map { String(decoding: $0.bytes, as: UTF8.self) }
        #expect(answers.count == 1 && answers[0].hasPrefix("SIP/2.0 400 Bad Request"), "\(answers)")
        #expect(rig.agent.droppedMalformed == 2)
    }
}

@Suite("DNS SRV ordering (RFC 2782) and RFC 3263 location")
struct ServerLocatorTests {
    struct Table: SIPResolver {
        var srvs: [String: [SRVRecord]] = [:]
        var hosts: [String: [String]] = [:]
        /// No DNS server answers SRV queries (the modem has not attached).
        var srvUnanswered = false
        func srv(_ name: String) throws(DNSLookupError) -> [SRVRecord] {
            if srvUnanswered { throw .noAnswer(name) }
            guard let r = srvs[name] else { throw .noSuchName(name) }
            return r
        }
        func addresses(_ name: String) throws(DNSLookupError) -> [String] {
            guard let r = hosts[name] else { throw .noSuchName(name) }
            return r
        }
    }

    @Test("priority first; within a priority, weights share the first place in proportion")
    func weights() {
        let records = [
            SRVRecord(priority: 20, weight: 0, port: 5060, target: "backup"),
            SRVRecord(priority: 10, weight: 60, port: 5060, target: "a"),
            SRVRecord(priority: 10, weight: 20, port: 5060, target: "b"),
            SRVRecord(priority: 10, weight: 20, port: 5060, target: "c"),
        ]
        var random = SeededRandom(seed: 42)
        var firsts: [String: Int] = [:]
        var malformed = 0
        for _ in 0..<10_000 {
            let o = ServerLocator.order(records, random: &random)
            if o.last?.target != "backup" || Set(o.map(\.target)) != ["a", "b", "c", "backup"] { malformed += 1 }
            firsts[o[0].target, default: 0] += 1
        }
        #expect(malformed == 0)
        // 60 : 20 : 20, within a few percent.
        #expect(abs(Double(firsts["a"]!) / 10_000 - 0.6) < 0.03)
        #expect(abs(Double(firsts["b"]!) / 10_000 - 0.2) < 0.03)
    }

    @Test("numeric host, explicit port, SRV, and A fallback")
    func location() throws {
        var random = SeededRandom(seed: 1)
        let t = Table(srvs: ["_sip._udp.example.com": [SRVRecord(priority: 1, weight: 0, port: 5080, target: "sip1.example.com")],
                             "_sip._tcp.example.com": [SRVRecord(priority: 1, weight: 0, port: 5090, target: "sip1.example.com")]],
                      hosts: ["sip1.example.com": ["192.0.2.11"], "example.com": ["192.0.2.12"], "plain.example": ["192.0.2.13"]])
        #expect(try ServerLocator.targets(host: "192.0.2.1", port: nil, transport: .udp, resolver: t, random: &random).map(\.description) == ["192.0.2.1:5060"])
        #expect(try ServerLocator.targets(host: "example.com", port: nil, transport: .udp, resolver: t, random: &random).map(\.port) == [5080])
        #expect(try ServerLocator.targets(host: "example.com", port: nil, transport: .tcp, resolver: t, random: &random).map(\.port) == [5090])
        #expect(try ServerLocator.targets(host: "example.com", port: 5070, transport: .udp, resolver: t, random: &random).map(\.description) == ["example.com (192.0.2.12:5070)"])
        #expect(try ServerLocator.targets(host: "plain.example", port: nil, transport: .udp, resolver: t, random: &random).map(\.description) == ["plain.example (192.0.2.13:5060)"])
        #expect(throws: DNSLookupError.noSuchName("nowhere.example")) {
            try ServerLocator.targets(host: "nowhere.example", port: nil, transport: .udp, resolver: t, random: &random)
        }
    }

    @Test("no DNS answer for SRV: a host known locally (/etc/hosts) is used on 5060; unknown, the SRV failure is the reason")
    func unansweredSRVFallsBackToALocalHost() throws {
        var random = SeededRandom(seed: 1)
        let t = Table(hosts: ["sip.example.com": ["192.0.2.21"]], srvUnanswered: true)
        #expect(try ServerLocator.targets(host: "sip.example.com", port: nil, transport: .udp, resolver: t, random: &random).map(\.description)
                == ["sip.example.com (192.0.2.21:5060)"])
        #expect(throws: DNSLookupError.noAnswer("_sip._udp.elsewhere.example")) {
            try ServerLocator.targets(host: "elsewhere.example", port: nil, transport: .udp, resolver: t, random: &random)
        }
    }

    @Test("SIP over TLS: _sips._tcp SRV (not _sip._tcp), port 5061 for an address or a name without SRV (RFC 3263 §4.2, RFC 3261 §19.1.2)")
    func locationOverTLS() throws {
        var random = SeededRandom(seed: 1)
        let t = Table(srvs: ["_sip._tcp.example.com": [SRVRecord(priority: 1, weight: 0, port: 5090, target: "sip1.example.com")],
                             "_sips._tcp.example.com": [SRVRecord(priority: 1, weight: 0, port: 5071, target: "tls.example.com")]],
                      hosts: ["sip1.example.com": ["192.0.2.11"], "tls.example.com": ["192.0.2.14"], "plain.example": ["192.0.2.13"]])
        #expect(try ServerLocator.targets(host: "example.com", port: nil, transport: .tls, resolver: t, random: &random).map(\.description) == ["tls.example.com (192.0.2.14:5071)"])
        #expect(try ServerLocator.targets(host: "192.0.2.1", port: nil, transport: .tls, resolver: t, random: &random).map(\.description) == ["192.0.2.1:5061"])
        #expect(try ServerLocator.targets(host: "plain.example", port: nil, transport: .tls, resolver: t, random: &random).map(\.description) == ["plain.example (192.0.2.13:5061)"])
        #expect(Transport.tls.via(fromContact: "sip:1001@192.0.2.10:40000;transport=tls").hasPrefix("SIP/2.0/TLS 192.0.2.10:40000;branch=z9hG4bK"))
        #expect(Transport.tls.uriParameter == ";transport=tls" && Transport.tls.isReliable)
    }

    @Test("SRV answers carry their TTL to each target; A-only answers have none")
    func targetsCarryTheirTTL() throws {
        var random = SeededRandom(seed: 1)
        let t = Table(srvs: ["_sip._udp.example.com": [SRVRecord(priority: 1, weight: 0, port: 5080, target: "sip1.example.com", ttl: 120)]],
                      hosts: ["sip1.example.com": ["192.0.2.11", "192.0.2.12"], "plain.example": ["192.0.2.13"]])
        #expect(try ServerLocator.targets(host: "example.com", port: nil, transport: .udp, resolver: t, random: &random).map(\.ttl) == [120, 120])
        #expect(try ServerLocator.targets(host: "plain.example", port: nil, transport: .udp, resolver: t, random: &random).map(\.ttl) == [nil])
    }
}
