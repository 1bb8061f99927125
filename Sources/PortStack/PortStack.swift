public import TipRingCore
public import TelephonyDSP
public import LineHAL
public import PortAudio
public import SIPCore
public import SIPAgent
public import RTPMedia
public import PortControl

/// The one place a port is wired, for every product: the daemon, the bring-up tool, the demo,
/// `sim script` and the tests build ports here, from a ``BoardBackend`` and settings.
///
/// A port is two halves. Below SIP, its ``Line``: the SLIC driver, hook decoder and ringer
/// (``PortLine``) and the audio engine on the port's sound device. Above, its ``Parts``: the
/// user agent on the account, the media, the adapter that lets the controller drive the
/// line, and the controller itself.
public enum PortStack {
    /// A port's line and audio, running.
    public struct Line {
        public let line: PortLine
        public let engine: AudioEngine
        public let audio: any AudioPort
    }

    /// Opens the port's hardware from `backend` and starts it: the line (SLIC driver, hook
    /// decoder by `profile`, ringer) and the audio engine on the sound device. A sound device
    /// that will not open fails the port, unless `tolerateAudioFailure`: then the line runs
    /// with an ``UnavailableAudioPort`` saying why (the daemon opens the device again later).
    public static func startLine(_ port: PortDescription, driver kind: SLICDriverKind, backend: any BoardBackend,
                                 profile: HookTimingProfile, scheduler: any Scheduler,
                                 tolerateAudioFailure: Bool = false) throws(PortSetupError) -> Line {
        let line: PortLine
        do {
            line = PortLine(driver: try backend.lineDriver(for: port, driver: kind, scheduler: scheduler), profile: profile, scheduler: scheduler)
            try line.start()
        } catch {
            throw PortSetupError(description: "port \(port.id): \(error)")
        }
        let engine = AudioEngine()
        let audio: any AudioPort
        do {
            audio = try startAudio(port, backend: backend, engine: engine)
        } catch {
            guard tolerateAudioFailure else {
                line.stop()
                throw PortSetupError(description: "port \(port.id) audio: \(error)")
            }
            audio = UnavailableAudioPort(name: port.audio.device, format: port.audio.format, reason: "\(error)")
        }
        return Line(line: line, engine: engine, audio: audio)
    }

    /// Opens the port's sound device and runs `engine` on it.
    public static func startAudio(_ port: PortDescription, backend: any BoardBackend, engine: AudioEngine) throws(HALError) -> any AudioPort {
        let audio = try backend.audioPort(for: port)
        try audio.start(handler: engine)
        return audio
    }

    /// Runs `audio` only while `hardware`'s line needs it (``LinePortHardware/onAudioNeeded``):
    /// stopped on-hook and silent, started again at once. A device that has failed is left
    /// as it is, for whoever recovers it. (The daemon, which replaces a failed device, keeps
    /// its own.)
    public static func runAudioOnDemand(_ audio: any AudioPort, engine: AudioEngine, hardware: LinePortHardware) {
        hardware.onAudioNeeded = { [weak audio, weak engine] needed in
            guard let audio, let engine, audio.failure == nil else { return }
            if needed { try? audio.start(handler: engine) } else { audio.stop() }
        }
    }

    /// The parts of a port above its line, wired to each other.
    public struct Parts {
        public let ua: SIPUserAgent
        /// In front of `ua` for the controller: each finished call's record (the history).
        public let calls: CallRecordingUserAgent
        public let media: PortMedia
        public let hardware: LinePortHardware
        public let controller: PortController
    }

