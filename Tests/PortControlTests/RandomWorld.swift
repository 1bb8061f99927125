import TipRingCore
import TelephonyDSP
import SIPCore
import SIPAgent
import PortControl
import BoardSimulator
import TestSupport
import PortStack
import PortAudio
import LineHAL

/// Two ports (controllers over recording lines, real SIP user agents) and an outside caller,
/// all on the simulated exchange in virtual time; random events; invariants after each step.
/// A share of the seeds takes the real line path: the telephones on the simulated board are
/// lifted, dialled and flashed, and the SLIC driver, hook decoder and DTMF receiver tell the
/// controllers what happened (the simulated Ag1171 checking its datasheet meanwhile).
/// Each port's account is held as the daemon holds it (``RandomWorld+Accounts.swift``):
/// attached after a DNS look-up that may fail (then tried again with back-off, a stand-in
/// controller playing the no-service tone meanwhile), followed by a DNS refresh, taken down
/// and attached again when a reload changes its settings.
final class RandomWorld {
    let s: VirtualScheduler
    let net: SimulatedSIPNetwork
    let exchange: SimulatedExchange
    let seed: UInt64
    var hardware: [RecordingHardware] = []
    /// Each port's controller now: its account's, or the stand-in's while it is not attached.
    var controllers: [PortController] = []
    /// Each port's account, nil while it is not attached.
    var accounts: [AttachedAccount?] = [nil, nil]
    let outside: SIPUserAgent
    var outsideCalls: [CallHandle] = []
    var random: SeededRandom
    var log: [String] = []
    /// Requests each port sent since it was disabled (must be only unregistration and teardown).
    var sentWhileDisabled: [Int: [String]] = [:]
    var disabledAt: [Int: Int] = [:]
    /// Branches of the requests each port sent while enabled.
    var branchesBeforeDisable: [Int: Set<String>] = [:]
    /// Each port's box on the network.
    var places: [Place] = []
    /// Each port's hardware: its health as the daemon keeps it, and the failures the sequence
    /// made (a sound device or GPIO chip that fails, then refuses to reopen a few times).
    var recovery = [HardwareRecovery(), HardwareRecovery()]
    var audioFailure: [String?] = [nil, nil]
    var lineFailure: [String?] = [nil, nil]
    var refusals = [0, 0]
    /// What the configuration file says of each port now, and what its account was last
    /// attached with (a reload that changes nothing leaves the port alone).
    var wanted = [true, true]
    var config: [AccountConfig] = []
    var applied: [AccountConfig] = []
    /// A reload waiting for the line to be idle; an attach in progress (its generation, the
    /// failures so far); a reload waiting for its unregistration.
    var pendingReload = [false, false]
    var attachGeneration = [0, 0]
    var attachFailures = [0, 0]
    var reloading = [false, false]
    /// Every password the exchange or a configuration ever held (none may reach the wire).
    var passwords: Set<String> = []
    /// What broke when an account was taken down (checked with the other invariants), and
    /// what was taken down.
    var retirementFault: String?
    var retired: [Retired] = []
    /// The registrar's name in DNS, answering as the sequence says.
    let zone = ChangingResolver()
    var zoneAnswer = Zone.liveOnly
    var zoneGeneration = 0
    static let live = SIPNetworkAddress("192.0.2.1"), dead = SIPNetworkAddress("192.0.2.2")

    /// Whether the seed's events go through the real line path (one seed in 250: a world
    /// with audio periods running costs ~50× one without).
    static func takesRealLine(_ seed: UInt64) -> Bool { seed % 250 == 7 }
    /// The board whose lines the real-path seeds use, and the lines' parts.
    var board: SimulatedBoard?
    var lines: [PortLine] = []
    var engines: [AudioEngine] = []

