public import TipRingCore
public import TelephonyDSP

/// An analog telephone on a simulated port: hook switch (optionally bouncing), rotary dial,
/// keypad, earpiece, mouthpiece and bell.
///
/// Every action is scheduled on the scheduler at a given time, so a test writes a whole
/// scenario up front or step by step; the simulated SLIC sees only the hook contact, as a
/// real one would.
public final class SimulatedTelephone {
    public let port: Int
    let scheduler: any Scheduler

    /// Whether the hook contact is closed (handset lifted), as the SLIC sees it.
    public private(set) var contactClosed = false
    /// Called when the hook contact changes (the SLIC model listens).
    var onContactChange: ((Bool) -> Void)?

    /// When set, each hook change bounces: 1–3 extra open/close pairs within 2–5 ms,
    /// drawn from the virtual scheduler's seeded random source when there is one.
    public var bounces = false
    private var random = SeededRandom(seed: 0x7E1E)

    /// Keys pressed on the keypad, with time.
    public private(set) var keysPressed: [(key: Character, at: Instant)] = []
    /// Called at each key press (for timelines); the key itself is heard as DTMF audio.
    public var onKeyPress: ((Character, Duration) -> Void)?
    /// The keypad's DTMF levels (dBm0, low and high group).
    public var dtmfLevels: (low: Double, high: Double) = (-10, -8)

    public let earpiece = Earpiece()
    public let mouthpiece = Mouthpiece()
    public let bell = Bell()
    /// The line's DC state as the phone sees it.
    public internal(set) var linePowered = false
    public internal(set) var lineReversed = false
    /// Polarity reversals seen (time, reversed), e.g. for caller ID before ringing.
    public private(set) var polarityChanges: [(at: Instant, reversed: Bool)] = []

    init(port: Int, scheduler: any Scheduler) {
        self.port = port
        self.scheduler = scheduler
    }

    // MARK: hook switch

    /// Lifts the handset at `time` (default: now).
    public func liftHandset(at time: Instant? = nil) { setContact(true, at: time ?? scheduler.now) }

    /// Puts the handset down at `time` (default: now).
    public func hangUp(at time: Instant? = nil) { setContact(false, at: time ?? scheduler.now) }

    /// Presses the hook switch (or the R key) for `duration`, starting at `time`.
    /// Returns when the contact closes again.
    @discardableResult
    public func flash(for duration: Duration, at time: Instant? = nil) -> Instant {
        let t = time ?? scheduler.now
        setContact(false, at: t)
        setContact(true, at: t + duration)
        return t + duration
    }

    /// Dials `digits` on the rotary dial from `time`: each digit is n breaks (10 for 0) at
    /// `pulsesPerSecond` with `breakRatio` of each pulse period open, digits separated by
    /// `interDigit` of closed loop. Returns the time the last pulse ends.
    @discardableResult
    public func dialPulses(
        _ digits: String, pulsesPerSecond: Double = 10, breakRatio: Double = 0.6,
        interDigit: Duration = .milliseconds(700), at time: Instant? = nil
    ) -> Instant {
        var t = time ?? scheduler.now
        let period = 1e9 / pulsesPerSecond
        let breakNs = Int64((period * breakRatio).rounded())
        let makeNs = Int64((period * (1 - breakRatio)).rounded())
        for (i, ch) in digits.enumerated() {
            guard let d = ch.wholeNumberValue else { continue }
            if i > 0 { t = t + interDigit }
            let pulses = d == 0 ? 10 : d
            for p in 0..<pulses {
                setContact(false, at: t)
                t = t + .nanoseconds(breakNs)
                setContact(true, at: t)
                if p < pulses - 1 { t = t + .nanoseconds(makeNs) }
            }
        }
        return t
    }

    /// Presses keys on the keypad, one per `interval`, each held `duration`: the keypad
    /// sends real DTMF into the mouthpiece.
    @discardableResult
    public func press(_ keys: String, duration: Duration = .milliseconds(100), interval: Duration = .milliseconds(200), at time: Instant? = nil) -> Instant {
        var t = time ?? scheduler.now
        for k in keys {
            scheduler.schedule(at: t) { [weak self] in
                guard let self else { return }
                self.keysPressed.append((k, self.scheduler.now))
                self.onKeyPress?(k, duration)
                let g = DTMFGenerator(lowLevel: self.dtmfLevels.low, highLevel: self.dtmfLevels.high,
                                      onMilliseconds: Int(duration.milliseconds), offMilliseconds: 0)
                if let f = DTMF.frequencies(of: k) { self.mouthpiece.speak(g.tone(low: f.low, high: f.high)) }
            }
            t = t + interval
        }
        return t
    }

