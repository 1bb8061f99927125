public import TipRingCore
public import TelephonyDSP
public import LineHAL
public import PortAudio
public import SIPCore
public import SIPAgent
public import PortControl
public import BoardSimulator
public import RTPMedia
import PortStack

/// A media socket on the simulator's network.
final class SimulatedMediaSocket: MediaSocket, @unchecked Sendable {
    let network: SimulatedSIPNetwork
    let address: SIPNetworkAddress
    var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)?
    weak var factory: SimulatedMediaSocketFactory?

    init(network: SimulatedSIPNetwork, address: SIPNetworkAddress) {
        self.network = network
        self.address = address
        network.attach(address) { [weak self] bytes, from in
            guard let self else { return }
            bytes.withUnsafeBytes { self.onPacket?($0, from, self.network.scheduler.now) }
        }
    }

    var localPort: Int { address.port }
    func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress) { network.send(Array(bytes), from: address, to: to) }
    func close() {
        network.detach(address)
        factory?.taken.remove(address.port)
    }
}

final class SimulatedMediaSocketFactory: MediaSocketFactory {
    let network: SimulatedSIPNetwork
    let host: String
    var taken: Set<Int> = []
    init(network: SimulatedSIPNetwork, host: String) {
        self.network = network
        self.host = host
    }
    func open(port: Int) -> (any MediaSocket)? {
        guard !taken.contains(port) else { return nil }
        taken.insert(port)
        let s = SimulatedMediaSocket(network: network, address: SIPNetworkAddress(host, port))
        s.factory = self
        return s
    }
}

/// The whole of TipRing on the simulated board: per port the real line layer (SLIC driver,
/// hook decoder, ringer, audio engine), a SIP user agent and the port controller; a
/// simulated exchange serving the accounts; serialized SIP on an in-memory network. Runs
/// under any scheduler (virtual time in tests, the wall clock in the demo).
public final class SimulatedSystem {
    public final class Port {
        public let id: Int
        public let user: String
        public let line: PortLine
        public let engine: AudioEngine
        public let agent: AccountAgent
        public let userAgent: SIPUserAgent
        public let controller: PortController
        public let phone: SimulatedTelephone
        public let media: PortMedia
        /// Digits the far end sent as RFC 4733 events.
        public internal(set) var digitsReceived: [Character] = []

        init(id: Int, user: String, line: PortLine, engine: AudioEngine, agent: AccountAgent, userAgent: SIPUserAgent,
             controller: PortController, phone: SimulatedTelephone, media: PortMedia) {
            self.media = media
            self.id = id
            self.user = user
            self.line = line
            self.engine = engine
            self.agent = agent
            self.userAgent = userAgent
            self.controller = controller
            self.phone = phone
        }
    }

    public let scheduler: any Scheduler
    public let board: SimulatedBoard
    public let network: SimulatedSIPNetwork
    /// RTP and RTCP travel here (its conditions make the media path lossy, jittery, …).
    public let mediaNetwork: SimulatedSIPNetwork
    public let exchange: SimulatedExchange
    public let plan: RegionTonePlan
    public private(set) var ports: [Int: Port] = [:]
    public static let exchangeAddress = SIPNetworkAddress("192.0.2.1")
    public static let domain = "tipring.sim"

    /// The simulated two-port board (Ag1171 SLICs on a simulated GPIO chip, B222s timing).
    public static func boardDescription(ports: Int = 2) -> BoardDescription {
        let ps = (1...ports).map { id -> PortDescription in
            let base = UInt32((id - 1) * 4)
            return PortDescription(
                id: id, gpioChip: "sim0",
                signals: [.hookSense: SignalLine(offset: base), .ringMode: SignalLine(offset: base + 1),
                          .forwardReverse: SignalLine(offset: base + 2, activeLow: true), .powerDown: .ag1171PowerDown(base + 3)],
                audio: AudioDeviceDescription(device: "sim", format: .narrowband20ms),
                ring: RingLimits(defaultFrequency: 25, minimumFrequency: 20, maximumFrequency: 25))
        }
        return BoardDescription(name: "sim", summary: "simulated", driver: .ag1171, verified: true, timingProfile: .b222s, ports: ps)
    }

