#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore
import TelephonyDSP
public import LineHAL
public import PortAudio
import PortStack
import LinuxHAL
import SIPCore
import SIPTransport
import RTPMedia
import PortControl
import BoardSimulator
public import Logging
import NIOPosix
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `tipring run`: every port of a board in one process — lines (real GPIO and ALSA, or the
/// simulated board), one SIP account per port, media, controllers; a Unix status/control
/// socket; SIGTERM/SIGINT hang up and unregister (bounded), SIGHUP reloads the
/// configuration port by port.
public final class Daemon: @unchecked Sendable {
    final class Port {
        let id: Int
        let line: PortLine
        let engine: AudioEngine
        let audio: any AudioPort
        var endpoint: (any AccountEndpoint)?
        var ua: SIPUserAgent?
        var media: PortMedia?
        var controller: PortController?
        var hardware: LinePortHardware?
        /// New settings from a reload wait for the line to be idle.
        var pendingApply = false
        /// `sim listen` requests in progress on this port's phone.
        var listeners = 0
        /// Rebuilt by reloads this many times: a rebuilt port draws new Call-IDs and tags.
        var generation: UInt64 = 0
        /// Seeds the port's Call-IDs, tags and branches: different on every start (a restarted
        /// daemon must not reuse the Call-ID of a binding the registrar still holds with a
        /// higher CSeq, RFC 3261 §10.3), per port and per rebuild.
        var seed: UInt64 { Daemon.startSeed &+ UInt64(id) &* 0x9E37_79B9_7F4A_7C15 &+ generation << 20 }
        let phone: SimulatedTelephone?
        var account: AccountConfiguration?
        var lastError: String?
        /// The last off-hook: from the seizure confirmed to the tone set (ms).
        var seizeToToneMs: Double?
        var hook = "on-hook"
        /// Drops as last logged (a line at most once a minute, only when they grew).
        var droppedLogged = DropCounts()
        var dropped: DropCounts { DropCounts(agent: endpoint?.agent, media: media) }
        init(id: Int, line: PortLine, engine: AudioEngine, audio: any AudioPort, phone: SimulatedTelephone?) {
            self.id = id
            self.line = line
            self.engine = engine
            self.audio = audio
            self.phone = phone
        }
    }

    static let startSeed = UInt64.random(in: 1...UInt64.max)
    /// SIP for a handful of ports is little work: one event-loop thread carries it (media runs
    /// in the audio period, not here).
    let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public let board: BoardDescription
    public private(set) var configuration: Configuration
    let configPath: String
    let scheduler = WallClockScheduler()
    let clock: WallClockControlPlane
    let log: Logger
    var simulated: SimulatedBoard?
    var ports: [Int: Port] = [:]
    var socket: ControlSocket?
    let startedAt = Instant.monotonicNow()
    /// What the service loop acts on: reloads (SIGHUP) and ports whose new settings can now
    /// be applied.
    enum Event: Sendable { case reload, apply(port: Int) }
    let events = AsyncStream.makeStream(of: Event.self)

    public init(board: BoardDescription, configuration: Configuration, configPath: String, log: Logger) {
        self.board = board
        self.configuration = configuration
        self.configPath = configPath
        self.log = log
        clock = WallClockControlPlane(scheduler)
    }

    /// Runs until SIGTERM or SIGINT; returns the exit status. The daemon is one service of a
    /// swift-service-lifecycle group: SIGTERM and SIGINT start its graceful shutdown (hang up,
    /// unregister with a bounded wait, power the lines down), SIGHUP reloads the configuration.
    public func run(socketPath: String?) async throws -> Int32 {
        let service = DaemonService(daemon: self, socketPath: socketPath)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: log))
        try await group.run()
        return 0
    }

    /// Brings every port up: lines, accounts, the control socket; enables the ports.
    func start(socketPath: String?) async throws {
        scheduler.start()
        for w in configuration.warnings { log.warning("\(w)") }
        try await build()
        if let socketPath {
            socket = try ControlSocket(path: socketPath) { [weak self] line in self?.command(line) ?? ["error: shutting down"] }
        }
        clock.sync {
            for p in self.ports.values.sorted(by: { $0.id < $1.id }) {
                if p.account?.enabled == true { p.controller?.handle(.enable) } else { p.controller?.handle(.powerOn) }
                p.endpoint?.startWatching()
            }
        }
        log.info("running \(ports.count) port(s) on board \(board.name)")
        // Starting up is over well before this: hand its pages back (MemoryTrim).
        reportDrops()
        let log = self.log
        _ = scheduler.schedule(after: .seconds(10)) {
            let r = MemoryTrim.releaseStartupPages()
            log.debug("startup pages handed back: \(r.mappings) mapping(s), \(r.bytes / 1024) KiB\(r.failures.isEmpty ? "" : "; " + r.failures.joined(separator: "; "))")
        }
    }

    func build() async throws {
        let group = eventLoops
        if board.ports.allSatisfy({ $0.gpioChip.hasPrefix("sim") }) {
            simulated = clock.sync { SimulatedBoard(board: self.board, scheduler: self.scheduler) }
        }
        let backend: any BoardBackend = simulated.map { SimulatedBoardBackend($0) } ?? LinuxBoardBackend()
        for p in board.ports {
            let account = configuration.account(port: p.id)
            let built: Result<Port, PortSetupError> = clock.sync {
                Result { () throws(PortSetupError) -> Port in
                    let running = try PortStack.startLine(p, driver: self.board.driver, backend: backend,
                                                          profile: self.timingProfile(port: p.id), scheduler: self.scheduler)
                    // A simulated phone's earpiece records only while someone listens
                    // (`sim listen`), and never more than a listen can ask for.
                    self.simulated?.telephone(p.id).earpiece.retainSeconds = Daemon.longestListen + 2
                    self.simulated?.telephone(p.id).earpiece.isRecording = false
                    return Port(id: p.id, line: running.line, engine: running.engine, audio: running.audio, phone: self.simulated?.telephone(p.id))
                }
            }
            let port: Port
            do { port = try built.get() } catch {
                log.error("\(error)", metadata: ["port.id": "\(p.id)"])
                continue
            }
            ports[p.id] = port
            guard let account else {
                log.notice("port \(p.id): no account configured; the line stays powered down", metadata: ["port.id": "\(p.id)"])
                clock.sync { port.line.setFeed(.powerDown) }
                continue
            }
            try await attach(account, to: port, group: group)
        }
    }

    /// The board's hook timing with the port's changes (checked when the file was loaded).
    func timingProfile(port: Int) -> HookTimingProfile {
        (try? configuration.port(port).timingProfile(board: board.timingProfile).get()) ?? board.timingProfile
    }

    func registrationSettings(_ a: AccountConfiguration, port: Int) -> AccountSettings {
        let instance = (try? InstanceID.loadOrCreate(path: configuration.stateDirectory + "/instance-port\(port)")) ?? "urn:uuid:00000000-0000-4000-8000-0000000000\(10 + port)"
        var s = PortStack.accountSettings(user: a.user, domain: a.domain, authUser: a.authUser, password: a.password.value, instanceID: instance)
        var r = s.registration
        r.expires = a.expires
        r.refreshMargin = .seconds(Int64(a.refreshMargin))
        r.retryBase = .seconds(Int64(a.retryBase))
        r.retryMax = .seconds(Int64(a.retryMax))
        r.minimumDigest = a.minimumDigest
        s.registration = r
        s.keepAlive = a.keepAliveSeconds == 0 ? .off : .crlf(every: .seconds(Int64(a.keepAliveSeconds)))
        return s
    }

    func attach(_ a: AccountConfiguration, to port: Port, group: any EventLoopGroup) async throws {
        var options = UDPAccountEndpoint.Options(registrar: a.registrar, outboundProxy: a.outboundProxy)
        options.localPorts = a.sipPorts
        let endpoint: any AccountEndpoint
        do {
            if a.transport == "tcp" {
                endpoint = try await TCPAccountEndpoint.make(settings: registrationSettings(a, port: port.id), options: options,
                                                             resolver: SystemResolver(), group: group, scheduler: scheduler, seed: port.seed)
            } else {
                endpoint = try await UDPAccountEndpoint.make(settings: registrationSettings(a, port: port.id), options: options,
                                                             resolver: SystemResolver(), group: group, scheduler: scheduler, seed: port.seed)
            }
        } catch {
            port.lastError = "\(error)"
            log.error("port \(port.id): cannot reach \(a.registrar): \(error)", metadata: ["port.id": "\(port.id)"])
            return
        }
        let pc = configuration.port(port.id)
        let plan = RegionTonePlan.forRegion(pc.region) ?? RegionTonePlan.forRegion(.us)!
        var ps = PortSettings(account: "port\(port.id)")
        ps.dialPlan = pc.dialPlan
        ps.callWaiting = pc.callWaiting
        ps.withholdIdentity = pc.withholdIdentity
        ps.doNotDisturb = pc.doNotDisturb
        ps.autoDial = pc.hotLine
        ps.autoDialDelay = .seconds(Int64(pc.warmLineSeconds ?? 0))
        ps.visualMessageWaiting = pc.messageWaiting
        ps.reversePolarityOnAnswer = pc.reversePolarityOnAnswer
        var cs = CallSettings()
        cs.media.codecs = a.codecs
        cs.dtmf = a.dtmf
        cs.displayName = a.displayName
        cs.subscribeMessageWaiting = pc.messageWaiting
        var ms = MediaSettings()
        ms.transmitGain = pc.transmitGain
        ms.receiveGain = pc.receiveGain
        let count = max(1, board.ports.count)
        let span = (configuration.rtpPorts.upperBound - configuration.rtpPorts.lowerBound + 1) / count
        let index = board.ports.firstIndex { $0.id == port.id } ?? 0
        let lower = configuration.rtpPorts.lowerBound + index * span
        let sipLog = Logger(label: "tipring.sip"), portLog = Logger(label: "tipring.port"), mediaLog = Logger(label: "tipring.media")
        clock.sync {
            let parts = PortStack.wire(id: port.id, line: port.line, engine: port.engine, plan: plan, scheduler: self.scheduler,
                                       agent: endpoint.agent, mediaFactory: PolledMediaSocketFactory(), cname: "port\(port.id)@\(a.domain)",
                                       portSettings: ps, callSettings: cs, mediaSettings: ms, seed: port.seed)
            parts.media.setPorts(lower...(lower + max(span, 2) - 1))
            parts.controller.onLog = { text in portLog.info("\(text)", metadata: ["port.id": "\(port.id)"]) }
            parts.media.onDigit = { _, d in mediaLog.info("far end sent digit \(d)", metadata: ["port.id": "\(port.id)"]) }
            let started = self.startedAt
            final class Once: @unchecked Sendable { var done = false }
            let once = Once()
            endpoint.agent.onTrace = { m, out, peer in
                if out, m.method == .register, !once.done {
                    once.done = true
                    sipLog.info("first REGISTER \((Instant.monotonicNow() - started).nanoseconds / 1_000_000) ms after start", metadata: ["port.id": "\(port.id)"])
                }
                let first: String
                switch m.startLine {
                case .request(let method, let uri): first = "\(method) \(uri)"
                case .response(let s, let r): first = "\(s) \(r)"
                }
                sipLog.debug("\(out ? "→" : "←") \(peer) \(first)", metadata: ["port.id": "\(port.id)", "sip.call_id": "\(m["Call-ID"] ?? "")"])
            }
            let ua = parts.ua
            let previous = ua.onEvent
            ua.onEvent = { e in
                previous?(e)
                if case .registration(_, let s) = e {
                    sipLog.info("registration: \(Daemon.describe(s, now: self.nowSeconds))", metadata: ["port.id": "\(port.id)"])
                }
            }
            port.line.onHookEvent = { [weak port] e in
                switch e.kind {
                case .offHook: port?.hook = "off-hook"
                case .onHook: port?.hook = "on-hook"
                default: break
                }
                parts.hardware.onHookEvent?(e.kind)
                if case .offHook = e.kind, let port {
                    // Seizure confirmed → the tone chosen and playing from the next period.
                    let ms = Double((Instant.monotonicNow() - e.at).nanoseconds) / 1_000_000
                    port.seizeToToneMs = ms
                    portLog.debug("tone \(ms) ms after the seizure was confirmed", metadata: ["port.id": "\(port.id)"])
                }
            }
            port.endpoint = endpoint
            port.ua = parts.ua
            port.media = parts.media
            port.controller = parts.controller
            port.hardware = parts.hardware
            port.account = a
        }
    }

    /// How long (seconds) taking a port down waits for the registrar to confirm the unregistration.
    static let unregisterBound = 4.0

    /// The longest `sim listen` (seconds): the simulated earpieces keep that much audio.
    static let longestListen = 10

    /// The scheduler's clock in whole seconds: what registration times are stated in.
    var nowSeconds: Int64 { scheduler.now.nanoseconds / 1_000_000_000 }

    static func describe(_ s: RegistrationStatus, now: Int64) -> String {
        switch s {
        case .unregistered: "unregistered"
        case .registering: "registering"
        case .registered(let until): "registered (expires in \(max(0, until - now)) s)"
        case .retrying(let at, let reason): "retrying in \(max(0, at - now)) s (\(reason))"
        case .failed(let reason): "failed: \(reason)"
        }
    }

    // MARK: reload

    /// SIGHUP: the configuration read again and applied port by port. A port whose account
    /// or port section changed is taken down (unregistered) and brought up again with the new
    /// settings — at once when its line is idle, else as soon as it is; a port whose account
    /// is gone is switched off; the other ports are left alone.
    func reload() async {
        let fresh: Configuration
        do {
            fresh = try Configuration.load(path: configPath)
            try fresh.check(against: board)
        } catch {
            log.error("SIGHUP: the configuration was not reloaded (the running one stays): \(error)")
            return
        }
        for w in fresh.warnings { log.warning("\(w)") }
        let old = configuration
        configuration = fresh
        var changed = 0
        for id in ports.keys.sorted() {
            guard let p = ports[id] else { continue }
            let before = old.account(port: id), after = fresh.account(port: id)
            if before == after && old.port(id) == fresh.port(id) { continue }
            changed += 1
            let meta: Logger.Metadata = ["port.id": "\(id)"]
            guard after != nil else {
                log.info("SIGHUP: no account any more: unregistering, line powered down", metadata: meta)
                clock.sync {
                    p.pendingApply = false
                    p.controller?.handle(.disable)
                    p.account?.enabled = false
                }
                continue
            }
            if clock.sync({ self.isBusy(p) }) {
                log.info("SIGHUP: settings changed; the line is in use: they apply when it is idle", metadata: meta)
                clock.sync {
                    p.pendingApply = true
                    self.watchForIdle(p)
                }
                continue
            }
            log.info("SIGHUP: settings changed: re-registering with them", metadata: meta)
            await apply(p)
        }
        if changed == 0 { log.info("SIGHUP: configuration reloaded; nothing changed") }
    }

    /// Off-hook, ringing, in a call: anything but an idle line. On the scheduler.
    func isBusy(_ p: Port) -> Bool {
        p.hook == "off-hook" || (p.controller.map { $0.machine.line != .idle } ?? false)
    }

    /// Once a minute (on the scheduler): what each port dropped from the network since the last
    /// line, if anything — a scanner's flood is one line a minute, not one per packet.
    func reportDrops() {
        _ = scheduler.schedule(after: .seconds(60)) { [weak self] in
            guard let self else { return }
            for p in self.ports.values.sorted(by: { $0.id < $1.id }) {
                let now = p.dropped, before = p.droppedLogged
                guard now.total > before.total else { continue }
                p.droppedLogged = now
                let grew = DropCounts.sentence(requests: max(0, now.requests - before.requests), responses: max(0, now.responses - before.responses),
                                               malformed: max(0, now.malformed - before.malformed), media: max(0, now.media - before.media))
                self.log.notice("dropped from the network in the last minute: \(grew)", metadata: ["port.id": "\(p.id)"])
            }
            self.reportDrops()
        }
    }

    /// Checks every second (on the scheduler) whether a port with pending settings is idle.
    func watchForIdle(_ p: Port) {
        _ = scheduler.schedule(after: .seconds(1)) { [weak self] in
            guard let self, p.pendingApply else { return }
            if self.isBusy(p) { self.watchForIdle(p) } else { self.events.continuation.yield(.apply(port: p.id)) }
        }
    }

    /// A port's pending settings, if it is still idle.
    func applyPending(_ id: Int) async {
        guard let p = ports[id], clock.sync({ p.pendingApply && !self.isBusy(p) }) else { return }
        log.info("line idle: applying the new settings", metadata: ["port.id": "\(id)"])
        await apply(p)
    }

    /// Takes a port's account side down (unregistered, bounded wait; endpoint closed) and
    /// builds it again from the current configuration.
    func apply(_ p: Port) async {
        clock.sync {
            p.pendingApply = false
            p.generation += 1
        }
        if let controller = p.controller {
            clock.sync { controller.handle(.disable) }
            clock.wait(upTo: Daemon.unregisterBound) { p.endpoint.map { $0.agent.isIdle } ?? true }
        }
        await p.endpoint?.close()
        clock.sync {
            if let h = p.hardware { p.engine.removeConsumer(h.keypad) }
            p.endpoint = nil
            p.ua = nil
            p.media = nil
            p.controller = nil
            p.hardware = nil
            p.lastError = nil
            p.line.setTimingProfile(self.timingProfile(port: p.id))
        }
        guard let a = configuration.account(port: p.id) else { return }
        do { try await attach(a, to: p, group: eventLoops) } catch {
            p.lastError = "\(error)"
            log.error("port \(p.id): \(error)", metadata: ["port.id": "\(p.id)"])
            return
        }
        clock.sync {
            if a.enabled { p.controller?.handle(.enable) } else { p.controller?.handle(.powerOn) }
            p.endpoint?.startWatching()
        }
    }

    // MARK: shutdown

    func shutdown() async {
        clock.sync {
            for p in self.ports.values { p.controller?.handle(.disable) }
        }
        // Bounded wait for the unregistrations.
        clock.wait(upTo: Daemon.unregisterBound) { self.ports.values.allSatisfy { $0.endpoint.map { $0.agent.isIdle } ?? true } }
        socket?.close()
        clock.sync {
            for p in self.ports.values {
                p.line.setFeed(.powerDown)
                p.line.stop()
                p.audio.stop()
            }
        }
        for p in ports.values { await p.endpoint?.close() }
        try? await eventLoops.shutdownGracefully()
        scheduler.shutdown()
        log.info("stopped")
    }

    // MARK: status and control

    func command(_ line: String) -> [String] {
        let words = line.split(separator: " ").map(String.init)
        guard let verb = words.first else { return ["error: empty command"] }
        func port(_ i: Int) -> Port? { words.count > i ? Int(words[i]).flatMap { ports[$0] } : nil }
        switch verb {
        case "status":
            return [clock.sync { self.statusJSON() }]
        case "offhook", "onhook", "flash":
            guard let p = port(1), let phone = p.phone else { return ["error: no simulated port \(words.dropFirst().first ?? "?") (sim commands need the simulated board)"] }
            clock.sync {
                switch verb {
                case "offhook": phone.liftHandset()
                case "onhook": phone.hangUp()
                default: _ = phone.flash(for: .milliseconds(400))
                }
            }
            return ["ok"]
        case "dial":
            guard let p = port(1), let phone = p.phone, words.count >= 3 else { return ["error: dial PORT DIGITS [pulse]"] }
            let digits = words[2]
            let pulse = words.count > 3 && words[3] == "pulse"
            if pulse && !digits.allSatisfy(\.isNumber) { return ["error: a rotary dial has only 0-9"] }
            if !digits.allSatisfy({ "0123456789*#ABCD".contains($0) }) { return ["error: '\(digits)' has keys a telephone does not have"] }
            clock.sync { _ = pulse ? phone.dialPulses(digits) : phone.press(digits) }
            return ["ok"]
        case "say":
            guard let p = port(1), let phone = p.phone, words.count >= 3, let hz = Double(words[2]), hz >= 0, hz <= 3800 else { return ["error: say PORT HZ (0 = silence)"] }
            clock.sync {
                if hz == 0 { phone.mouthpiece.generator = nil } else { phone.mouthpiece.play(try! Tone("\(Int(hz))", level: -10)) }
            }
            return ["ok"]
        case "listen":
            guard let p = port(1), let phone = p.phone else { return ["error: listen PORT [SECONDS]"] }
            let seconds = words.count > 2 ? (Double(words[2]) ?? 2) : 2
            guard seconds > 0, seconds <= Double(Daemon.longestListen) else { return ["error: listen for more than 0 and at most \(Daemon.longestListen) seconds"] }
            let plan = RegionTonePlan.forRegion(configuration.port(p.id).region) ?? RegionTonePlan.forRegion(.us)!
            let from = clock.sync {
                p.listeners += 1
                if p.listeners == 1 {
                    phone.earpiece.clear()
                    phone.earpiece.isRecording = true
                }
                return self.scheduler.now
            }
            clock.advance(by: .milliseconds(Int64(seconds * 1000)))
            return clock.sync {
                defer {
                    p.listeners -= 1
                    if p.listeners == 0 {
                        phone.earpiece.isRecording = false
                        phone.earpiece.clear(releasingMemory: true)
                    }
                }
                let to = self.scheduler.now
                var out: [String] = []
                if let t = phone.earpiece.tone(from: from, to: to, plan: plan) { out.append("tone \(t)") }
                let sine = phone.earpiece.sine(from: from, to: to)
                if sine.level > -50 { out.append("audio \(Int(sine.frequency.rounded())) Hz at \(Int(sine.level.rounded())) dBm0") } else { out.append("silence") }
                var detector = DTMFDetector()
                var keys = ""
                let samples = Array(phone.earpiece.samples(from: from, to: to))
                samples.withUnsafeBufferPointer { detector.process($0) { k, _ in keys.append(k) } }
                if !keys.isEmpty { out.append("dtmf \(keys)") }
                if let scheme = CallerIDScheme(plan.callerID) {
                    for m in phone.earpiece.callerID(from: from, to: to, scheme: scheme) {
                        if case .callerID(let info) = m { out.append("caller-id \(info.number ?? "(\(info.numberAbsence.map { String($0.rawValue) } ?? "-"))") \"\(info.name ?? "")\"") }
                        if case .messageWaiting(let on) = m { out.append("message-waiting \(on ? "on" : "off")") }
                    }
                }
                return out
            }
        default:
            return ["error: unknown command '\(verb)' (status, offhook, onhook, flash, dial, say, listen)"]
        }
    }

    /// Per port: enabled, hook, feed, registration, current call, messages waiting, last error.
    /// Never a password.
    func statusJSON() -> String {
        var items: [String] = []
        for p in ports.values.sorted(by: { $0.id < $1.id }) {
            var fields: [String] = ["\"port\": \(p.id)"]
            fields.append("\"enabled\": \(p.account?.enabled ?? false)")
            fields.append("\"hook\": \(json(p.hook))")
            fields.append("\"timing\": \(json(p.line.decoder.profile.name))")
            fields.append("\"feed\": \(json(p.controller.map { "\($0.feed)" } ?? "power-down"))")
            if let a = p.account { fields.append("\"account\": \(json("\(a.user)@\(a.domain)"))") }
            let reg = p.endpoint.map { Daemon.registrationJSON($0.agent.status, now: nowSeconds) } ?? "{\"state\": \"none\"}"
            fields.append("\"registration\": \(reg)")
            if let c = p.controller { fields.append("\"line\": \(json("\(c.machine.line)"))") }
            if let c = p.controller, let h = Daemon.call(on: c.machine.line), let peer = p.ua?.peer(of: h) {
                var call = ["\"peer\": \(json(peer.uri))", "\"direction\": \(json(peer.outgoing ? "outgoing" : "incoming"))"]
                if let name = peer.displayName { call.append("\"peerName\": \(json(name))") }
                if let m = p.media, let s = m.current {
                    call.append("\"codec\": \(json(s.codec)), \"seconds\": \(Int(s.seconds)), \"packetsSent\": \(s.packetsSent), \"packetsReceived\": \(s.packetsReceived), \"lost\": \(s.packetsLost), \"jitterMs\": \(Double(Int(s.jitterMilliseconds * 10)) / 10)")
                }
                fields.append("\"call\": {" + call.joined(separator: ", ") + "}")
            }
            fields.append("\"messagesWaiting\": \(p.controller?.machine.messagesWaiting ?? false)")
            if let ms = p.seizeToToneMs { fields.append("\"seizeToToneMs\": \(Double(Int(ms * 1000)) / 1000)") }
            if let e = p.lastError { fields.append("\"lastError\": \(json(e))") }
            fields.append("\"dropped\": \(p.dropped.json)")
            items.append("{" + fields.joined(separator: ", ") + "}")
        }
        return "{\"board\": \(json(board.name)), \"uptimeSeconds\": \((Instant.monotonicNow() - startedAt).nanoseconds / 1_000_000_000), \"ports\": [" + items.joined(separator: ", ") + "]}"
    }

    /// The call a line is about: placing, ringing, talking, or the one left waiting.
    static func call(on line: PortStateMachine.Line) -> CallHandle? {
        switch line {
        case .outgoing(let h, _), .ringing(let h), .connected(let h, _), .waitingOnly(let h): h
        case .idle, .dialTone, .noService, .collecting, .disconnected, .howler, .lockout: nil
        }
    }

    static func registrationJSON(_ s: RegistrationStatus, now: Int64) -> String {
        switch s {
        case .unregistered: "{\"state\": \"unregistered\"}"
        case .registering: "{\"state\": \"registering\"}"
        case .registered(let until): "{\"state\": \"registered\", \"expiresInSeconds\": \(max(0, until - now))}"
        case .retrying(let at, let reason): "{\"state\": \"retrying\", \"retryInSeconds\": \(max(0, at - now)), \"reason\": \(json(reason))}"
        case .failed(let reason): "{\"state\": \"failed\", \"reason\": \(json(reason))}"
        }
    }
}