    init(seed: UInt64, realLine: Bool? = nil) {
        self.seed = seed
        s = VirtualScheduler(seed: seed)
        random = SeededRandom(seed: seed &* 31 &+ 7)
        // Every fourth seed on a lossy, jittery network (reordering, duplicates).
        let lossy = SimulatedSIPNetwork.Conditions(loss: 0.01, duplication: 0.01, delay: .milliseconds(10), jitter: .milliseconds(30))
        net = SimulatedSIPNetwork(scheduler: s, seed: seed, conditions: seed % 4 == 0 ? lossy : .init())
        exchange = SimulatedExchange(network: net, address: Self.live, domain: "x.test",
                                     users: ["1001": Self.password("1001"), "1002": Self.password("1002"), "1009": Self.password("1009")])
        passwords = [Self.password("1001"), Self.password("1002"), Self.password("1009")]
        let outsidePlace = Place(SIPNetworkAddress("192.0.2.90"))
        outside = Self.makeAgent(net: net, s: s, seed: seed &+ 9, user: "1009", config: AccountConfig(password: Self.password("1009")),
                                 servers: [Self.live], place: outsidePlace, link: Link(), instance: 9)
        net.attach(outsidePlace.address) { [weak outside] b, from in
            if let m = try? SIPParser.parse(b) { outside?.agent.receive(m, from: from) }
        }
        if realLine ?? Self.takesRealLine(seed) {
            let b = SimulatedBoard(board: LineRig.description(ports: 2), scheduler: s)
            board = b
            for id in 1...2 {
                let line = PortLine(driver: b.makeDriver(port: id), profile: .b222s, scheduler: s)
                try! line.start()
                let engine = AudioEngine()
                try! b.audioPort(id).start(handler: engine)
                b.telephone(id).earpiece.isRecording = false
                lines.append(line)
                engines.append(engine)
                hardware.append(RecordingHardware(line: LinePortHardware(line: line, engine: engine, scheduler: s), phone: b.telephone(id)))
            }
        }
        for n in 1...2 {
            places.append(Place(SIPNetworkAddress("192.0.2.\(10 * n)")))
            if board == nil { hardware.append(RecordingHardware()) }
            config.append(AccountConfig(password: Self.password("100\(n)")))
            applied.append(config[n - 1])
            connect(n - 1)
        }
        // Every eighth seed boots before the modem has attached: no DNS for the first seconds.
        setZone(.liveOnly)
        if seed % 8 == 1 {
            let seconds = 5 + Int(random.next() % 60)
            log.append("DNS does not answer for the first \(seconds) s")
            breakZone(.outage, for: .seconds(seconds))
        }
        for i in 0..<2 { controllers.append(makeController(i, userAgent: UnattachedUserAgent())) }
        setUp()
    }

    /// Long enough that finding it in what was sent is no accident.
    static func password(_ user: String) -> String { "pw-\(user)-never-on-the-wire" }

    /// Where a port's box is on the network now (it moves: an LTE address change).
    final class Place {
        var address: SIPNetworkAddress
        init(_ a: SIPNetworkAddress) { address = a }
    }

    func user(_ i: Int) -> String { "100\(i + 1)" }

    func makeController(_ i: Int, userAgent: any UserAgent) -> PortController {
        var settings = PortSettings()
        settings.dialPlan = try! DialPlan("(100[1-9]|x.T)")
        settings.callWaiting = i == 0
        return PortController(port: i + 1, settings: settings, plan: RegionTonePlan.forRegion(.us)!, hardware: hardware[i], userAgent: userAgent, scheduler: s)
    }

    /// What arrives at a port's address goes to its account, whichever that is now.
    func connect(_ i: Int) {
        net.attach(places[i].address) { [unowned self] b, from in
            if let m = try? SIPParser.parse(b) { self.accounts[i]?.ua.agent.receive(m, from: from) }
        }
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
        for (i, c) in controllers.enumerated() where wanted[i] { c.handle(.enable) }
        for i in 0..<2 { attach(i) }
        superviseHardware()
        advance(by: .seconds(1))
    }

