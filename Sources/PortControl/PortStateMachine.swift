public import TelephonyDSP
public import SIPCore

/// One port's behaviour (DESIGN.md "Port state machine"), sans-IO: feed events, carry out
/// the actions. Two parts: registration, and line/call. Every (state, event) pair is
/// handled explicitly.
public struct PortStateMachine: Sendable {
    public enum Registration: Sendable, Hashable {
        case disabled, registering, registered, retrying, failed
    }

    /// The second call while connected.
    public enum Other: Sendable, Hashable {
        /// Incoming, announced by the call-waiting tone, not yet answered.
        case waiting(CallHandle)
        /// On hold (after a flash).
        case held(CallHandle)
    }

    public enum Line: Sendable, Hashable {
        /// On-hook, nothing going on.
        case idle
        /// Off-hook, waiting for the first digit (dial tone, or stutter dial tone).
        case dialTone
        /// Off-hook but unregistered: the no-service tone.
        case noService
        case collecting(String)
        /// An outgoing call: trying, ringback or early media.
        case outgoing(CallHandle, ringback: Bool)
        /// On-hook, ringing for an incoming call.
        case ringing(CallHandle)
        /// On-hook, ringing to give back a call left on hold (the handset hung up with it held,
        /// or a transfer of it failed): lifting the handset takes it off hold.
        case recalling(CallHandle)
        case connected(CallHandle, other: Other?)
        /// Three-way: the handset and both calls hear each other (the port mixes them).
        case conference(CallHandle, CallHandle)
        /// Off-hook after a failure or the far end's hang-up: busy, congestion, SIT.
        case disconnected(ToneKind)
        /// Off-hook, the active far end gone, a waiting call still waiting (flash takes it,
        /// on-hook rings for it).
        case waitingOnly(CallHandle)
        case howler
        /// Silence until on-hook.
        case lockout
    }

    public let settings: PortSettings
    public internal(set) var enabled = false
    public internal(set) var registration: Registration = .disabled
    public internal(set) var line: Line = .idle
    public internal(set) var offHook = false
    public internal(set) var messagesWaiting = false
    var lampShown = false
    /// The port's one numbering of calls, placed here and received by the user agent.
    var handles = CallHandles()
    /// Forwards, do-not-disturb, speed dials, redial and call return: what feature codes set.
    public internal(set) var features: PortFeatures
    /// The current call was placed with the "no call waiting" code: a second caller is busy.
    var callWaitingSuppressed = false
    /// A no-answer forward's timer runs for the ringing call.
    var forwardTimerArmed = false
    /// The far end transferred this call of ours and the line now places the new call: if
    /// that fails we go back to it; if it is answered, or we hang up, it is ended.
    var transferredFrom: (old: CallHandle, new: CallHandle)?
    /// The call on hold while the handset consults: second dial tone, dialling, a call to a
    /// third party. On-hook transfers it to that party; flash goes back to it (or, with the
    /// third party answered, joins all three).
    public internal(set) var consultation: CallHandle?
    /// A transfer this port asked for (REFER sent): the call transferred, and the consulted
    /// call it was transferred to when attended. Both end when it succeeds.
    public internal(set) var transfer: PendingTransfer?
    /// "R" pressed with two calls on the line: the next digit is a command, not a DTMF key.
    public internal(set) var recallPending = false
    /// A call forwarded by a new call of ours, and that call (``forward(_:to:)``).
    public internal(set) var forwarded: ForwardedCall?

    public struct PendingTransfer: Sendable, Hashable {
        public var transferred: CallHandle
        public var consulted: CallHandle?
        public init(transferred: CallHandle, consulted: CallHandle?) {
            self.transferred = transferred
            self.consulted = consulted
        }
    }

    public init(settings: PortSettings) {
        self.settings = settings
        features = settings.features
    }

    /// The handle for a new call of this port (the user agent takes incoming calls' from here).
    public mutating func newCallHandle() -> CallHandle { handles.next() }

    /// Every call the port is part of now.
    public var calls: [CallHandle] {
        var out: [CallHandle]
        switch line {
        case .outgoing(let h, _), .ringing(let h), .recalling(let h): out = [h]
        case .connected(let h, let other):
            switch other {
            case .waiting(let o), .held(let o): out = [h, o]
            case nil: out = [h]
            }
        case .conference(let a, let b): out = [a, b]
        case .waitingOnly(let h): out = [h]
        case .idle, .dialTone, .noService, .collecting, .disconnected, .howler, .lockout: out = []
        }
        if let c = consultation { out.append(c) }
        if let t = transfer { out += [t.transferred] + (t.consulted.map { [$0] } ?? []) }
        if let t = transferredFrom { out.append(t.old) }
        if let f = forwarded { out += [f.incoming, f.outgoing] }
        return out
    }