    private func setContact(_ closed: Bool, at t: Instant) {
        var edges: [(Instant, Bool)] = []
        if bounces {
            // The contact chatters before it settles on its final state.
            let n = 1 + Int(random.next() % 3)
            var u = t
            for _ in 0..<n {
                edges.append((u, closed))
                u = u + .microseconds(Int64(500 + random.next() % 1500))
                edges.append((u, !closed))
                u = u + .microseconds(Int64(500 + random.next() % 1000))
            }
            edges.append((u, closed))
        } else {
            edges.append((t, closed))
        }
        for (when, state) in edges {
            scheduler.schedule(at: when) { [weak self] in
                guard let self, self.contactClosed != state else { return }
                self.contactClosed = state
                self.onContactChange?(state)
            }
        }
    }

    func recordPolarity(reversed: Bool) {
        guard reversed != lineReversed else { return }
        lineReversed = reversed
        polarityChanges.append((scheduler.now, reversed))
        if linePowered { earpiece.lineReversal(at: scheduler.now, toReversed: reversed) }
    }
}

/// Records every sample the port plays to the telephone.
public final class Earpiece {
    /// All samples, from the first period played.
    public private(set) var samples: [Int16] = []
    /// When the first recorded sample was played.
    public private(set) var startedAt: Instant?
    public var sampleRate = 8000
    /// Set false to stop recording (long runs).
    public var isRecording = true

    public init() {}

    /// Keep only about this many seconds of audio (a long-running daemon); nil keeps all.
    public var retainSeconds: Int?

    /// Polarity reversals not yet heard (time, direction), oldest first, and what is left of
    /// the last one's transient.
    private var reversals: [(at: Instant, toReversed: Bool)] = []
    private var transient: Float = 0

    /// The line's polarity changed: tip and ring swap ~100 V, which reaches the telephone's
    /// audio path (and its caller-ID receiver) through the coupling capacitor as a decaying
    /// click of a few milliseconds — enough to ruin the FSK bits under it, as on a real line.
    func lineReversal(at time: Instant, toReversed: Bool) {
        reversals.append((time, toReversed))
    }

    /// The click's peak and its decay per sample (time constant 2 ms at 8 kHz).
    static let transientPeak: Float = 24_000, transientDecay: Float = 0.94

    func receive(_ frame: UnsafeBufferPointer<Int16>, at time: Instant) {
        guard isRecording else {
            reversals.removeAll()
            transient = 0
            return
        }
        // A frame is stamped with the end of its period: its first sample is older.
        let frameStart = time - .nanoseconds(Int64(frame.count) * 1_000_000_000 / Int64(sampleRate))
        if startedAt == nil { startedAt = frameStart }
        fillSilence(before: frameStart)
        let first = samples.count
        samples.append(contentsOf: frame)
        if !reversals.isEmpty || transient != 0 { addTransients(from: first, frameStart: frameStart) }
        // Trimmed once a second's worth is over: the recording stays within a second of `keep`.
        if let keep = retainSeconds, samples.count > (keep + 1) * sampleRate, let s = startedAt {
            let drop = samples.count - keep * sampleRate
            samples.removeFirst(drop)
            startedAt = s + .nanoseconds(Int64(drop) * 1_000_000_000 / Int64(sampleRate))
        }
    }

    /// The longest silence recorded as samples (or what ``retainSeconds`` keeps, if less): a
    /// longer pause starts the recording afresh.
    static let longestRecordedSilence: Duration = .seconds(900)

    /// While the port's audio was stopped (an idle line) the earpiece heard silence: it is
    /// recorded as such, so that a time still maps to its sample.
    private func fillSilence(before frameStart: Instant) {
        guard let s = startedAt else { return }
        let expected = s + .nanoseconds(Int64(samples.count) * 1_000_000_000 / Int64(sampleRate))
        let gap = frameStart - expected
        guard gap >= .milliseconds(1) else { return }
        if gap > min(Self.longestRecordedSilence, retainSeconds.map { .seconds($0) } ?? Self.longestRecordedSilence) {
            samples.removeAll(keepingCapacity: true)
            startedAt = frameStart
            return
        }
        samples.append(contentsOf: repeatElement(0, count: Int(gap.nanoseconds * Int64(sampleRate) / 1_000_000_000)))
    }

    /// Adds the clicks of the reversals that fall in the frame just appended (from `first`).
    private func addTransients(from first: Int, frameStart: Instant) {
        reversals.removeAll { $0.at < frameStart }
        let nanosecondsPerSample = Int64(1_000_000_000 / sampleRate)
        for i in first..<samples.count {
            let t = frameStart + .nanoseconds(Int64(i - first) * nanosecondsPerSample)
            while let r = reversals.first, r.at <= t {
                transient += r.toReversed ? -Self.transientPeak : Self.transientPeak
                reversals.removeFirst()
            }
            guard transient != 0 else { continue }
            samples[i] = Int16(max(-32768, min(32767, Float(samples[i]) + transient)))
            transient *= Self.transientDecay
            if abs(transient) < 1 { transient = 0 }
        }
    }

    /// What the phone's caller-ID display shows for the audio between two times.
    public func callerID(from: Instant, to: Instant, scheme: CallerIDScheme) -> [CallerIDMessage] {
        CallerIDReceiver.decode(Array(samples(from: from, to: to)), scheme: scheme)
    }

