#if canImport(Glibc)
import Glibc
#endif
import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import SIPAgent
import PortControl
import BoardSimulator

/// A line that only records what the controller asks of it.
final class RecordingHardware: PortHardware {
    var onHookEvent: ((HookEvent.Kind) -> Void)?
    var onKeypadDigit: ((Character) -> Void)?
    var feed: LineFeed = .powerDown
    var ringing = false
    var tone: ToneKind?
    var offHook = false
    var media: CallHandle?
    /// Ringing asked for while the handset was up: a real line would refuse (ring-trip), but
    /// asking is the controller's bug — recorded, not hidden.
    var ringRequestsOffHook = 0

    func setFeed(_ feed: LineFeed) { self.feed = feed }
    func startRinging(cadence: RingCadence, frequency: Double) {
        if offHook { ringRequestsOffHook += 1 } else { ringing = true }
    }
    func stopRinging() { ringing = false }
    func playTone(_ tone: Tone?, kind: ToneKind?) { self.tone = tone == nil ? nil : kind }
    func playSamples(_ samples: [Int16]) {}
    func connectMedia(_ call: CallHandle?) { media = call }

    func lift() {
        offHook = true
        ringing = false  // ring-trip
        onHookEvent?(.offHook)
    }

    func putDown() {
        offHook = false
        onHookEvent?(.onHook)
    }
}

/// Two ports (controllers over recording lines, real SIP user agents) and an outside caller,
/// all on the simulated exchange in virtual time; random events; invariants after each step.
final class RandomWorld {
    let s: VirtualScheduler
    let net: SimulatedSIPNetwork
    let exchange: SimulatedExchange
    var hardware: [RecordingHardware] = []
    var controllers: [PortController] = []
    var agents: [SIPUserAgent] = []
    let outside: SIPUserAgent
    var outsideCalls: [CallHandle] = []
    var random: SeededRandom
    var log: [String] = []
    /// Requests each port sent since it was disabled (must be only unregistration and teardown).
    var sentWhileDisabled: [Int: [String]] = [:]
    var disabledAt: [Int: Int] = [:]
    /// Branches of the requests each port sent while enabled.
    var branchesBeforeDisable: [Int: Set<String>] = [:]
    /// The calls each port holds an RTP port for (given by `mediaPort`, handed back by the
    /// call's last media update): one that outlives its call is a leaked socket pair.
    var mediaPorts: [Set<CallHandle>] = [[], []]
    /// Each port's box on the network.
    var places: [Place] = []
    /// Each port's hardware: its health as the daemon keeps it, and the failures the sequence
    /// made (a sound device or GPIO chip that fails, then refuses to reopen a few times).
    var recovery = [HardwareRecovery(), HardwareRecovery()]
    var audioFailure: [String?] = [nil, nil]
    var lineFailure: [String?] = [nil, nil]
    var refusals = [0, 0]

    init(seed: UInt64) {
        s = VirtualScheduler(seed: seed)
        random = SeededRandom(seed: seed &* 31 &+ 7)
        // Every fourth seed on a lossy, jittery network (reordering, duplicates).
        let lossy = SimulatedSIPNetwork.Conditions(loss: 0.01, duplication: 0.01, delay: .milliseconds(10), jitter: .milliseconds(30))
        net = SimulatedSIPNetwork(scheduler: s, seed: seed, conditions: seed % 4 == 0 ? lossy : .init())
        exchange = SimulatedExchange(network: net, address: SIPNetworkAddress("192.0.2.1"), domain: "x.test",
                                     users: ["1001": Self.password("1001"), "1002": Self.password("1002"), "1009": Self.password("1009")])
        outside = Self.makeUA(net: net, s: s, seed: seed, "1009", "192.0.2.90", Self.password("1009"), 9).ua
        for n in 1...2 {
            let (ua, place) = Self.makeUA(net: net, s: s, seed: seed, "100\(n)", "192.0.2.\(10 * n)", Self.password("100\(n)"), UInt64(n))
            places.append(place)
            let hw = RecordingHardware()
            var settings = PortSettings()
            settings.dialPlan = try! DialPlan("(100[1-9]|x.T)")
            settings.callWaiting = n == 1
            let c = PortController(port: n, settings: settings, plan: RegionTonePlan.forRegion(.us)!, hardware: hw, userAgent: ua, scheduler: s)
            hardware.append(hw)
            controllers.append(c)
            agents.append(ua)
            let index = n - 1
            ua.mediaPort = { [unowned self] h in
                self.mediaPorts[index].insert(h)
                return 20000 + 2 * Int(h.id % 1000)
            }
            ua.onMedia = { [unowned self] h, session in if session == nil { self.mediaPorts[index].remove(h) } }
        }
        setUp()
    }

