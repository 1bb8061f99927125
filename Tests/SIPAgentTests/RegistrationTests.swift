import Testing
import TipRingCore
import SIPCore
import SIPAgent
import BoardSimulator

/// A ``RegistrationSession`` on the simulated network, at an address that can move.
final class RegistrationRunner {
    let scheduler: VirtualScheduler
    let network: SimulatedSIPNetwork
    var address: SIPNetworkAddress
    let registrar: SIPNetworkAddress
    var session: RegistrationSession!
    var statuses: [RegistrationStatus] = []
    var client: RegistrationClient { session.client }

    init(scheduler: VirtualScheduler, network: SimulatedSIPNetwork, address: SIPNetworkAddress, registrar: SIPNetworkAddress, settings: RegistrationSettings, seed: UInt64 = 7) {
        self.scheduler = scheduler
        self.network = network
        self.address = address
        self.registrar = registrar
        session = RegistrationSession(client: RegistrationClient(settings: settings, seed: seed), scheduler: scheduler, reliable: false) { [unowned self] m in
            self.network.send(m.serialized(), from: self.address, to: self.registrar)
        }
        session.onStatus = { [unowned self] in self.statuses.append($0) }
        network.attach(address) { [unowned self] b, _ in
            if let m = try? SIPParser.parse(b) { self.session.receive(m) }
        }
    }

    func start() { session.start() }
    func stop() { session.stop() }
    func move(to new: SIPNetworkAddress, contact: String) {
        network.move(address, to: new)
        address = new
        session.contactChanged(contact)
    }
}

struct RegistrationRig {
    let s = VirtualScheduler(seed: 11)
    let net: SimulatedSIPNetwork
    let registrar: SimulatedRegistrar
    let runner: RegistrationRunner
    static let settings = RegistrationSettings(
        registrar: "sip:example.com", addressOfRecord: "sip:1001@example.com", contact: "sip:1001@192.0.2.10:5060",
        instanceID: "urn:uuid:00000000-0000-1000-8000-000000000001", authUser: "1001", password: "secret1")

    init(password: String = "secret1", algorithm: DigestAlgorithm = .md5, expires: Int = 3600) {
        net = SimulatedSIPNetwork(scheduler: s)
        registrar = SimulatedRegistrar(network: net, address: SIPNetworkAddress("192.0.2.1"), realm: "example.com", users: ["1001": "secret1"], algorithm: algorithm)
        var settings = Self.settings
        settings.password = Secret(password)
        settings.expires = expires
        runner = RegistrationRunner(scheduler: s, network: net, address: SIPNetworkAddress("192.0.2.10"), registrar: SIPNetworkAddress("192.0.2.1"), settings: settings)
    }

    var isRegistered: Bool { if case .registered = runner.client.state { true } else { false } }
    var bound: [String] { registrar.contacts(of: "sip:1001@example.com") }
}

@Suite struct RegistrationTests {
    @Test(arguments: [DigestAlgorithm.md5, .sha256])
    func registersAndStaysRegisteredForADay(algorithm: DigestAlgorithm) {
        let rig = RegistrationRig(algorithm: algorithm)
        rig.runner.start()
        rig.s.run(until: .seconds(1))
        #expect(rig.isRegistered)
        #expect(rig.bound == ["sip:1001@192.0.2.10:5060"])
        // A day, checked every minute: the binding never lapses.
        var lapses = 0
        for minute in 1...(24 * 60) {
            rig.s.run(until: .seconds(Int64(minute * 60)))
            if rig.bound.isEmpty { lapses += 1 }
        }
        #expect(lapses == 0)
        // 401 + 200 at the start, then one REGISTER per refresh (plus its challenge):
        // refreshes at 80–90 % of the hour.
        let count = rig.registrar.registers.count
        #expect((2 + 2 * 24)...(2 + 2 * 30) ~= count, "\(count) REGISTERs")
        let callIDs = Set(rig.registrar.registers.map { $0.message["Call-ID"]! })
        #expect(callIDs.count == 1)
        let cseqs = rig.registrar.registers.map { try! CSeq($0.message["CSeq"]!).sequence }
        #expect(cseqs == cseqs.sorted() && Set(cseqs).count == cseqs.count)
    }

    @Test func aShortenedExpiryIsRefreshedInTime() {
        let rig = RegistrationRig()
        rig.registrar.maximumExpires = 120
        rig.runner.start()
        for second in stride(from: 1, through: 1800, by: 5) {
            rig.s.run(until: .seconds(Int64(second)))
            #expect(!rig.bound.isEmpty, "lapsed at \(second) s")
        }
        guard case .registered(let until) = rig.runner.client.state else { Issue.record("not registered"); return }
        #expect(until - rig.s.now <= .seconds(120))
    }