    var registered: Bool { registration == .registered }

    // MARK: events

    public mutating func handle(_ event: PortEvent) -> [PortAction] {
        let before = ringingCall
        let actions = dispatch(event)
        // However ringing began (a new call, a waiting call rung on hang-up) its timeout starts;
        // however it ended (answered, cancelled, refused, disabled) the timeout goes.
        switch (before, ringingCall) {
        case (let a, let b?) where a != b: return actions + [.startTimer(.ringTimeout, settings.ringTimeout)]
        case (_?, nil):
            guard forwardTimerArmed else { return actions + [.cancelTimer(.ringTimeout)] }
            forwardTimerArmed = false
            return actions + [.cancelTimer(.ringTimeout), .cancelTimer(.forwardNoAnswer)]
        default: return actions
        }
    }

    /// The call the bell rings for, if it rings.
    var ringingCall: CallHandle? {
        switch line {
        case .ringing(let h), .recalling(let h): h
        default: nil
        }
    }

    mutating func dispatch(_ event: PortEvent) -> [PortAction] {
        if let out = forwardedCallEvent(event) { return out }
        switch event {
        case .powerOn:
            return enabled ? [.setFeed(.forward), .sip(.register)] : [.setFeed(.powerDown)]
        case .enable:
            guard !enabled else { return [] }
            enabled = true
            registration = .registering
            // A handset already up when the port comes alive is a seizure now (no-service tone
            // until registered), never an idle line that an incoming call would ring.
            return [.setFeed(.forward), .sip(.register)] + (offHook ? goOffHook() : [])
        case .disable:
            guard enabled else { return [] }
            enabled = false
            registration = .disabled
            let out = teardown() + [.sip(.unregister), .setFeed(.powerDown)]
            line = .idle
            return out
        case .registration(let status):
            return registrationChanged(status)
        case .offHook:
            guard !offHook else { return [] }
            offHook = true
            return goOffHook()
        case .onHook:
            guard offHook else { return [] }
            offHook = false
            return goOnHook()
        case .flash:
            return flash()
        case .digit(let d):
            return digit(d)
        case .timer(let t):
            return timer(t)
        case .incomingCall(let h, let caller):
            return incoming(h, caller)
        case .ringing(let h):
            guard case .outgoing(h, false) = line else { return [] }
            line = .outgoing(h, ringback: true)
            return [.playTone(.ringback)]
        case .earlyMedia(let h):
            guard case .outgoing(h, _) = line else { return [] }
            line = .outgoing(h, ringback: false)
            return [.stopTone, .connectMedia(h)]
        case .answered(let h):
            guard case .outgoing(h, _) = line else { return [] }
            line = .connected(h, other: nil)
            var out: [PortAction] = [.stopTone, .connectMedia(h)] + (settings.reversePolarityOnAnswer ? [.setFeed(.reverse)] : [])
            if let t = transferredFrom, t.new == h {
                transferredFrom = nil
                out.append(.sip(.hangUp(t.old)))  // the transfer is done (the far end may end it too)
            }
            return out
        case .ended(let h, let reason):
            guard recallPending else { return ended(h, reason) }
            // A call ended while R waited for its digit: the recall is off, the line's audio back.
            recallPending = false
            let out = [PortAction.cancelTimer(.recallDigit)] + ended(h, reason)
            return out + (out.contains { if case .connectMedia = $0 { true } else if case .conferenceMedia = $0 { true } else { false } } ? [] : [.stopTone] + mediaOfLine())
        case .transferRequested(let h, let target):
            return transferRequested(h, to: target)
        case .replacingCall(let h, let old):
            return replacingCall(h, replaces: old)
        case .transferEnded(let h, let status):
            return transferEnded(h, status: status)
        case .messageWaiting(let waiting):
            messagesWaiting = waiting
            if case .idle = line { return visualIndicator() }
            return []
        }
    }

    mutating func registrationChanged(_ status: RegistrationStatus) -> [PortAction] {
        guard enabled else { return [] }
        let wasRegistered = registered
        switch status {
        case .unregistered: registration = .registering
        case .registering: if !wasRegistered { registration = .registering }
        case .registered, .inServiceWithoutRegistration: registration = .registered
        case .retrying: registration = .retrying
        case .failed: registration = .failed
        }
        // Lifted while unregistered, then service came: offer dial tone.
        switch line {
        case .noService where registered:
            line = .dialTone
            return [.playTone(dialTone), .startTimer(.firstDigit, settings.firstDigitTimeout)]
        case .dialTone where !registered && !wasRegistered:
            line = .noService
            return [.cancelTimer(.firstDigit), .playTone(.noService)]
        case .idle, .dialTone, .noService, .collecting, .outgoing, .ringing, .recalling, .connected, .conference, .disconnected, .waitingOnly,
             .howler, .lockout:
            return []
        }
    }