    /// The call-progress tone of `plan` the earpiece heard between two times, if any.
    public func tone(from: Instant, to: Instant, plan: RegionTonePlan) -> ToneKind? {
        CallProgressDetector(plan: plan).classify(Array(samples(from: from, to: to)))
    }

    /// The samples played between two times.
    public func samples(from: Instant, to: Instant) -> ArraySlice<Int16> {
        guard let s = startedAt else { return [] }
        func index(_ t: Instant) -> Int {
            min(max(0, Int((t - s).nanoseconds * Int64(sampleRate) / 1_000_000_000)), samples.count)
        }
        return samples[index(from)..<index(to)]
    }

    /// Forgets what was recorded; `releasingMemory` also gives the buffer back.
    public func clear(releasingMemory: Bool = false) {
        samples.removeAll(keepingCapacity: !releasingMemory)
        startedAt = nil
    }
}

/// What the telephone's microphone sends: queued samples, then silence.
public final class Mouthpiece {
    private var queue: [Int16] = []
    private var position = 0
    /// Called to make audio when the queue is empty (a test tone generator, …).
    public var generator: ((UnsafeMutableBufferPointer<Int16>, Instant) -> Void)?

    public init() {}

    /// Queues samples to be spoken from the next period on.
    public func speak(_ samples: [Int16]) {
        if position > 0 {
            queue.removeFirst(position)
            position = 0
        }
        queue.append(contentsOf: samples)
    }

    func fill(_ frame: UnsafeMutableBufferPointer<Int16>, at time: Instant) {
        var i = 0
        while i < frame.count, position < queue.count {
            frame[i] = queue[position]
            i += 1
            position += 1
        }
        if i < frame.count {
            if let generator, i == 0 {
                generator(frame, time)
            } else {
                for j in i..<frame.count { frame[j] = 0 }
            }
        }
    }
}

/// The telephone's bell: records each ring burst (ring mode on … off) and the ring signal's
/// half-cycles inside it, so tests measure frequency and cadence as the phone got them.
public final class Bell {
    public struct Burst: Sendable, Hashable {
        public var start: Instant
        public var end: Instant
        /// Polarity flips seen during the burst.
        public var halfCycles: Int
        public var firstFlip: Instant?
        public var lastFlip: Instant?
        /// For SLICs with an internal generator, the frequency they were told to make.
        public var nominalFrequency: Double?

        public var duration: Duration { end - start }

        /// The ring frequency measured from the flips (n flips over the time between the
        /// first and last is (n − 1) half-cycles).
        public var frequency: Double? {
            if let nominalFrequency { return nominalFrequency }
            guard halfCycles >= 3, let a = firstFlip, let b = lastFlip, b > a else { return nil }
            return Double(halfCycles - 1) / (2 * (b - a).seconds)
        }
    }

    public private(set) var bursts: [Burst] = []
    var current: Burst?
    /// Called when a burst ends, with what the bell measured.
    public var onBurstEnd: ((Burst) -> Void)?

    public init() {}

    public var isRinging: Bool { current != nil }

    func ringStart(at t: Instant, nominalFrequency: Double? = nil) {
        guard current == nil else { return }
        current = Burst(start: t, end: t, halfCycles: 0, nominalFrequency: nominalFrequency)
    }

    func flip(at t: Instant) {
        guard current != nil else { return }
        current!.halfCycles += 1
        if current!.firstFlip == nil { current!.firstFlip = t }
        current!.lastFlip = t
    }

    func ringStop(at t: Instant) {
        guard var b = current else { return }
        b.end = t
        current = nil
        // A ring mode with no AC on it makes no sound.
        if b.end > b.start && (b.halfCycles > 0 || b.nominalFrequency != nil) {
            bursts.append(b)
            onBurstEnd?(b)
        }
    }

    public func clear() { bursts.removeAll() }
}

extension Mouthpiece {
    /// Speaks a tone for ever (a test signal: `Tone("1004", level: -10)`).
    public func play(_ tone: Tone) {
        final class Box { var synth: ToneSynthesizer; init(_ s: ToneSynthesizer) { synth = s } }
        let box = Box(ToneSynthesizer(tone))
        generator = { frame, _ in box.synth.render(into: frame) }
    }
}

extension Earpiece {
    /// The frequency (zero crossings, interpolated) and level (dBm0) of a single tone heard
    /// between two times.
    public func sine(from: Instant, to: Instant) -> (frequency: Double, level: Double) {
        Level.sine(Array(samples(from: from, to: to)), sampleRate: sampleRate)
    }

    /// The level (dBm0) of one frequency in what was heard between two times — a Goertzel
    /// filter over the whole span, so several voices (a three-way call) are told apart.
    public func level(at frequency: Double, from: Instant, to: Instant) -> Double {
        Level.level(at: frequency, in: samples(from: from, to: to), sampleRate: sampleRate)
    }
}
