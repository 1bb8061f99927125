import Testing
import TipRingCore
import SIPCore
import BoardSimulator

/// Runs a RegistrationClient over the simulated network: each REGISTER in its own client
/// transaction, wake-ups on the virtual scheduler.
final class RegistrationRunner {
    let scheduler: VirtualScheduler
    let network: SimulatedSIPNetwork
    var address: SIPNetworkAddress
    let registrar: SIPNetworkAddress
    var client: RegistrationClient
    var transactions: [String: ClientTransaction] = [:]
    var timers: [String: TimerHandle] = [:]
    var wake: TimerHandle?
    var statuses: [RegistrationStatus] = []

    init(scheduler: VirtualScheduler, network: SimulatedSIPNetwork, address: SIPNetworkAddress, registrar: SIPNetworkAddress, settings: RegistrationSettings, seed: UInt64 = 7) {
        self.scheduler = scheduler
        self.network = network
        self.address = address
        self.registrar = registrar
        client = RegistrationClient(settings: settings, seed: seed)
        network.attach(address) { [unowned self] b, _ in self.receive(b) }
    }

    func start() { run(client.start(now: scheduler.now)) }
    func stop() { run(client.stop(now: scheduler.now)) }
    func move(to new: SIPNetworkAddress, contact: String) {
        network.move(address, to: new)
        address = new
        run(client.contactChanged(contact, now: scheduler.now))
    }

    func receive(_ bytes: [UInt8]) {
        guard let m = try? SIPParser.parse(bytes), let via = m["Via"], let branch = try? Via(via).branch, var t = transactions[branch] else { return }
        let actions = t.receive(m, now: scheduler.now)
        transactions[branch] = t
        runTransaction(actions, branch: branch)
    }

    func run(_ actions: [RegistrationAction]) {
        for a in actions {
            switch a {
            case .send(let m):
                guard var t = try? ClientTransaction(request: m, reliable: false) else { continue }
                transactions[t.branch] = t
                let acts = t.start(now: scheduler.now)
                transactions[t.branch] = t
                runTransaction(acts, branch: t.branch)
            case .wake(let at):
                if let w = wake { scheduler.cancel(w) }
                wake = scheduler.schedule(at: at) { [unowned self] in
                    self.wake = nil
                    self.run(self.client.timer(now: self.scheduler.now))
                }
            case .cancelWake:
                if let w = wake { scheduler.cancel(w) }
                wake = nil
            case .status(let s):
                statuses.append(s)
            }
        }
    }

    func runTransaction(_ actions: [TransactionAction], branch: String) {
        for a in actions {
            switch a {
            case .send(let m): network.send(m.serialized(), from: address, to: registrar)
            case .deliver(let m): run(client.response(m, now: scheduler.now))
            case .timeout: run(client.timeout(now: scheduler.now))
            case .terminated: transactions[branch] = nil
            case .cancelTimer(let t):
                if let h = timers.removeValue(forKey: branch + t.rawValue) { scheduler.cancel(h) }
            case .startTimer(let t, let at):
                timers[branch + t.rawValue] = scheduler.schedule(at: at) { [unowned self] in
                    self.timers[branch + t.rawValue] = nil
                    guard var tr = self.transactions[branch] else { return }
                    let acts = tr.timer(t, now: self.scheduler.now)
                    self.transactions[branch] = tr
                    self.runTransaction(acts, branch: branch)
                }
            }
        }
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
        settings.password = password
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