/// The daemon as a service: up, SIGHUP reloads until the group shuts down gracefully
/// (SIGTERM, SIGINT), then hang up, unregister and power down.
struct DaemonService: Service {
    let daemon: Daemon
    let socketPath: String?

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        do { try await daemon.start(socketPath: socketPath) } catch {
            await daemon.shutdown()
            throw error
        }
        let daemon = self.daemon
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups { daemon.events.continuation.yield(.reload) }
            }
            for await event in daemon.events.stream.cancelOnGracefulShutdown() {
                switch event {
                case .reload: await daemon.reload()
                case .apply(let port): await daemon.applyPending(port)
                }
            }
            group.cancelAll()
        }
        daemon.log.info("shutting down: hanging up and unregistering")
        await daemon.shutdown()
    }
}

/// A JSON string literal.
func json(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if c.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16) } else { out.unicodeScalars.append(c) }
        }
    }
    return out + "\""
}

/// libc's close(2), named apart from `ControlSocket.close()` (which would shadow it there).
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }

/// The daemon's Unix socket: one command per connection (a line), the answer as lines.
final class ControlSocket: @unchecked Sendable {
    let fd: Int32
    let path: String
    let handler: (String) -> [String]
    var thread: pthread_t?
    /// Set by ``close()`` on the daemon's side, read by the accepting thread.
    private let state = ConditionLock()
    private var closedFlag = false
    var closed: Bool { state.withLock { closedFlag } }