    /// Long enough that finding it in what was sent is no accident.
    static func password(_ user: String) -> String { "pw-\(user)-never-on-the-wire" }

    /// Where a port's box is on the network now (it moves: an LTE address change).
    final class Place {
        var address: SIPNetworkAddress
        init(_ a: SIPNetworkAddress) { address = a }
    }

    static func makeUA(net: SimulatedSIPNetwork, s: VirtualScheduler, seed: UInt64, _ user: String, _ host: String, _ password: String, _ n: UInt64) -> (ua: SIPUserAgent, place: Place) {
            var reg = RegistrationSettings(registrar: "sip:x.test", addressOfRecord: "sip:\(user)@x.test", contact: "",
                                           instanceID: "urn:uuid:00000000-0000-4000-8000-00000000000\(n)", authUser: user, password: password)
            reg.expires = 300
            reg.retryBase = .seconds(5)
            reg.retryMax = .seconds(20)
            reg.credentialRetry = .seconds(60)
            var a = AccountSettings(registration: reg, contactUser: user)
            a.keepAlive = .off
            let address = SIPNetworkAddress(host)
            let place = Place(address)
            let agent = AccountAgent(settings: a, servers: [SIPNetworkAddress("192.0.2.1")], localAddress: address, scheduler: s, seed: seed &+ n,
                                     send: { m, to in net.send(m.serialized(), from: place.address, to: to) },
                                     sendBytes: { b, to in net.send(b, from: place.address, to: to) })
            var cs = CallSettings()
            cs.sessionExpires = 0
            let ua = SIPUserAgent(agent: agent, settings: cs, seed: seed &+ n)
            net.attach(address) { [weak agent] b, from in
                if let m = try? SIPParser.parse(b) { agent?.receive(m, from: from) }
            }
            return (ua, place)
    }

    func setUp() {
        net.observer = { [unowned self] d in
            for n in 1...2 where d.from == self.places[n - 1].address {
                guard let m = try? SIPParser.parse(d.bytes), let method = m.method else { continue }
                let branch = (try? Via(m["Via"] ?? ""))?.branch ?? ""
                // A request sent before the port was disabled may go out again (its
                // transaction retransmits until an answer comes): that is no new request.
                guard self.disabledAt[n] != nil else { self.branchesBeforeDisable[n, default: []].insert(branch); continue }
                if self.branchesBeforeDisable[n, default: []].contains(branch) { continue }
                do {
                    var what = method.rawValue
                    if method == .register { what += " Expires \(m["Expires"] ?? "?")" }
                    if method == .subscribe { what += " Expires \(m["Expires"] ?? "?")" }
                    self.sentWhileDisabled[n, default: []].append(what)
                }
            }
        }
        outside.onEvent = { [unowned self] e in
            switch e {
            case .incomingCall(let h, _): self.outside.execute(.reject(h, status: 486))
            case .ended(let h, _): self.outsideCalls.removeAll { $0 == h }
            default: break
            }
        }
        outside.execute(.register)
        for c in controllers { c.handle(.enable) }
        superviseHardware()
        s.run(until: s.now + .seconds(1))
    }

