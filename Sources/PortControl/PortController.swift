public import TipRingCore
public import TelephonyDSP
public import LineHAL
public import PortAudio
public import SIPCore

/// What a port controller drives: the line (feed, ringing), the earpiece (tones, caller-ID
/// signals, the call's audio) — and what it hears back (hook events, keypad digits).
public protocol PortHardware: AnyObject {
    var onHookEvent: ((HookEvent.Kind) -> Void)? { get set }
    var onKeypadDigit: ((Character) -> Void)? { get set }
    func setFeed(_ feed: LineFeed)
    func startRinging(cadence: RingCadence, frequency: Double)
    func stopRinging()
    /// Plays a tone to the earpiece until replaced (nil: silence).
    func playTone(_ tone: Tone?, kind: ToneKind?)
    /// Plays samples once (caller ID, message-waiting signals).
    func playSamples(_ samples: [Int16])
    /// Connects a call's audio to the handset (nil: disconnect).
    func connectMedia(_ call: CallHandle?)
}

/// A real (or simulated) line through the line layer: ``PortLine`` for hook, feed and
/// ringing; the port's ``AudioEngine`` for tones and keypad digits.
public final class LinePortHardware: PortHardware, @unchecked Sendable {
    public let line: PortLine
    public let engine: AudioEngine
    let scheduler: any Scheduler
    public var onHookEvent: ((HookEvent.Kind) -> Void)?
    public var onKeypadDigit: ((Character) -> Void)?
    /// The call whose audio is connected.
    public private(set) var mediaCall: CallHandle?
    /// The keypad's DTMF detector.
    public let keypad: DTMFReceiver
    /// The last seizure: from its confirmation to the controller having set the tone (which
    /// plays from the next audio period) — the "dial tone within 10 ms" figure.
    public private(set) var lastSeizureToTone: Duration?
    /// Connects a call's audio (the media layer); without one, calls are silent.
    public var mediaConnector: ((CallHandle?) -> Void)?
    /// The source to play while a call is connected (after a tone such as call waiting).
    public var mediaSource: (() -> (any AudioSource)?)?

    public init(line: PortLine, engine: AudioEngine, scheduler: any Scheduler) {
        self.line = line
        self.engine = engine
        self.scheduler = scheduler
        // Keypad digits are detected on the audio path and handed to the control plane.
        let box = WeakBox<LinePortHardware>()
        keypad = DTMFReceiver { key, _ in
            scheduler.execute { box.value?.onKeypadDigit?(key) }
        }
        box.value = self
        line.onHookEvent = { [weak self] e in
            guard let self else { return }
            self.onHookEvent?(e.kind)
            if case .offHook = e.kind { self.lastSeizureToTone = scheduler.now - e.at }
        }
        engine.addConsumer(keypad)
    }

    public func setFeed(_ feed: LineFeed) { line.setFeed(feed) }
    public func startRinging(cadence: RingCadence, frequency: Double) { line.ring(cadence: cadence, frequency: frequency) }
    public func stopRinging() { line.stopRinging() }
    public func playTone(_ tone: Tone?, kind: ToneKind?) {
        if let tone {
            engine.setSource(ToneSource(tone, kind: kind))
        } else {
            engine.setSource(mediaCall == nil ? nil : mediaSource?() ?? nil)
        }
    }
    public func playSamples(_ samples: [Int16]) { engine.setSource(SampleBufferSource(samples: samples)) }
    public func connectMedia(_ call: CallHandle?) {
        mediaCall = call
        if let c = mediaConnector { c(call) } else { engine.setSource(nil) }
    }
}

final class WeakBox<T: AnyObject>: @unchecked Sendable {
    weak var value: T?
}

/// Runs one port: its ``PortStateMachine`` fed by the hardware, the user agent and timers;
/// the machine's actions carried out on them. Everything runs on the scheduler. A port's
/// trouble stays with that port.
public final class PortController: @unchecked Sendable {
    public let port: Int
    public private(set) var machine: PortStateMachine
    public let hardware: any PortHardware
    public let userAgent: any UserAgent
    public let plan: RegionTonePlan
    let scheduler: any Scheduler
    lazy var timers = ActionTimers<PortTimer>(scheduler: scheduler)
    var signalTimers: [TimerHandle] = []
    /// The tone playing now (nil: none), for status and invariants.
    public private(set) var tone: ToneKind?
    public private(set) var ringing = false
    public private(set) var feed: LineFeed = .powerDown
    /// A readable line per event and action, for timelines.
    public var onLog: ((String) -> Void)?

    public init(port: Int, settings: PortSettings, plan: RegionTonePlan, hardware: any PortHardware,
                userAgent: any UserAgent, scheduler: any Scheduler) {
        self.port = port
        self.machine = PortStateMachine(settings: settings)
        self.plan = plan
        self.hardware = hardware
        self.userAgent = userAgent
        self.scheduler = scheduler
        hardware.onHookEvent = { [weak self] kind in
            guard let self else { return }
            switch kind {
            case .loopClosed: break  // the line trips ringing itself; the seizure follows
            case .offHook: self.handle(.offHook)
            case .onHook: self.handle(.onHook)
            case .flash: self.handle(.flash)
            case .pulseDigit(let d): self.handle(.digit(Character(String(d % 10))))
            }
        }
        hardware.onKeypadDigit = { [weak self] d in
            guard let self else { return }
            // In a call, a key press travels to the far end; otherwise it is dialling.
            if case .connected(let h, _) = self.machine.line {
                self.userAgent.execute(.sendDigit(h, d, milliseconds: 100))
            } else {
                self.handle(.digit(d))
            }
        }
        userAgent.onEvent = { [weak self] e in
            guard let self else { return }
            switch e {
            case .registration(let s): self.handle(.registration(s))
            case .incomingCall(let h, let caller): self.handle(.incomingCall(h, caller))
            case .ringing(let h): self.handle(.ringing(h))
            case .earlyMedia(let h): self.handle(.earlyMedia(h))
            case .answered(let h): self.handle(.answered(h))
            case .ended(let h, let r): self.handle(.ended(h, r))
            case .digit(_, let d): self.log("far end sent digit \(d)")
            case .messageWaiting(let w, let new, _):
                self.log("message waiting: \(w ? "yes" : "no")" + (new.map { " (\($0) new)" } ?? ""))
                self.handle(.messageWaiting(w))
            }
        }
    }