    /// Stutter dial tone says "messages wait" or "your calls are forwarded".
    var dialTone: ToneKind { messagesWaiting || features.forwarding ? .stutterDial : .dial }

    mutating func goOffHook() -> [PortAction] {
        switch line {
        case .idle:
            guard enabled else { return [] }
            guard registered else {
                line = .noService
                return [.playTone(.noService)]
            }
            if let number = settings.autoDial, settings.autoDialDelay == .zero {
                return placeCall(number)
            }
            line = .dialTone
            var out: [PortAction] = [.playTone(dialTone), .startTimer(.firstDigit, settings.firstDigitTimeout)]
            if settings.autoDial != nil { out.append(.startTimer(.autoDial, settings.autoDialDelay)) }
            return out
        case .ringing(let h):
            // Answer (the line already tripped the ring).
            line = .connected(h, other: nil)
            return [.stopRinging, .sip(.answer(h)), .connectMedia(h)]
        case .recalling(let h):
            line = .connected(h, other: nil)
            return [.stopRinging, .sip(.resume(h)), .connectMedia(h)]
        case .dialTone, .noService, .collecting, .outgoing, .connected, .conference, .disconnected, .waitingOnly, .howler, .lockout:
            return []  // already off-hook
        }
    }

    mutating func goOnHook() -> [PortAction] {
        if recallPending {
            recallPending = false
            return [.cancelTimer(.recallDigit)] + goOnHook()
        }
        if let held = consultation { return consultationOnHook(held) }
        switch line {
        case .idle, .ringing, .recalling:
            return []
        case .conference(let a, let b):
            return conferenceOnHook(a, b)
        case .dialTone, .noService, .howler, .lockout, .disconnected:
            line = .idle
            return [.stopTone] + cancelLineTimers() + visualIndicator()
        case .collecting:
            line = .idle
            return [.stopTone] + cancelLineTimers() + visualIndicator()
        case .outgoing(let h, _):
            line = .idle
            var out: [PortAction] = [.stopTone, .connectMedia(nil), .sip(.cancel(h))]
            if let t = transferredFrom, t.new == h {
                transferredFrom = nil
                out.append(.sip(.hangUp(t.old)))
            }
            return out + visualIndicator()
        case .waitingOnly(let w):
            line = .ringing(w)
            return [.stopTone, .startRinging(nil)]
        case .connected(let h, let other):
            var out: [PortAction] = [.stopTone, .connectMedia(nil), .sip(.hangUp(h))]
            if settings.reversePolarityOnAnswer { out.append(.setFeed(.forward)) }
            switch other {
            case nil:
                line = .idle
                out += visualIndicator()
            case .waiting(let o):
                // The waiting caller rings the phone: answering takes the call.
                line = .ringing(o)
                out.append(.startRinging(nil))
            case .held(let o):
                // The held call rings the phone again: answering takes it off hold.
                line = .recalling(o)
                out.append(.startRinging(nil))
            }
            return out
        }
    }

    mutating func flash() -> [PortAction] {
        if recallPending { return recallAbandoned() }
        if settings.hookFlash == .recallDigits, twoCallsTalking { return recall() }
        if let held = consultation { return consultationFlash(held) }
        switch line {
        case .connected(let h, let other):
            switch other {
            case .waiting(let w):
                line = .connected(w, other: .held(h))
                return [.stopTone, .sip(.hold(h)), .sip(.answer(w)), .connectMedia(w)]
            case .held(let o):
                line = .connected(o, other: .held(h))
                return [.sip(.hold(h)), .sip(.resume(o)), .connectMedia(o)]
            case nil:
                return consult(holding: h)
            }
        case .conference(let a, let b):
            // Flash in a three-way call drops the party added last.
            line = .connected(a, other: nil)
            return [.sip(.hangUp(b)), .connectMedia(a)]
        case .waitingOnly(let w):
            line = .connected(w, other: nil)
            return [.stopTone, .sip(.answer(w)), .connectMedia(w)]
        case .idle, .dialTone, .noService, .collecting, .outgoing, .ringing, .recalling, .disconnected, .howler, .lockout:
            return []
        }
    }

    mutating func digit(_ d: Character) -> [PortAction] {
        if recallPending { return recallDigit(d) }
        switch line {
        case .dialTone:
            line = .collecting("")
            return [.stopTone, .cancelTimer(.firstDigit), .cancelTimer(.autoDial)] + collect(d, so: "")
        case .collecting(let so):
            return collect(d, so: so)
        case .idle, .noService, .outgoing, .ringing, .recalling, .connected, .conference, .disconnected, .waitingOnly, .howler, .lockout:
            return []  // in a call, digits travel as media (RFC 4733 / in-band), not here
        }
    }