    /// What the daemon does every second (``HardwareRecovery``), on the simulated parts.
    func superviseHardware() {
        s.schedule(after: HardwareRecovery.checkInterval) { [weak self] in
            guard let self else { return }
            for i in 0..<2 {
                let actions = self.recovery[i].check(now: self.s.now, lineFailure: self.lineFailure[i], audioFailure: self.audioFailure[i],
                                                     inService: self.controllers[i].machine.enabled)
                self.perform(actions, port: i)
            }
            self.superviseHardware()
        }
    }

    func perform(_ actions: [HardwareRecovery.Action], port i: Int) {
        for action in actions {
            switch action {
            case .takeOutOfService(let f):
                if f.wantsService { disable(i) }
            case .reopen:
                var error: String?
                if refusals[i] > 0 {
                    refusals[i] -= 1
                    error = "still broken"
                } else {
                    audioFailure[i] = nil
                    lineFailure[i] = nil
                }
                perform(recovery[i].reopened(now: s.now, error: error), port: i)
            case .stillFailing:
                break
            case .recovered(let f, _):
                if f.wantsService { enable(i) }
            }
        }
    }

    func disable(_ i: Int) {
        disabledAt[i + 1] = log.count
        sentWhileDisabled[i + 1] = []
        controllers[i].handle(.disable)
    }

    func enable(_ i: Int) {
        disabledAt[i + 1] = nil
        controllers[i].handle(.enable)
    }

