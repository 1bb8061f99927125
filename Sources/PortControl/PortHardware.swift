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
    /// How long audio played now takes, at most, to be heard at the line: what the line does
    /// after it (the feed restored after caller ID, the ring after the data) waits as long.
    var audioToLineDelay: Duration { get }
    /// Connects a call's audio to the handset (nil: disconnect).
    func connectMedia(_ call: CallHandle?)
    /// Connects two calls and the handset, each hearing the other two (three-way calling).
    func connectConference(_ first: CallHandle, _ second: CallHandle)
    /// Joins two calls to each other without the handset (nil: parts them).
    func relayMedia(_ calls: (CallHandle, CallHandle)?)
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
    /// Each seizure's time to tone, as it is measured (metrics).
    public var onSeizureToTone: ((Duration) -> Void)?
    /// Connects a call's audio (the media layer); without one, calls are silent.
    public var mediaConnector: ((CallHandle?) -> Void)?
    /// Connects two calls and the handset (the media layer's conference).
    public var conferenceConnector: ((CallHandle, CallHandle) -> Void)?
    /// Joins two calls without the handset (the media layer's relay).
    public var relayConnector: (((CallHandle, CallHandle)?) -> Void)?
    /// The source to play while a call is connected (after a tone such as call waiting).
    public var mediaSource: (() -> (any AudioSource)?)?

    /// Told when the port's sound device must run (true) or may stop (false): only while the
    /// loop is closed, a call's audio or a relay is connected, or something plays (on-hook
    /// transmission: caller ID, message waiting). On-hook and silent — a router's life — the
    /// PCM, the keypad detector and their wake-ups stop. Starts are at once (the loop closing
    /// starts the audio before the seizure is confirmed, so dial tone is not delayed); stops
    /// wait ``audioIdleGrace`` (a short break, samples still playing).
    public var onAudioNeeded: ((Bool) -> Void)? {
        didSet {
            onAudioNeeded?(audioNeeded)
            updateAudioNeed()
        }
    }
    /// Whether the sound device runs, as last told.
    public private(set) var audioNeeded = true
    public static let audioIdleGrace: Duration = .seconds(1)
    private var relaying = false
    private var idleCheck: TimerHandle?

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
            self.updateAudioNeed()
            self.onHookEvent?(e.kind)
            if case .offHook = e.kind {
                let toTone = scheduler.now - e.at
                self.lastSeizureToTone = toTone
                self.onSeizureToTone?(toTone)
            }
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
        updateAudioNeed()
    }
    public func playSamples(_ samples: [Int16]) {
        engine.setSource(SampleBufferSource(samples: samples))
        updateAudioNeed()
    }
    /// A source set now plays from the next period (at most 20 ms away), then waits out the
    /// device's buffer.
    public var audioToLineDelay: Duration { engine.playbackDelay + .milliseconds(20) }
    public func connectMedia(_ call: CallHandle?) {
        mediaCall = call
        updateAudioNeed()
        if let c = mediaConnector { c(call) } else { engine.setSource(nil) }
    }
    public func relayMedia(_ calls: (CallHandle, CallHandle)?) {
        relaying = calls != nil
        updateAudioNeed()
        relayConnector?(calls)
    }
    public func connectConference(_ first: CallHandle, _ second: CallHandle) {
        mediaCall = first
        updateAudioNeed()
        if let c = conferenceConnector { c(first, second) } else { engine.setSource(nil) }
    }

    /// Something that holds the audio until it is told otherwise: the loop closed, a call's
    /// audio or a relay connected.
    private var audioHeld: Bool { line.decoder.loopIsClosed || mediaCall != nil || relaying }

    /// Something playing that ends by itself (caller ID, a message-waiting signal).
    private var audioPlaying: Bool {
        guard let source = engine.currentSource else { return false }
        return !((source as? SampleBufferSource)?.isFinished ?? false)
    }

    /// Starts the audio at once when it is needed; stops it once nothing has needed it for
    /// the grace time (looking again while only a playing source keeps it).
    private func updateAudioNeed() {
        let held = audioHeld
        if held || audioPlaying { setAudioNeeded(true) }
        if held {
            if let t = idleCheck { scheduler.cancel(t) }
            idleCheck = nil
        } else if audioNeeded && idleCheck == nil {
            idleCheck = scheduler.schedule(after: Self.audioIdleGrace) { [weak self] in
                guard let self else { return }
                self.idleCheck = nil
                if self.audioHeld || self.audioPlaying { self.updateAudioNeed() } else { self.setAudioNeeded(false) }
            }
        }
    }

    private func setAudioNeeded(_ needed: Bool) {
        guard needed != audioNeeded else { return }
        audioNeeded = needed
        onAudioNeeded?(needed)
    }
}

final class WeakBox<T: AnyObject>: @unchecked Sendable {
    weak var value: T?
}