    mutating func collect(_ d: Character, so far: String) -> [PortAction] {
        let digits = far + String(d)
        // Feature codes first: one is never dialled out as a number.
        switch settings.featureCodes.verdict(digits, numberComplete: { settings.dialPlan.decide($0) == .dial }) {
        case .complete(let request, _):
            return [.cancelTimer(.interDigit)] + perform(request)
        case .incomplete:
            line = .collecting(digits)
            let numberOpen = settings.featureCodes.requestOnTimeout(digits) != nil
            return [.startTimer(.interDigit, numberOpen ? settings.shortInterDigit : settings.longInterDigit)]
        case .notACode:
            break
        }
        // A speed-dial code, then '#' (or the timeout): its number, whatever the plan says.
        if d == "#", let number = features.speedDials[far] { return [.cancelTimer(.interDigit)] + placeCall(number) }
        if features.speedDials.keys.contains(where: { $0.hasPrefix(digits) }) {
            line = .collecting(digits)
            return [.startTimer(.interDigit, settings.shortInterDigit)]
        }
        if d == "#", !far.isEmpty, settings.dialPlan.decide(digits) == .reject {
            // '#' ends dialling at once when the plan has no use for it.
            return [.cancelTimer(.interDigit)] + placeCall(far)
        }
        switch settings.dialPlan.decide(digits) {
        case .dial:
            return [.cancelTimer(.interDigit)] + placeCall(digits)
        case .waitShort:
            line = .collecting(digits)
            return [.startTimer(.interDigit, settings.shortInterDigit)]
        case .waitLong:
            line = .collecting(digits)
            return [.startTimer(.interDigit, settings.longInterDigit)]
        case .reject:
            return [.cancelTimer(.interDigit)] + disconnect(.congestion)
        }
    }

    /// Places a call to `number`; `withhold` overrides the CLIR setting for this call.
    mutating func placeCall(_ target: String, withhold: Bool? = nil, noCallWaiting: Bool = false) -> [PortAction] {
        features.lastDialled = target
        callWaitingSuppressed = noCallWaiting
        let h = newCallHandle()
        line = .outgoing(h, ringback: false)
        return [.stopTone, .sip(.invite(h, target: target, withholdIdentity: withhold ?? settings.withholdIdentity))]
    }

    mutating func disconnect(_ tone: ToneKind) -> [PortAction] {
        line = .disconnected(tone)
        return [.connectMedia(nil), .playTone(tone), .startTimer(.offHookWarning, settings.offHookWarning)]
    }

    mutating func timer(_ t: PortTimer) -> [PortAction] {
        switch (t, line) {
        case (.firstDigit, .dialTone):
            return [.cancelTimer(.autoDial)] + disconnect(.congestion)
        case (.autoDial, .dialTone):
            guard let number = settings.autoDial else { return [] }
            return [.cancelTimer(.firstDigit)] + placeCall(number)
        case (.interDigit, .collecting(let digits)):
            if let request = settings.featureCodes.requestOnTimeout(digits) { return perform(request) }
            if let number = features.speedDials[digits] { return placeCall(number) }
            if settings.dialPlan.completeOnTimeout(digits) { return placeCall(digits) }
            return disconnect(.congestion)
        case (.offHookWarning, .disconnected):
            line = .howler
            return [.playTone(.howler), .startTimer(.howler, settings.howlerDuration)]
        case (.howler, .howler):
            line = .lockout
            return [.stopTone]
        case (.ringTimeout, .ringing(let h)):
            // Nobody answered, nobody cancelled: give up the call ourselves.
            line = .idle
            return [.stopRinging, .sip(.reject(h, status: 480))] + visualIndicator()
        case (.ringTimeout, .recalling(let h)):
            // Nobody came back for the held call: it ends.
            line = .idle
            return [.stopRinging, .sip(.hangUp(h))] + visualIndicator()
        case (.transferGiveUp, _):
            return transferDone()
        case (.recallDigit, _):
            return recallPending ? recallAbandoned() : []
        case (.reconnect, _):
            return reconnectAfterFailedTransfer()
        case (.forwardNoAnswer, .ringing(let h)) where forwardTimerArmed:
            forwardTimerArmed = false
            guard let target = features.forwards[.noAnswer] else { return [] }
            line = .idle
            return [.stopRinging] + forward(h, to: target) + visualIndicator()
        case (.firstDigit, _), (.autoDial, _), (.interDigit, _), (.offHookWarning, _), (.howler, _), (.ringTimeout, _), (.forwardNoAnswer, _):
            return []  // a timer for a state already left
        }
    }
}