    func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }

    /// One random event, then time passes.
    func step() {
        let p = pick(2)
        let hw = hardware[p], c = controllers[p]
        let roll = pick(112)
        switch roll {
        case 0..<25:
            if hw.offHook { log.append("port \(p + 1) on-hook"); hw.putDown() } else { log.append("port \(p + 1) off-hook"); hw.lift() }
        case 25..<40:
            let number = ["1001", "1002", "1009", "5", "10", "1"][pick(6)]
            log.append("port \(p + 1) dials \(number)")
            for d in number { hw.onKeypadDigit?(d) }
        case 40..<45:
            log.append("port \(p + 1) flash")
            hw.onHookEvent?(.flash)
        case 45..<52:
            if recovery[p].fault != nil {
                // Its hardware is out: the wish is kept for when it is back.
                let wanted = !(recovery[p].fault?.wantsService ?? false)
                log.append("port \(p + 1) \(wanted ? "enabled" : "disabled") while its hardware is out")
                recovery[p].wantService(wanted)
            } else if c.machine.enabled {
                log.append("port \(p + 1) disabled")
                disable(p)
            } else {
                log.append("port \(p + 1) enabled")
                enable(p)
            }
        case 52..<57:
            let modes: [SimulatedRegistrar.Mode] = [.normal, .normal, .silent, .unavailable(retryAfter: 10), .forbidden]
            let m = modes[pick(modes.count)]
            log.append("registrar \(m)")
            exchange.registrar.mode = m
            if pick(4) == 0 { log.append("registrar restarts"); exchange.registrar.restart() }
        case 57..<75:
            let h = outside.newCallHandle()
            outsideCalls.append(h)
            log.append("outside calls port \(p + 1)")
            outside.execute(.invite(h, target: "100\(p + 1)", withholdIdentity: pick(3) == 0))
        case 75..<85:
            if let h = outsideCalls.first {
                log.append("outside hangs up")
                outside.execute(.hangUp(h))
            }
        case 85..<88:
            // The network turns bad for a while (or good again): loss, duplicates, reordering.
            let bad = pick(2) == 0
            net.conditions = bad ? .init(loss: 0.05, duplication: 0.02, delay: .milliseconds(20), jitter: .milliseconds(80)) : .init()
            log.append(bad ? "network lossy" : "network clean")
        case 88..<91:
            // The LTE address changes: the box moves, the old address is gone.
            let place = places[p]
            let next = SIPNetworkAddress("192.0.2.\(10 * (p + 1) + (place.address.host.hasSuffix("0") ? 1 : 0))")
            log.append("port \(p + 1) moves to \(next.host)")
            net.detach(place.address)
            place.address = next
            let agent = agents[p].agent
            net.attach(next) { [weak agent] b, from in
                if let m = try? SIPParser.parse(b) { agent?.receive(m, from: from) }
            }
            agent.localAddressChanged(next)
        case 91..<94:
            // DNS answers differently: a dead server listed first, last, or gone again.
            let dead = SIPNetworkAddress("192.0.2.2"), live = SIPNetworkAddress("192.0.2.1")
            let lists = [[live], [dead, live], [live, dead]]
            let list = lists[pick(lists.count)]
            log.append("port \(p + 1) DNS \(list.map(\.host))")
            agents[p].agent.replaceServers(list)
        case 94..<97:
            // Its sound device fails, or its GPIO chip hangs up; it refuses a few reopens.
            let audio = pick(2) == 0
            refusals[p] = pick(4)
            if audio { audioFailure[p] = "input/output error" } else { lineFailure[p] = "the device hung up" }
            log.append("port \(p + 1) \(audio ? "sound device fails" : "GPIO chip hangs up") (\(refusals[p]) refusals)")
        default:
            let wait = Int64(pick(60))
            log.append("wait \(wait) s")
            s.run(until: s.now + .seconds(wait))
        }
        s.run(until: s.now + .seconds(2))
    }

    /// The line and registration states each port has been in (for coverage).
    var reached: Set<String> = []

    func noteStates() {
        for (i, c) in controllers.enumerated() {
            reached.insert("line " + String("\(c.machine.line)".prefix { $0 != "(" }))
            reached.insert("registration \(c.machine.registration)")
            if let f = recovery[i].fault { reached.insert("hardware out (\(f.part))") }
        }
    }

    /// Liveness: with the network and registrar well again, every phone down, every port
    /// enabled and the outside caller gone, each port comes back idle and registered with no
    /// call left — whatever the sequence did to it. Nil when it does.
    func quiesce() -> String? {
        exchange.registrar.mode = .normal
        net.conditions = .init()
        for h in outsideCalls { outside.execute(.hangUp(h)) }
        for (i, c) in controllers.enumerated() {
            if hardware[i].offHook { hardware[i].putDown() }
            // Its hardware comes back by itself (a few refusals at most); the port is wanted in service.
            if recovery[i].fault != nil { recovery[i].wantService() } else if !c.machine.enabled { enable(i) }
        }
        // Longer than the ring timeout (200 s: a caller that vanished without a CANCEL), the
        // credential retry (60 s) and the back-off cap (20 s).
        s.run(until: s.now + .seconds(240))
        for (i, c) in controllers.enumerated() {
            let port = "port \(i + 1)", m = c.machine
            if m.line != .idle { return "\(port) did not come back idle: \(m.line)" }
            if m.registration != .registered { return "\(port) did not register again: \(m.registration) (account \(agents[i].agent.status))" }
            if !agents[i].activeCalls.isEmpty { return "\(port) has SIP calls left: \(agents[i].activeCalls)" }
            if hardware[i].ringing || hardware[i].tone != nil { return "\(port) still rings or plays a tone" }
            if let f = recovery[i].fault { return "\(port) never recovered its hardware: \(f.reason)" }
            // Every transaction ends by its own timers (64·T1 at most): none is left open.
            if agents[i].openTransactions != 0 { return "\(port) has \(agents[i].openTransactions) transaction(s) that never ended" }
        }
        // No password ever on the wire (digest sends a hash of it, nothing else).
        for user in ["1001", "1002", "1009"] {
            let secret = Array(Self.password(user).utf8)
            if net.sent.contains(where: { $0.bytes.firstRange(of: secret) != nil }) { return "\(user)'s password was sent" }
        }
        return violation()
    }

    /// The invariants; nil when they hold, else what broke.
    func violation() -> String? {
        for (i, c) in controllers.enumerated() {
            let hw = hardware[i], ua = agents[i], m = c.machine
            let port = "port \(i + 1)"
            if hw.ringing && hw.offHook { return "\(port) rings while off-hook" }
            if hw.ringing, case .ringing = m.line {} else if hw.ringing { return "\(port) rings with no call ringing (line \(m.line))" }
            if hw.ringRequestsOffHook > 0 { return "\(port) was asked to ring with the handset up" }
            if !hw.offHook, let t = hw.tone { return "\(port) plays \(t) tone on-hook" }
            if m.registration == .registered {
                switch ua.agent.status {
                case .registered:
                    if !ua.agent.session.wakeScheduled { return "\(port) registered with no refresh scheduled" }
                case .registering:
                    // A new Contact (the address moved) on its way: the binding still stands until
                    // the registrar answers or the REGISTER times out (then it is retrying).
                    break
                default:
                    return "\(port) thinks it is registered, its account is \(ua.agent.status)"
                }
            }
            if recovery[i].fault != nil && m.enabled { return "\(port) in service with its hardware out (\(recovery[i].fault!.reason))" }
            if !m.enabled {
                if hw.feed != .powerDown { return "\(port) disabled but its line feed is \(hw.feed)" }
                if hw.ringing { return "\(port) disabled but ringing" }
                let allowed: Set<String> = ["REGISTER Expires 0", "BYE", "CANCEL", "ACK", "SUBSCRIBE Expires 0"]
                if let bad = sentWhileDisabled[i + 1]?.first(where: { !allowed.contains($0) }) { return "\(port) disabled but sent \(bad)" }
            }
            // A call the port gave up before its answer may wait a while for the far end
            // (64·T1 at most after the CANCEL); quiesce checks that it does end.
            let uaCalls = Set(ua.activeCalls).subtracting(ua.callsBeingGivenUp), portCalls = Set(m.calls)
            let sipCalls = Set(ua.activeCalls)
            if !mediaPorts[i].isSubset(of: sipCalls) { return "\(port): RTP ports held for calls \(mediaPorts[i].subtracting(sipCalls)) that are over" }
            if !uaCalls.isSubset(of: portCalls) { return "\(port): SIP calls \(uaCalls) outlive the port's calls \(portCalls) (line \(m.line))" }
            if !portCalls.isSubset(of: uaCalls) { return "\(port): the port holds calls \(portCalls) SIP no longer has (\(uaCalls))" }
        }
        return nil
    }
}