    public var settings: PortSettings { machine.settings }

    func log(_ s: String) { onLog?(s) }

    /// Feeds an event and carries out what the machine asks.
    public func handle(_ event: PortEvent) {
        let actions = machine.handle(event)
        for a in actions { perform(a) }
    }

    func perform(_ a: PortAction) {
        switch a {
        case .sip(let command):
            switch command {
            case .invite(_, let target, let withhold): log("calls \(target)" + (withhold ? " (number withheld)" : ""))
            case .answer: log("answers")
            case .hangUp: log("hangs up")
            default: break
            }
            userAgent.execute(command)
        case .setFeed(let f):
            feed = f
            hardware.setFeed(f)
        case .startRinging(let caller): startRinging(caller)
        case .stopRinging:
            cancelSignals()
            if ringing { log("ringing stops") }
            ringing = false
            hardware.stopRinging()
        case .playTone(let kind):
            tone = kind
            log("plays \(kind) tone")
            hardware.playTone(plan.tones[kind], kind: kind)
        case .stopTone:
            if tone != nil { hardware.playTone(nil, kind: nil) }
            tone = nil
        case .sendMessageWaiting(let on): sendMessageWaiting(on)
        case .connectMedia(let h): hardware.connectMedia(h)
        case .startTimer(let t, let d):
            timers.start(t, after: d) { [weak self] in self?.handle(.timer(t)) }
        case .cancelTimer(let t):
            timers.cancel(t)
        }
    }

    // MARK: ringing and caller ID

    func startRinging(_ caller: CallerIdentity?) {
        cancelSignals()
        ringing = true
        let ring = plan.ringing
        log("rings (\(plan.region): \(ring.cadence))")
        guard let caller, let scheme = CallerIDScheme(plan.callerID),
              let delivery = CallerIDSender.plan(.callerID(Self.info(caller)), scheme: scheme, cadence: ring.cadence) else {
            hardware.startRinging(cadence: ring.cadence, frequency: ring.frequency)
            return
        }
        log("caller ID \(Self.info(caller).number ?? "(\(Self.info(caller).numberAbsence.map { String($0.rawValue) } ?? "-"))") " +
            (Self.info(caller).name.map { "\"\($0)\" " } ?? "") + "by \(scheme)")
        var audio = delivery.audio.makeIterator()
        for (offset, step) in delivery.steps {
            let samples: [Int16]?
            if case .play = step { samples = audio.next() } else { samples = nil }
            let run: () -> Void = { [weak self] in
                guard let self, self.ringing else { return }
                switch step {
                case .startRinging: self.hardware.startRinging(cadence: ring.cadence, frequency: ring.frequency)
                case .reversePolarity: self.hardware.setFeed(.reverse)
                case .restorePolarity: self.hardware.setFeed(self.feed)
                case .ringPulse(let ms):
                    self.hardware.startRinging(cadence: RingCadence(milliseconds: [Int64(ms), 3_600_000]), frequency: ring.frequency)
                    self.signalTimers.append(self.scheduler.schedule(after: .milliseconds(Int64(ms))) { [weak self] in
                        guard let self, self.ringing else { return }
                        self.hardware.stopRinging()
                    })
                case .play:
                    guard let samples else { return }
                    self.transmitOnHook(samples)
                }
            }
            if offset == 0 { run() } else { signalTimers.append(scheduler.schedule(after: .milliseconds(Int64(offset)), run)) }
        }
    }

    /// On-hook transmission: the feed that carries audio with the handset down, then back.
    func transmitOnHook(_ samples: [Int16]) {
        hardware.setFeed(.onHookTransmission)
        hardware.playSamples(samples)
        signalTimers.append(scheduler.schedule(after: .milliseconds(Int64(samples.count / 8 + 20))) { [weak self] in
            guard let self else { return }
            if !self.machine.offHook { self.hardware.setFeed(self.feed) }
        })
    }

    func cancelSignals() {
        for t in signalTimers { scheduler.cancel(t) }
        signalTimers.removeAll()
    }

    func sendMessageWaiting(_ on: Bool) {
        guard let scheme = CallerIDScheme(plan.callerID), let samples = CallerIDSender.audio(.messageWaiting(on), scheme: scheme) else { return }
        log("message-waiting lamp \(on ? "on" : "off")")
        transmitOnHook(samples)
    }

    /// Caller identity as caller ID carries it: withheld → "P", unavailable → "O".
    public static func info(_ c: CallerIdentity) -> CallerIDInfo {
        switch c.availability {
        case .available: CallerIDInfo(number: c.number, name: c.name)
        case .withheld: CallerIDInfo(numberAbsence: .private, nameAbsence: .private)
        case .unavailable: CallerIDInfo(numberAbsence: .outOfArea, nameAbsence: .outOfArea)
        }
    }
}