    /// Time passes, a second at a time: what the daemon does between events (a reload that
    /// waited for an idle line is applied once the line is idle, checked every second).
    func advance(by duration: Duration) {
        let end = s.now + duration
        while s.now < end {
            s.run(until: min(end, s.now + .seconds(1)))
            for i in 0..<2 where pendingReload[i] && !isBusy(i) {
                reached.insert("reload applied once the line was idle")
                apply(i)
            }
        }
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
                // A port being reloaded is enabled by its new account, not the one going.
                if f.wantsService && !reloading[i] { enable(i) }
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
        let hw = hardware[p]
        let roll = pick(114)
        switch roll {
        case 0..<25:
            if let phone = hw.phone {
                if phone.contactClosed { log.append("phone \(p + 1) put down"); phone.hangUp() } else { log.append("phone \(p + 1) lifted"); phone.liftHandset() }
            } else if hw.offHook {
                log.append("port \(p + 1) on-hook"); hw.putDown()
            } else {
                log.append("port \(p + 1) off-hook"); hw.lift()
            }
        case 25..<40:
            let number = ["1001", "1002", "1009", "5", "10", "1"][pick(6)]
            if let phone = hw.phone {
                // Keys on the keypad (DTMF into the mouthpiece), or the rotary dial's pulses.
                let rotary = pick(3) == 0
                log.append("phone \(p + 1) \(rotary ? "dials" : "keys") \(number)")
                if rotary { phone.dialPulses(number) } else { phone.press(number) }
            } else {
                log.append("port \(p + 1) dials \(number)")
                for d in number { hw.onKeypadDigit?(d) }
            }
        case 40..<45:
            if let phone = hw.phone {
                // The hook switch pressed for 400 ms (the board's flash window); on-hook it is
                // nothing a person does.
                if phone.contactClosed { log.append("phone \(p + 1) flash"); phone.flash(for: .milliseconds(400)) }
            } else {
                log.append("port \(p + 1) flash")
                hw.onHookEvent?(.flash)
            }
        case 45..<52:
            wanted[p].toggle()
            if recovery[p].fault != nil {
                // Its hardware is out: the wish is kept for when it is back.
                log.append("port \(p + 1) \(wanted[p] ? "enabled" : "disabled") while its hardware is out")
                recovery[p].wantService(wanted[p])
            } else {
                log.append("port \(p + 1) \(wanted[p] ? "enabled" : "disabled")")
                if wanted[p] { enable(p) } else { disable(p) }
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
            outside.execute(.invite(h, target: user(p), withholdIdentity: pick(3) == 0))
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
            connect(p)
            accounts[p]?.ua.agent.localAddressChanged(next)
        case 91..<95:
            // DNS answers differently (a dead server first or last), or not at all for a while.
            let answer = Zone.allCases[pick(Zone.allCases.count)]
            if answer == .outage || answer == .noSuchName {
                let seconds = 10 + pick(80)
                log.append("DNS \(answer) for \(seconds) s")
                breakZone(answer, for: .seconds(seconds))
            } else {
                log.append("DNS \(answer)")
                setZone(answer)
            }
        case 95..<98:
            // Its sound device fails, or its GPIO chip hangs up; it refuses a few reopens.
            let audio = pick(2) == 0
            refusals[p] = pick(4)
            if audio { audioFailure[p] = "input/output error" } else { lineFailure[p] = "the device hung up" }
            log.append("port \(p + 1) \(audio ? "sound device fails" : "GPIO chip hangs up") (\(refusals[p]) refusals)")
        case 98..<102:
            reloadStep(p)
        default:
            let wait = Int64(pick(60))
            log.append("wait \(wait) s")
            advance(by: .seconds(wait))
        }
        advance(by: .seconds(2))
    }

    /// The line and registration states each port has been in (for coverage).
    var reached: Set<String> = []

    func noteStates() {
        for (i, c) in controllers.enumerated() {
            reached.insert("line " + String("\(c.machine.line)".prefix { $0 != "(" }))
            reached.insert("registration \(c.machine.registration)")
            if let f = recovery[i].fault { reached.insert("hardware out (\(f.part))") }
            let hw = hardware[i]
            if let phone = hw.phone {
                if hw.offHook { reached.insert("real line: off-hook decoded") }
                if !phone.bell.bursts.isEmpty { reached.insert("real line: the bell rang") }
                if hw.keysDecoded > 0 { reached.insert("real line: keys decoded") }
                if hw.pulseDigitsDecoded > 0 { reached.insert("real line: pulses decoded") }
                if case .connected = c.machine.line { reached.insert("real line: connected") }
            }
        }
    }

    /// Liveness: with the network, DNS and registrar well again, the configuration right,
    /// every phone down, every port enabled and the outside caller gone, each port comes back
    /// attached, idle and registered with no call left — whatever the sequence did to it.
    /// Nil when it does.
    func quiesce() -> String? {
        settle()
        return check()
    }

    /// Everything well again, and time for it to show.
    func settle() {
        exchange.registrar.mode = .normal
        net.conditions = .init()
        setZone(.liveOnly)
        for h in outsideCalls { outside.execute(.hangUp(h)) }
        for (i, hw) in hardware.enumerated() {
            if let phone = hw.phone {
                if phone.contactClosed { phone.hangUp() }
            } else if hw.offHook {
                hw.putDown()
            }
            // Its hardware comes back by itself (a few refusals at most); the port is wanted in service.
            wanted[i] = true
            if recovery[i].fault != nil { recovery[i].wantService() } else if !controllers[i].machine.enabled { enable(i) }
            // The operator corrects a mistyped password.
            if config[i].password != exchange.registrar.password(of: user(i)) {
                config[i].password = exchange.registrar.password(of: user(i)) ?? ""
                requestReload(i)
            }
        }
        // Longer than the ring timeout (200 s: a caller that vanished without a CANCEL), the
        // credential retry (60 s), the back-off cap (20 s) and a DNS answer's life (60 s).
        advance(by: .seconds(240))
    }

    /// The fewest timers pending at any second of 700 idle seconds (every refresh runs at
    /// least once: the longest registration is 600 s): the ones kept by recurring duties,
    /// without the short-lived ones of a transaction in flight.
    func steadyTimers() -> Int {
        var fewest = s.pendingCount
        for _ in 0..<700 {
            advance(by: .seconds(1))
            fewest = min(fewest, s.pendingCount)
        }
        return fewest
    }

    /// What a world in which nothing happened keeps pending once idle (registration, DNS and
    /// subscription refreshes, the hardware check).
    static let idleTimers: Int = {
        let quiet = RandomWorld(seed: 2, realLine: false)
        quiet.settle()
        return quiet.steadyTimers()
    }()

    /// The same for a world on the real line path (its audio periods keep a timer each).
    static let idleTimersOnRealLines: Int = {
        let quiet = RandomWorld(seed: 2, realLine: true)
        quiet.settle()
        return quiet.steadyTimers()
    }()

    /// Liveness and cleanliness once settled; nil when they hold.
    func check() -> String? {
        for (i, c) in controllers.enumerated() {
            let port = "port \(i + 1)", m = c.machine
            if pendingReload[i] { return "\(port) still waits to apply a reload (line \(m.line))" }
            guard let account = accounts[i] else { return "\(port) never attached again (\(attachFailures[i]) failed attempt(s))" }
            let ua = account.ua
            if m.line != .idle { return "\(port) did not come back idle: \(m.line)" }
            if m.registration != .registered { return "\(port) did not register again: \(m.registration) (account \(ua.agent.status))" }
            if !ua.activeCalls.isEmpty { return "\(port) has SIP calls left: \(ua.activeCalls)" }
            if hardware[i].ringing || hardware[i].tone != nil { return "\(port) still rings or plays a tone" }
            if let f = recovery[i].fault { return "\(port) never recovered its hardware: \(f.reason)" }
            // Every transaction ends by its own timers (64·T1 at most): none is left open.
            if ua.openTransactions != 0 { return "\(port) has \(ua.openTransactions) transaction(s) that never ended" }
            // DNS has been answering for longer than its records live: the list is DNS's now.
            if ua.agent.servers != [Self.live] { return "\(port) still uses servers \(ua.agent.servers) (DNS says \(Self.live))" }
        }
        // No timer left behind: no more pending once idle than in a world where nothing happened.
        let steady = steadyTimers()
        let idle = board == nil ? Self.idleTimers : Self.idleTimersOnRealLines
        if steady != idle { return "\(steady) timers kept once idle; a world where nothing happened keeps \(idle)" }
        // What reloads took down is gone: its transactions and calls ended by their own
        // timers, and nothing holds it since.
        if let left = retired.first(where: { !$0.alive.isEmpty }) { return "a retired account's \(left.alive.joined(separator: ", ")) outlived it" }
        // No password ever on the wire (digest sends a hash of it, nothing else).
        let secrets = passwords.map { Array($0.utf8) }
        for d in net.sent {
            if let leaked = Self.secret(in: d.bytes, among: secrets) { return "the password \(String(decoding: leaked, as: UTF8.self)) was sent" }
        }
        return violation()
    }

    /// The first of `secrets` found in `bytes`: one pass over the datagram, whatever the
    /// number of passwords a sequence went through.
    static func secret(in bytes: [UInt8], among secrets: [[UInt8]]) -> [UInt8]? {
        guard let first = secrets.first?.first, secrets.allSatisfy({ $0.first == first }) else {
            return secrets.first { bytes.firstRange(of: $0) != nil }
        }
        for i in bytes.indices where bytes[i] == first {
            if let s = secrets.first(where: { bytes.count - i >= $0.count && bytes[i..<(i + $0.count)].elementsEqual($0) }) { return s }
        }
        return nil
    }

    /// The invariants; nil when they hold, else what broke.
    func violation() -> String? {
        if let f = retirementFault { return f }
        for (i, c) in controllers.enumerated() {
            let hw = hardware[i], m = c.machine
            let port = "port \(i + 1)"
            if hw.ringing && hw.offHook { return "\(port) rings while off-hook" }
            switch m.line {
            case .ringing, .recalling: break
            default: if hw.ringing { return "\(port) rings with no call ringing (line \(m.line))" }
            }
            if hw.ringRequestsOffHook > 0 { return "\(port) was asked to ring with the handset up" }
            if !hw.offHook, let t = hw.tone { return "\(port) plays \(t) tone on-hook" }
            if recovery[i].fault != nil && m.enabled { return "\(port) in service with its hardware out (\(recovery[i].fault!.reason))" }
            if !m.enabled {
                if hw.feed != .powerDown { return "\(port) disabled but its line feed is \(hw.feed)" }
                if hw.ringing { return "\(port) disabled but ringing" }
                let allowed: Set<String> = ["REGISTER Expires 0", "BYE", "CANCEL", "ACK", "SUBSCRIBE Expires 0"]
                if let bad = sentWhileDisabled[i + 1]?.first(where: { !allowed.contains($0) }) { return "\(port) disabled but sent \(bad)" }
            }
            guard let account = accounts[i] else {
                // Not attached: the stand-in can neither register nor hold a call.
                if m.registration == .registered { return "\(port) thinks it is registered with no account attached" }
                if !m.calls.isEmpty { return "\(port) holds calls \(m.calls) with no account attached" }
                continue
            }
            let ua = account.ua
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
            // A call the port gave up before its answer may wait a while for the far end
            // (64·T1 at most after the CANCEL); quiesce checks that it does end.
            let uaCalls = Set(ua.activeCalls).subtracting(ua.callsBeingGivenUp), portCalls = Set(m.calls)
            let sipCalls = Set(ua.activeCalls)
            if !account.mediaPorts.isSubset(of: sipCalls) { return "\(port): RTP ports held for calls \(account.mediaPorts.subtracting(sipCalls)) that are over" }
            if !uaCalls.isSubset(of: portCalls) { return "\(port): SIP calls \(uaCalls) outlive the port's calls \(portCalls) (line \(m.line))" }
            if !portCalls.isSubset(of: uaCalls) { return "\(port): the port holds calls \(portCalls) SIP no longer has (\(uaCalls))" }
        }
        return nil
    }
}