@Suite("Random event sequences across two ports")
struct RandomSequenceTests {
    /// Runs one seeded sequence; returns the failure (seed, step, what, events) or nil.
    static func run(seed: UInt64, steps: Int, reached: inout Set<String>) -> String? {
        let w = RandomWorld(seed: seed)
        defer { reached.formUnion(w.reached) }
        if let v = w.violation() { return "seed \(seed): at start: \(v)" }
        for i in 0..<steps {
            w.step()
            w.noteStates()
            if let v = w.violation() {
                return "seed \(seed), step \(i + 1): \(v)\n  events: \(w.log.joined(separator: "; "))"
            }
        }
        if let v = w.quiesce() {
            return "seed \(seed), after the sequence: \(v)\n  events: \(w.log.joined(separator: "; "))"
        }
        return nil
    }

    /// 10,000; fewer under a sanitizer (scripts/test-sanitize sets TIPRING_SEQUENCES), where a
    /// sequence costs ten times as much and what matters is the code each one runs.
    static let sequences: UInt64 = {
        guard let v = getenv("TIPRING_SEQUENCES") else { return 10_000 }
        return UInt64(String(cString: v)) ?? 10_000
    }()

    /// `TIPRING_SEED=N` runs that one seed (what a failure prints to replay it);
    /// `TIPRING_FIRST_SEED` starts the run elsewhere (a long campaign in slices).
    static func environment(_ name: String) -> UInt64? {
        guard let v = getenv(name) else { return nil }
        return UInt64(String(cString: v))
    }