    /// Wires the parts above a running line: the user agent on `agent`'s account, the media
    /// (sockets from `mediaFactory`) attached to it, the line adapter, the controller.
    public static func wire(id: Int, line: PortLine, engine: AudioEngine, plan: RegionTonePlan, scheduler: any Scheduler,
                            agent: AccountAgent, mediaFactory: any MediaSocketFactory, cname: String, portSettings: PortSettings,
                            callSettings: CallSettings, mediaSettings: MediaSettings, seed: UInt64) -> Parts {
        let ua = SIPUserAgent(agent: agent, settings: callSettings, seed: seed &+ UInt64(id))
        let media = PortMedia(engine: engine, factory: mediaFactory, scheduler: scheduler, settings: mediaSettings, cname: cname)
        media.attach(to: ua)
        let hardware = LinePortHardware(line: line, engine: engine, scheduler: scheduler)
        hardware.mediaConnector = { [weak media] h in media?.connect(h) }
        hardware.conferenceConnector = { [weak media] a, b in media?.connectConference(a, b) }
        hardware.relayConnector = { [weak media] calls in media?.relay(calls) }
        hardware.mediaSource = { [weak media] in media?.source }
        let keypad = hardware.keypad
        media.keyPresent = { keypad.keyPresent }
        let calls = CallRecordingUserAgent(ua) { (Instant.wallSecondsNow(), scheduler.now) }
        let controller = PortController(port: id, settings: portSettings, plan: plan, hardware: hardware, userAgent: calls, scheduler: scheduler)
        return Parts(ua: ua, calls: calls, media: media, hardware: hardware, controller: controller)
    }

    /// A port whose account is not on the network yet (its registrar does not resolve, the
    /// modem has not attached): the line is fed and its controller runs on a user agent that
    /// cannot register (``UnattachedUserAgent``), so a lifted handset hears the no-service tone
    /// rather than a dead line. Replaced by ``wire(id:line:engine:plan:scheduler:agent:mediaFactory:cname:portSettings:callSettings:mediaSettings:seed:)``
    /// once the account attaches.
    public static func wireUnattached(id: Int, line: PortLine, engine: AudioEngine, plan: RegionTonePlan, scheduler: any Scheduler,
                                      portSettings: PortSettings) -> (hardware: LinePortHardware, controller: PortController) {
        let hardware = LinePortHardware(line: line, engine: engine, scheduler: scheduler)
        let controller = PortController(port: id, settings: portSettings, plan: plan, hardware: hardware, userAgent: UnattachedUserAgent(), scheduler: scheduler)
        return (hardware, controller)
    }

    /// A port's account settings: user `user` at `domain` (address of record and registrar
    /// `sip:domain`), authenticating as `authUser` (default: the user). The one place the
    /// daemon, the simulators and the tools turn an account into SIP settings; the caller
    /// adjusts expiry, back-off and keep-alive on the result.
    public static func accountSettings(user: String, domain: String, authUser: String? = nil, password: String,
                                       instanceID: String) -> AccountSettings {
        // A domain written as an IPv6 address goes in brackets in a URI (RFC 3261 §19.1.1).
        let host = domain.contains(":") && !domain.hasPrefix("[") ? "[\(domain)]" : domain
        let registration = RegistrationSettings(registrar: "sip:\(host)", addressOfRecord: "sip:\(user)@\(host)", contact: "",
                                                instanceID: instanceID, authUser: authUser ?? user, password: password)
        return AccountSettings(registration: registration, contactUser: user)
    }
}

/// A port could not be set up (its hardware would not open, its settings do not hold).
public struct PortSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// The user agent of a port whose account is not attached: it never registers (so the port
/// offers no dial tone, only the no-service tone) and places or takes no call.
public final class UnattachedUserAgent: UserAgent {
    public var onEvent: ((UserAgentEvent) -> Void)?
    public var newCallHandle: () -> CallHandle = {
        var own = CallHandles()
        return { own.next() }
    }()

    public init() {}

    public func execute(_ command: UserAgentCommand) {
        switch command {
        case .invite(let h, _, _):
            // Not reachable while unregistered (the port offers no dial tone), but answered
            // all the same: the call fails at once.
            onEvent?(.ended(h, .failed(status: 503, reason: "Service Unavailable")))
        case .register, .unregister, .cancel, .answer, .reject, .redirect, .hangUp, .hold, .resume, .sendDigit, .acceptTransfer, .declineTransfer, .transfer,
             .useVoicebandCodec:
            break
        }
    }
}
