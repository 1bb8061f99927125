public import TipRingCore
public import TelephonyDSP
public import LineHAL
public import SIPCore

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
    /// The pending steps of a line signal plan (caller ID, message waiting).
    lazy var signalTimers = ActionTimers<Int>(scheduler: scheduler)
    var signalCount = 0
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
            // After R (register recall) a key is a command for the port.
            if self.machine.recallPending { return self.handle(.digit(d)) }
            switch self.machine.line {
            case .connected(let h, _): self.userAgent.execute(.sendDigit(h, d, milliseconds: 100))
            case .conference(let a, let b):
                self.userAgent.execute(.sendDigit(a, d, milliseconds: 100))
                self.userAgent.execute(.sendDigit(b, d, milliseconds: 100))
            default: self.handle(.digit(d))
            }
        }
        // One numbering for the port's calls, whichever side starts them.
        userAgent.newCallHandle = { [weak self] in self?.machine.newCallHandle() ?? CallHandle(id: 0) }
        userAgent.onEvent = { [weak self] e in
            guard let self else { return }
            switch e {
            case .registration(let s): self.handle(.registration(s))
            case .incomingCall(let h, let caller): self.handle(.incomingCall(h, caller))
            case .replacingCall(let h, let old, _):
                self.log("a new call replaces the one in progress")
                self.handle(.replacingCall(h, replaces: old))
            case .ringing(let h): self.handle(.ringing(h))
            case .earlyMedia(let h): self.handle(.earlyMedia(h))
            case .answered(let h): self.handle(.answered(h))
            case .ended(let h, let r): self.handle(.ended(h, r))
            case .digit(_, let d): self.log("far end sent digit \(d)")
            case .transferRequested(let h, let target):
                self.log("the far end transfers the call to \(target)")
                self.handle(.transferRequested(h, target: target))
            case .transferEnded(let h, let status):
                self.log((200...299).contains(status) ? "the transfer is done" : "the transfer failed (\(status))")
                self.handle(.transferEnded(h, status: status))
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
        let before = machine.features
        let actions = machine.handle(event)
        for a in actions { perform(a) }
        if machine.features != before {
            if machine.features.forwards != before.forwards || machine.features.doNotDisturb != before.doNotDisturb
                || machine.features.speedDials != before.speedDials {
                log("features now: " + Self.summary(machine.features))
            }
            onFeaturesChanged?(machine.features)
        }
    }

    /// Forwards, do-not-disturb and speed dials in a few words (for the log).
    static func summary(_ f: PortFeatures) -> String {
        var parts = ForwardCondition.allCases.compactMap { c in f.forwards[c].map { "forward \(c.rawValue) to \($0)" } }
        if f.doNotDisturb { parts.append("do not disturb") }
        if !f.speedDials.isEmpty { parts.append("\(f.speedDials.count) speed dial(s)") }
        return parts.isEmpty ? "none set" : parts.joined(separator: ", ")
    }

    /// What feature codes set, as it changes (to be stored).
    public var onFeaturesChanged: ((PortFeatures) -> Void)?
    public var features: PortFeatures { machine.features }

    func perform(_ a: PortAction) {
        switch a {
        case .sip(let command):
            switch command {
            case .invite(let h, let target, _) where machine.forwarded?.outgoing == h: log("forwards the call to \(target) (a new call)")
            case .invite(_, let target, let withhold): log("calls \(target)" + (withhold ? " (number withheld)" : ""))
            case .redirect(_, let target): log("forwards the call to \(target)")
            case .answer: log("answers")
            case .hangUp: log("hangs up")
            case .transfer(_, _, let attended): log("transfers the call (\(attended ? "attended" : "blind"))")
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
        case .conferenceMedia(let a, let b):
            log("three-way call")
            hardware.connectConference(a, b)
        case .relayMedia(let a, let b):
            log("joins the forwarded call to its target")
            hardware.relayMedia((a, b))
        case .endRelay: hardware.relayMedia(nil)
        case .startTimer(let t, let d):
            timers.start(t, after: d) { [weak self] in self?.handle(.timer(t)) }
        case .cancelTimer(let t):
            timers.cancel(t)
        }
    }

    // MARK: ringing, caller ID and on-hook signals

    func startRinging(_ caller: CallerIdentity?) {
        cancelSignals()
        ringing = true
        log("rings (\(plan.region): \(plan.ringing.cadence))")
        let info = caller.map(Self.info)
        let signals = LineSignalPlan.ringing(callerID: info, plan: plan)
        if let info, signals.steps.count > 1, let scheme = CallerIDScheme(plan.callerID) {
            log("caller ID \(info.number ?? "(\(info.numberAbsence.map { String($0.rawValue) } ?? "-"))") " +
                (info.name.map { "\"\($0)\" " } ?? "") + "by \(scheme)")
        }
        play(signals)
    }

    func sendMessageWaiting(_ on: Bool) {
        guard let signals = LineSignalPlan.messageWaiting(on, plan: plan) else { return }
        log("message-waiting lamp \(on ? "on" : "off")")
        play(signals)
    }

    /// Plays a signal plan: the steps due now at once, the rest on timers that ringing's end
    /// (or a new plan) cancels.
    func play(_ signals: LineSignalPlan) {
        for step in signals.followingAudio(delayedBy: hardware.audioToLineDelay).steps {
            if step.at <= .zero {
                apply(step.signal)
            } else {
                signalCount += 1
                signalTimers.start(signalCount, after: step.at) { [weak self] in self?.apply(step.signal) }
            }
        }
    }

    func apply(_ signal: LineSignal) {
        switch signal {
        case .ring(let cadence, let frequency): hardware.startRinging(cadence: cadence, frequency: frequency)
        case .stopRing: hardware.stopRinging()
        case .feed(let f): hardware.setFeed(f)
        case .restoreFeed(let onlyOnHook): if !onlyOnHook || !machine.offHook { hardware.setFeed(feed) }
        case .play(let samples): hardware.playSamples(samples)
        }
    }

    func cancelSignals() { signalTimers.cancelAll() }

    /// Caller identity as caller ID carries it: withheld → "P", unavailable → "O".
    public static func info(_ c: CallerIdentity) -> CallerIDInfo {
        switch c.availability {
        case .available: CallerIDInfo(number: c.number, name: c.name)
        case .withheld: CallerIDInfo(numberAbsence: .private, nameAbsence: .private)
        case .unavailable: CallerIDInfo(numberAbsence: .outOfArea, nameAbsence: .outOfArea)
        }
    }
}
