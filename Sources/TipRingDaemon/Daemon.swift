#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore
import SystemCalls
import TelephonyDSP
public import LineHAL
import PortAudio
import PortStack
import LinuxHAL
import SIPCore
import SIPAgent
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
        /// The sound device; replaced when it fails and is opened again (on the control plane).
        var audio: any AudioPort
        /// The sound device is stopped because nothing needs it (on-hook and silent).
        var audioPaused = false
        /// Its hardware's health: a fault it is recovering from (on the control plane).
        var recovery = HardwareRecovery()
        var endpoint: (any AccountEndpoint)?
        var ua: SIPUserAgent?
        var media: PortMedia?
        var controller: PortController?
        var hardware: LinePortHardware?
        /// New settings from a reload wait for the line to be idle.
        var pendingApply = false
        /// A reload is taking the account down: a hardware recovery meanwhile must not put
        /// the account that is going back in service (the new one is enabled when it attaches).
        var reloading = false
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
        /// The account could not be attached (no DNS answer, no socket, no connection): when
        /// it is tried again and why. On the control plane.
        var attachRetry: AttachRetry?
        /// An endpoint being made for the account (a retry, a reload); cancelled on shutdown.
        var attachTask: Task<Void, Never>?
        /// The endpoint is made and waits for the handset to be put down.
        var attachParked = false
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
    public internal(set) var configuration: Configuration
    let configPath: String
    let scheduler = WallClockScheduler()
    let clock: WallClockControlPlane
    let log: Logger
    var simulated: SimulatedBoard?
    /// Where the ports' hardware comes from (to open a failed sound device again).
    var backend: (any BoardBackend)?
    var ports: [Int: Port] = [:]
    var socket: ControlSocket?
    /// The status page, when the configuration serves one, and who may see it.
    var web: WebServer?
    lazy var webAccess: WebAccess? = configuration.webCredentials.map(WebAccess.init(credentials:))
    /// What `/metrics` reports, and the page's SIP trace (on the control plane).
    let metrics = DaemonMetrics()
    let sipTrace = SIPTrace()
    /// systemd's notification socket, when it gave one (READY, WATCHDOG, STOPPING).
    var serviceManager: ServiceManager?
    var watchdogGate = WatchdogGate()
    /// Instance ids that could not be written to the state directory (kept for the run).
    var unsavedInstanceIDs: [Int: String] = [:]
    /// The last calls of every port (the state directory's `calls.jsonl`).
    lazy var callHistory = CallHistory(directory: configuration.stateDirectory)
    lazy var featureStore = PortFeatureStore(directory: configuration.stateDirectory)
    let startedAt = Instant.monotonicNow()
    /// What the service loop acts on: reloads (SIGHUP), ports whose new settings can now be
    /// applied, an account's endpoint made (or not) and the time to try one again.
    enum Event: Sendable {
        case reload
        case apply(port: Int)
        case attached(port: Int, generation: UInt64, Result<any AccountEndpoint, any Error>)
        case retryAttach(port: Int, generation: UInt64)
    }
    let events = AsyncStream.makeStream(of: Event.self)

    /// `--state-directory`: used when the configuration names none (also after a reload).
    let stateDirectoryOverride: String?

    public init(board: BoardDescription, configuration: Configuration, configPath: String, log: Logger, stateDirectory: String? = nil) {
        self.board = board
        stateDirectoryOverride = stateDirectory
        self.configuration = Daemon.withStateDirectory(configuration, stateDirectory)
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

    /// Brings every port up: lines and the control socket at once; each account as soon as its
    /// endpoint is made (``beginAttach(_:)``), which enables the port.
    func start(socketPath: String?) async throws {
        try scheduler.start()
        for w in configuration.warnings { log.warning("\(w)") }
        try await build()
        if let socketPath {
            socket = try ControlSocket(path: socketPath) { [weak self] line in self?.command(line) ?? ["error: shutting down"] }
        }
        if let listen = configuration.webListen { await startWeb(listen) }
        log.info("running \(ports.count) port(s) on board \(board.name)")
        clock.sync {
            self.notifyReady()
            self.superviseHardware()
        }
        // Starting up is over well before this: hand its pages back (MemoryTrim).
        reportDrops()
        let log = self.log
        _ = scheduler.schedule(after: .seconds(10)) {
            let r = MemoryTrim.releaseStartupPages()
            log.debug("startup pages handed back: \(r.mappings) mapping(s), \(r.bytes / 1024) KiB\(r.failures.isEmpty ? "" : "; " + r.failures.joined(separator: "; "))")
        }
    }

    func build() async throws {
        if board.ports.allSatisfy({ $0.gpioChip.hasPrefix("sim") }) {
            simulated = clock.sync { SimulatedBoard(board: self.board, scheduler: self.scheduler) }
        }
        let backend: any BoardBackend
        if let simulated {
            backend = board.ports.contains(where: SimulatedLinesWithALSA.usesALSA) ? SimulatedLinesWithALSA(lines: simulated) : simulated
        } else {
            backend = LinuxBoardBackend()
        }
        self.backend = backend
        for p in board.ports {
            let account = configuration.account(port: p.id)
            let built: Result<Port, PortSetupError> = clock.sync {
                Result { () throws(PortSetupError) -> Port in
                    // A sound device that will not open is a fault the port recovers from,
                    // not a port lost until a restart.
                    let running = try PortStack.startLine(p, driver: self.board.driver, backend: backend,
                                                          profile: self.timingProfile(port: p.id), scheduler: self.scheduler,
                                                          tolerateAudioFailure: true)
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
            // What the SLIC cannot do as asked (a clamped ring frequency) and hardware errors.
            let log = self.log
            clock.sync {
                port.line.onWarning = { log.warning("port \(p.id): \($0)", metadata: ["port.id": "\(p.id)"]) }
                port.line.onFault = { log.error("port \(p.id): \($0)", metadata: ["port.id": "\(p.id)"]) }
            }
            if account == nil {
                log.notice("port \(p.id): no account configured; the line stays powered down", metadata: ["port.id": "\(p.id)"])
                clock.sync { port.line.setFeed(.powerDown) }
            }
        }
        // Every port's account at once: one whose registrar does not resolve yet (the modem
        // has not attached) neither holds up the others nor stays down (it is tried again);
        // meanwhile its line answers a lifted handset with the no-service tone.
        for port in ports.values.sorted(by: { $0.id < $1.id }) {
            clock.sync { self.installUnattached(port) }
            beginAttach(port)
        }
    }

    /// The board's hook timing with the port's changes (checked when the file was loaded).
    func timingProfile(port: Int) -> HookTimingProfile {
        (try? configuration.port(port).timingProfile(board: board.timingProfile).get()) ?? board.timingProfile
    }

    func registrationSettings(_ a: AccountConfiguration, port: Int) -> AccountSettings {
        let instance = instanceID(port: port)
        var s = PortStack.accountSettings(user: a.user, domain: a.domain, authUser: a.authUser, password: a.password.value, instanceID: instance)
        var r = s.registration
        r.expires = a.expires
        r.refreshMargin = .seconds(Int64(a.refreshMargin))
        r.retryBase = .seconds(Int64(a.retryBase))
        r.retryMax = .seconds(Int64(a.retryMax))
        r.minimumDigest = a.minimumDigest
        r.register = a.register
        s.registration = r
        let every = Duration.seconds(Int64(a.keepAliveSeconds))
        s.primaryCheck = .seconds(Int64(a.fallbackSeconds))
        s.keepAlive = a.keepAliveSeconds == 0 ? .off : a.keepAliveMethod == "options" ? .options(every: every) : .crlf(every: every)
        return s
    }

    /// The account's way onto the network: its servers looked up (off the scheduler and the
    /// cooperative threads: DNS may block for seconds), a socket bound or a connection made.
    /// Touches no daemon state, so ports make theirs side by side.
    static func makeEndpoint(_ a: AccountConfiguration, settings: AccountSettings, seed: UInt64,
                             group: any EventLoopGroup, scheduler: any Scheduler) async throws -> any AccountEndpoint {
        var options = UDPAccountEndpoint.Options(registrar: a.registrar, outboundProxy: a.outboundProxy)
        options.failover = a.failoverServer
        if a.transport == .tls { options.tls = a.tls }
        options.localPorts = a.sipPorts
        options.dscp = a.dscpSIP
        switch a.transport {
        case .tcp, .tls:
            return try await TCPAccountEndpoint.make(settings: settings, options: options, resolver: SystemResolver(),
                                                     group: group, scheduler: scheduler, seed: seed)
        case .udp:
            return try await UDPAccountEndpoint.make(settings: settings, options: options, resolver: SystemResolver(),
                                                     group: group, scheduler: scheduler, seed: seed)
        }
    }

    /// Builds the port's calls, media and controller on an endpoint (on the service loop; the
    /// wiring itself runs on the control plane).
    /// The port section's tone plan and port settings.
    func portSettings(_ id: Int) -> (RegionTonePlan, PortSettings) {
        let pc = configuration.port(id)
        var plan = RegionTonePlan.forRegion(pc.region) ?? RegionTonePlan.forRegion(.us)!
        if let standard = pc.callerID { plan.callerID = standard }
        var ps = PortSettings()
        ps.dialPlan = pc.dialPlan
        ps.callWaiting = pc.callWaiting
        ps.withholdIdentity = pc.withholdIdentity
        ps.doNotDisturb = pc.doNotDisturb
        ps.autoDial = pc.hotLine
        ps.autoDialDelay = .seconds(Int64(pc.warmLineSeconds ?? 0))
        ps.visualMessageWaiting = pc.messageWaiting
        ps.reversePolarityOnAnswer = pc.reversePolarityOnAnswer
        ps.ringTimeout = .seconds(Int64(pc.ringTimeoutSeconds))
        ps.firstDigitTimeout = .seconds(Int64(pc.firstDigitSeconds))
        ps.shortInterDigit = .seconds(Int64(pc.interDigitSeconds))
        ps.featureCodes = pc.featureCodeTable
        ps.hookFlash = pc.hookFlash ?? HookFlashStyle.defaults(for: pc.region)
        ps.conferenceHangUp = pc.conferenceHangUp
        ps.forwardBy = pc.forwardBy
        ps.features = featureStore.features(port: id, configured: pc.features)
        return (plan, ps)
    }

    func wire(_ a: AccountConfiguration, endpoint: any AccountEndpoint, to port: Port) {
        let pc = configuration.port(port.id)
        let (plan, ps) = portSettings(port.id)
        var cs = CallSettings()
        cs.media.codecs = a.codecs
        cs.dtmf = a.dtmf
        cs.displayName = a.displayName
        cs.subscribeMessageWaiting = pc.messageWaiting
        cs.sessionExpires = a.sessionExpires
        cs.minSessionExpires = a.minSessionExpires
        cs.requireReliableProvisional = a.require100rel
        cs.media.srtp = a.srtp
        var ms = MediaSettings()
        ms.transmitGain = pc.transmitGain
        ms.receiveGain = pc.receiveGain
        let count = max(1, board.ports.count)
        let span = (configuration.rtpPorts.upperBound - configuration.rtpPorts.lowerBound + 1) / count
        let index = board.ports.firstIndex { $0.id == port.id } ?? 0
        let lower = configuration.rtpPorts.lowerBound + index * span
        let sipLog = Logger(label: "tipring.sip"), portLog = Logger(label: "tipring.port"), mediaLog = Logger(label: "tipring.media")
        clock.sync {
            self.removeUnattached(port)
            let parts = PortStack.wire(id: port.id, line: port.line, engine: port.engine, plan: plan, scheduler: self.scheduler,
                                       agent: endpoint.agent, mediaFactory: PolledMediaSocketFactory(family: IPEndpoint.Family(of: endpoint.agent.localAddress.host), dscp: a.dscpRTP), cname: "port\(port.id)@\(a.domain)",
                                       portSettings: ps, callSettings: cs, mediaSettings: ms, seed: port.seed)
            parts.media.setPorts(lower...(lower + max(span, 2) - 1))
            parts.controller.onLog = { text in portLog.info("\(text)", metadata: ["port.id": "\(port.id)"]) }
            let store = self.featureStore, configured = pc.features, id = port.id
            parts.controller.onFeaturesChanged = { features in
                do throws(SystemError) { try store.save(port: id, configured: configured, current: features) } catch {
                    portLog.warning("port \(id): what the phone set is not stored (\(error)); it holds until a restart", metadata: ["port.id": "\(id)"])
                }
            }
            parts.media.onDigit = { _, d in mediaLog.info("far end sent digit \(d)", metadata: ["port.id": "\(port.id)"]) }
            let started = self.startedAt
            final class Once: @unchecked Sendable { var done = false }
            let once = Once()
            let trace = self.sipTrace, scheduler = self.scheduler
            endpoint.agent.onTrace = { m, out, peer in
                trace.note(m, outgoing: out, peer: peer, port: port.id, at: scheduler.now)
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
            endpoint.agent.onLog = { text in sipLog.info("\(text)", metadata: ["port.id": "\(port.id)"]) }
            let media = parts.media
            parts.calls.onRecord = { [weak self] record in self?.keep(record, port: port.id, quality: media.statistics[record.handle]) }
            parts.calls.onPassing = { [weak self] event in
                if case .registration(let status) = event { self?.metrics.registration(status, port: port.id) }
            }
            parts.hardware.onSeizureToTone = { [weak self] d in self?.metrics.seizureToTone(d, port: port.id) }
            port.endpoint = endpoint
            port.ua = parts.ua
            port.media = parts.media
            port.controller = parts.controller
            port.hardware = parts.hardware
            self.runAudioOnDemand(port, parts.hardware)
            port.account = a
        }
    }

    /// A finished call into the history (on the control plane). A history that cannot be
    /// written (a full or read-only flash) costs a log line, never the call.
    func keep(_ record: CallRecord, port: Int, quality: CallStatistics?) {
        metrics.call(record, port: port, quality: quality)
        do {
            try callHistory.append(CallHistory.line(record, port: port, quality: quality))
        } catch {
            log.warning("the call history could not be written: \(error)", metadata: ["port.id": "\(port)"])
        }
    }

    static func withStateDirectory(_ c: Configuration, _ directory: String?) -> Configuration {
        guard let directory, c.stateDirectoryIsDefault else { return c }
        var c = c
        c.stateDirectory = directory
        return c
    }

    /// The port's RFC 5626 instance id from the state directory. When it cannot be kept there
    /// (a read-only or missing disk), a fresh one for this run, and a warning: a registrar
    /// then sees a new instance after each restart (a stale binding until it expires), which
    /// is better than sharing a made-up id with every other such device.
    func instanceID(port: Int) -> String {
        let path = configuration.stateDirectory + "/instance-port\(port)"
        do { return try InstanceID.loadOrCreate(path: path) } catch {
            if let kept = unsavedInstanceIDs[port] { return kept }
            let id = InstanceID.fresh()
            unsavedInstanceIDs[port] = id
            log.warning("port \(port): the instance id cannot be kept in \(path) (\(error)); using a new one until the daemon restarts", metadata: ["port.id": "\(port)"])
            return id
        }
    }

    /// How long (seconds) taking a port down waits for the registrar to confirm the unregistration.
    static let unregisterBound = 4.0

    /// The longest `sim listen` (seconds): the simulated earpieces keep that much audio.
    static let longestListen = 10

    /// The scheduler's clock in whole seconds: what registration times are stated in.
    var nowSeconds: Int64 { scheduler.now.nanoseconds / 1_000_000_000 }
}

extension Daemon {
    /// Another daemon runs with this socket (and so, most likely, this board).
    public struct AlreadyRunning: Error, CustomStringConvertible {
        public let socketPath: String
        public let holder: Int32?
        public var description: String {
            "another tipring daemon\(holder.map { " (pid \($0))" } ?? "") is running with the socket \(socketPath): stop it first, or give this one its own --socket"
        }
    }

    /// The lock beside the socket (`<socket>.lock`), held for the daemon's life.
    static func holdInstanceLock(socketPath: String) throws {
        do {
            _ = try InstanceLock.acquire(socketPath + ".lock")
        } catch let held as InstanceLock.Held {
            throw AlreadyRunning(socketPath: socketPath, holder: held.holder)
        }
    }
}