    /// Users: port N is `100N` (password `secretN`), named by `names`. `tonePlan` replaces the
    /// region's (a caller-ID scheme the region does not use, as a port's configuration may ask).
    public init(scheduler: any Scheduler, region: Region = .us, tonePlan: RegionTonePlan? = nil, ports count: Int = 2,
                names: [Int: String] = [1: "Alice", 2: "Bob"],
                configure: (Int, inout PortSettings, inout CallSettings) -> Void = { _, _, _ in }, seed: UInt64 = 1) throws {
        self.scheduler = scheduler
        guard let plan = tonePlan ?? RegionTonePlan.forRegion(region) else { throw PortSetupError(description: "no tone plan for region \(region)") }
        self.plan = plan
        board = SimulatedBoard(board: Self.boardDescription(ports: count), scheduler: scheduler)
        network = SimulatedSIPNetwork(scheduler: scheduler, seed: seed)
        mediaNetwork = SimulatedSIPNetwork(scheduler: scheduler, seed: seed &+ 99, conditions: .init(delay: .milliseconds(5)))
        var users: [String: String] = [:]
        for id in 1...count { users["100\(id)"] = "secret\(id)" }
        exchange = SimulatedExchange(network: network, address: Self.exchangeAddress, domain: Self.domain, users: users)
        for (id, name) in names { exchange.directory["100\(id)"] = name }
        for id in 1...count {
            let user = "100\(id)"
            let address = SIPNetworkAddress("192.0.2.\(10 * id)")
            var account = PortStack.accountSettings(user: user, domain: Self.domain, password: "secret\(id)",
                                                    instanceID: "urn:uuid:00000000-0000-4000-8000-0000000000\(10 + id)")
            account.registration.expires = 600
            account.keepAlive = .off
            let net = network
            let agent = AccountAgent(settings: account, servers: [Self.exchangeAddress], localAddress: address, scheduler: scheduler,
                                     seed: seed &+ UInt64(id),
                                     send: { [weak net] m, to in net?.send(m.serialized(), from: address, to: to) },
                                     sendBytes: { [weak net] b, to in net?.send(b, from: address, to: to) })
            network.attach(address) { [weak agent] b, from in
                guard let m = try? SIPParser.parse(b) else { return }
                agent?.receive(m, from: from)
            }
            ports[id] = try Self.assemblePort(id: id, user: user, board: board, plan: plan, scheduler: scheduler, agent: agent,
                                              mediaFactory: SimulatedMediaSocketFactory(network: mediaNetwork, host: address.host),
                                              cname: "port\(id)@\(Self.domain)", configure: configure, seed: seed)
        }
    }

    /// One port of a board, whole: line, audio engine, user agent on `agent`, media, controller.
    public static func assemblePort(id: Int, user: String, board: SimulatedBoard, plan: RegionTonePlan, scheduler: any Scheduler,
                                    agent: AccountAgent, mediaFactory: any MediaSocketFactory, cname: String,
                                    configure: (Int, inout PortSettings, inout CallSettings) -> Void, seed: UInt64) throws -> Port {
        guard let description = board.board.port(id) else { throw PortSetupError(description: "the simulated board has no port \(id)") }
        let running = try PortStack.startLine(description, driver: board.board.driver, backend: board,
                                              profile: board.board.timingProfile, scheduler: scheduler)
        var portSettings = PortSettings()
        portSettings.dialPlan = try! DialPlan("(100[1-9]|*xx|[2-9]x.T|0x.T)")
        var callSettings = CallSettings()
        configure(id, &portSettings, &callSettings)
        let parts = PortStack.wire(id: id, line: running.line, engine: running.engine, plan: plan, scheduler: scheduler, agent: agent,
                                   mediaFactory: mediaFactory, cname: cname, portSettings: portSettings, callSettings: callSettings,
                                   mediaSettings: MediaSettings(), seed: seed)
        PortStack.runAudioOnDemand(running.audio, engine: running.engine, hardware: parts.hardware)
        let port = Port(id: id, user: user, line: running.line, engine: running.engine, agent: agent, userAgent: parts.ua,
                        controller: parts.controller, phone: board.telephone(id), media: parts.media)
        let controller = parts.controller
        parts.media.onDigit = { [weak port, weak controller] _, d in
            port?.digitsReceived.append(d)
            controller?.onLog?("far end sent digit \(d) (RFC 4733)")
        }
        return port
    }

    /// Power on: every port enabled (registers at once).
    public func powerOn() {
        for id in ports.keys.sorted() { ports[id]!.controller.handle(.enable) }
    }

    public func port(_ id: Int) -> Port { ports[id]! }

    /// Stops lines and audio.
    public func shutdown() {
        for (id, p) in ports {
            p.line.stop()
            board.audioPort(id).stop()
        }
    }
}