    @Test("10,000 sequences hold the invariants (a failing seed prints the command that replays it)")
    func tenThousandSequences() {
        var failures: [String] = []
        var reached: Set<String> = []
        let first = Self.environment("TIPRING_SEED") ?? Self.environment("TIPRING_FIRST_SEED") ?? 1
        let count = Self.environment("TIPRING_SEED") != nil ? 1 : max(1, Self.sequences)
        for seed in first..<(first + count) {
            if let f = Self.run(seed: seed, steps: 12, reached: &reached) {
                failures.append(f + "\n  replay: TIPRING_SEED=\(seed) swift test --filter RandomSequenceTests/tenThousandSequences")
                if failures.count >= 3 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        guard count > 1 else { return }
        // The sequences reach what a port can be in: a controller that never registered, never
        // rang or never connected would hold every invariant vacuously.
        let wanted: Set<String> = ["line idle", "line dialTone", "line collecting", "line outgoing", "line ringing", "line connected",
                                   "line disconnected", "line noService", "registration registered", "registration retrying",
                                   "registration failed", "registration disabled", "hardware out (audio)", "hardware out (gpio)"]
        #expect(wanted.subtracting(reached).isEmpty, "never reached: \(wanted.subtracting(reached).sorted())")
    }

    @Test("a port numbers its calls once: the call it places and the one it receives never share a handle")
    func oneNumberingPerPort() throws {
        let w = RandomWorld(seed: 77)
        let port1 = w.controllers[0], hw = w.hardware[0]
        // Port 1 places a call to port 2 (1002) …
        hw.lift()
        for d in "1002" { port1.handle(.digit(d)) }
        w.s.run(until: w.s.now + .seconds(8))  // the dial plan's x.T waits for the inter-digit timeout
        let placed = try #require(port1.machine.calls.first, "\(port1.machine.line) \(port1.machine.registration) \(hw.tone.map { "\($0)" } ?? "-")")
        // … port 2 answers, and, with call waiting, the outside caller reaches port 1 during that call.
        w.hardware[1].lift()
        w.s.run(until: w.s.now + .seconds(2))
        let h = w.outside.newCallHandle()
        w.outside.execute(.invite(h, target: "1001", withholdIdentity: false))
        w.s.run(until: w.s.now + .seconds(2))
        let calls = port1.machine.calls
        #expect(calls.count == 2, "\(port1.machine.line)")
        #expect(Set(calls).count == calls.count)
        #expect(calls.first == placed)
        #expect(calls.map(\.id) == [1, 2])  // one numbering, in the order the calls began
        // The user agent carries exactly the port's calls, under the port's handles.
        #expect(Set(w.agents[0].activeCalls) == Set(calls))
    }

    @Test("a sequence is reproducible from its seed")
    func reproducible() {
        let a = RandomWorld(seed: 4242), b = RandomWorld(seed: 4242)
        for _ in 0..<12 { a.step(); b.step() }
        _ = (a.quiesce(), b.quiesce())
        #expect(a.log == b.log)
        // The same messages between the same parties at the same times; only the identifiers
        // (Call-IDs, tags, branches, cnonces) differ — they come from the system's random source.
        func wire(_ w: RandomWorld) -> [String] {
            w.net.sent.map { d in
                let m = try? SIPParser.parse(d.bytes)
                return "\(d.sentAt) \(d.from)→\(d.to) " + (m.map { "\($0.method.map { "\($0)" } ?? "\($0.status ?? 0)") \($0["CSeq"] ?? "")" } ?? "\(d.bytes.count) bytes")
            }
        }
        #expect(!wire(a).isEmpty)
        #expect(wire(a) == wire(b))
        #expect(a.net.sent.map(\.bytes) != b.net.sent.map(\.bytes))
    }
}