    init(path: String, handler: @escaping (String) -> [String]) throws {
        self.path = path
        self.handler = handler
        // The socket's own directory (/var/run/tipring) is made when missing.
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let dir = String(path[..<slash])
            if access(dir, F_OK) != 0 { _ = mkdir(dir, 0o755) }
        }
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw ControlSocketError(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0, listen(fd, 8) == 0 else {
            let why = String(cString: strerror(errno))
            closeDescriptor(fd)
            throw ControlSocketError(description: "cannot listen on \(path): \(why)")
        }
        chmod(path, 0o660)
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        pthread_create(&t, nil, { raw in
            let me = Unmanaged<ControlSocket>.fromOpaque(raw!).takeRetainedValue()
            me.loop()
            return nil
        }, box.toOpaque())
        thread = t
    }

    func loop() {
        while !closed {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                return
            }
            // Each connection on its own thread: a `listen` may take seconds.
            let box = Unmanaged.passRetained(Connection(fd: c, handler: handler))
            var t = pthread_t()
            pthread_create(&t, nil, { raw in
                let conn = Unmanaged<Connection>.fromOpaque(raw!).takeRetainedValue()
                conn.serve()
                return nil
            }, box.toOpaque())
            pthread_detach(t)
        }
    }

    final class Connection {
        let fd: Int32
        let handler: (String) -> [String]
        init(fd: Int32, handler: @escaping (String) -> [String]) {
            self.fd = fd
            self.handler = handler
        }
        func serve() {
            defer { closeDescriptor(fd) }
            var buf = [UInt8](repeating: 0, count: 1024)
            var request: [UInt8] = []
            while !request.contains(10) && request.count < 4096 {
                let n = read(fd, &buf, buf.count)
                if n <= 0 { break }
                request += buf[0..<n]
            }
            let line = String(decoding: request.prefix { $0 != 10 && $0 != 13 }, as: UTF8.self)
            let answer = Array((handler(line).joined(separator: "\n") + "\n").utf8)
            var sent = 0
            while sent < answer.count {
                let n = answer[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                sent += n
            }
        }
    }

    /// Stops accepting: wakes the accepting thread, waits for it to end, then closes the
    /// socket (closing it under a blocked accept could hand its number to another file).
    func close() {
        let first = state.withLock { () -> Bool in
            defer { closedFlag = true }
            return !closedFlag
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        if let thread { pthread_join(thread, nil) }
        closeDescriptor(fd)
        unlink(path)
    }
}

/// Sends one command to a running daemon's socket; the answer's lines.
public func controlRequest(_ path: String, _ command: String) throws -> [String] {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b } }
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    guard rc == 0 else { throw ControlSocketError(description: "no daemon at \(path) (\(String(cString: strerror(errno)))); is `tipring run` running?") }
    let req = Array((command + "\n").utf8)
    _ = req.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
}

/// The control socket could not be opened, or no daemon answers on it.
public struct ControlSocketError: Error, CustomStringConvertible {
    public var description: String
}