    @Test func intervalTooBriefTakesMinExpires() throws {
        let rig = RegistrationRig(expires: 30)
        rig.registrar.minimumExpires = 300
        rig.runner.start()
        rig.s.run(until: .seconds(2))
        #expect(rig.isRegistered)
        let asked = rig.registrar.registers.map { $0.message["Expires"]! }
        #expect(asked.contains("30") && asked.last == "300")
    }

    @Test func aStaleNonceIsAnsweredWithoutCountingAsAFailure() {
        let rig = RegistrationRig()
        rig.runner.start()
        rig.s.run(until: .seconds(1))
        rig.registrar.nextNonceStale = true
        rig.s.run(until: .seconds(3600))
        #expect(rig.isRegistered)
        #expect(!rig.runner.statuses.contains { if case .failed = $0 { true } else { false } })
    }

    @Test func forbiddenMeansASlowRetryNotAStorm() {
        let rig = RegistrationRig()
        rig.registrar.mode = .forbidden
        rig.runner.start()
        rig.s.run(until: .seconds(3600))
        #expect(rig.registrar.registers.count <= 3)
        guard case .failed(let reason, _) = rig.runner.client.state else { Issue.record("not failed"); return }
        #expect(reason.contains("403"))
    }

    @Test func aWrongPasswordFailsClearlyWithoutAStorm() {
        let rig = RegistrationRig(password: "wrong")
        rig.runner.start()
        rig.s.run(until: .seconds(3600))
        #expect(rig.registrar.registers.count <= 6)
        guard case .failed(let reason, _) = rig.runner.client.state else { Issue.record("not failed"); return }
        #expect(reason.contains("wrong user name or password"))
        #expect(!rig.runner.statuses.description.contains("wrong\""))
    }

    @Test func serviceUnavailableHonoursRetryAfter() {
        let rig = RegistrationRig()
        rig.registrar.mode = .unavailable(retryAfter: 120)
        rig.runner.start()
        rig.s.run(until: .seconds(1))
        rig.registrar.mode = .normal
        rig.s.run(until: .seconds(300))
        let times = rig.registrar.registers.map { $0.at }
        #expect(times.count >= 2)
        #expect(times[1] - times[0] >= .seconds(120))
        #expect(times[1] - times[0] < .seconds(122))
        #expect(rig.isRegistered)
    }

    @Test func silenceBacksOffWithinRFC5626Bounds() {
        let rig = RegistrationRig()
        rig.registrar.mode = .silent
        rig.runner.start()
        rig.s.run(until: .seconds(6 * 3600))
        // First transmissions of each attempt (retransmissions share a branch).
        var firsts: [Instant] = []
        var seen = Set<String>()
        for r in rig.registrar.registers {
            let b = try! Via(r.message["Via"]!).branch!
            if seen.insert(b).inserted { firsts.append(r.at) }
        }
        #expect(firsts.count >= 5)
        for k in 1..<min(firsts.count, 8) {
            // Attempt k failed after the 32 s transaction timeout, then waited 50–100 % of
            // min(1800, 30·2^(k−1)) seconds.
            let wait = (firsts[k] - firsts[k - 1]).seconds - 32
            let bound = min(1800.0, 30.0 * Double(1 << (k - 1)))
            #expect(wait >= bound * 0.5 - 0.01 && wait <= bound + 0.01, "attempt \(k): waited \(wait) s, bound \(bound)")
        }
        rig.registrar.mode = .normal
        rig.s.run(until: rig.s.now + .seconds(3600))
        #expect(rig.isRegistered)
    }

    @Test func anAddressChangeReRegistersAtOnce() {
        let rig = RegistrationRig()
        rig.runner.start()
        rig.s.run(until: .seconds(60))
        let changeAt = rig.s.now
        rig.runner.move(to: SIPNetworkAddress("198.51.100.7"), contact: "sip:1001@198.51.100.7:5060")
        rig.s.run(until: changeAt + .seconds(5))
        #expect(rig.bound.contains("sip:1001@198.51.100.7:5060"))
        let after = rig.registrar.registers.filter { $0.at >= changeAt }
        #expect(after.first.map { $0.at - changeAt <= .seconds(5) } == true)
        #expect(after.allSatisfy { $0.message["Via"]!.contains("198.51.100.7") })
    }

    @Test func unregisterLeavesNoBinding() {
        let rig = RegistrationRig()
        rig.runner.start()
        rig.s.run(until: .seconds(10))
        #expect(!rig.bound.isEmpty)
        rig.runner.stop()
        rig.s.run(until: .seconds(20))
        #expect(rig.bound.isEmpty)
        #expect(rig.registrar.registers.last?.message["Expires"] == "0")
        #expect(rig.runner.client.status == .unregistered)
    }

    @Test func aRestartedRegistrarIsRepopulatedAtTheNextRefresh() {
        let rig = RegistrationRig()
        rig.runner.start()
        rig.s.run(until: .seconds(100))
        rig.registrar.restart()
        #expect(rig.bound.isEmpty)
        rig.s.run(until: .seconds(3600))
        #expect(!rig.bound.isEmpty)
    }
}
