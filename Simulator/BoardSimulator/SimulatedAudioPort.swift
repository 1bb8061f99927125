#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import LineHAL
import TipRingCore

/// A port's PCM codec in the simulator: every period (on the scheduler) it fills the
/// capture frame from the telephone's mouthpiece, calls the handler, and gives the
/// playback frame to the telephone's earpiece `playbackDelay` later — the buffer a real
/// sound device keeps queued (ALSA: the two periods primed before the first). Buffers are
/// allocated once.
public final class SimulatedAudioPort: AudioPort {
    public let name: String
    public let format: AudioFormat
    let telephone: SimulatedTelephone
    let scheduler: any Scheduler
    let capture: UnsafeMutableBufferPointer<Int16>
    let playback: UnsafeMutableBufferPointer<Int16>
    var handler: (any AudioPeriodHandler)?
    var timer: TimerHandle?
    var nextPeriod: Instant = .zero
    /// Periods run since start.
    public private(set) var periods: Int = 0
    /// How long a played frame waits before the earpiece hears it: a whole number of periods,
    /// two by default as on ALSA (set before ``start(handler:)``; zero models no buffer).
    public var playbackDelay: Duration {
        get { format.period * delayPeriods }
        set {
            delayPeriods = max(0, Int((newValue / format.period).rounded(.up)))
            // While running: the queue starts again from silence, and the handler is told.
            if let handler { restartDelayLine(telling: handler) }
        }
    }
    var delayPeriods = 2
    /// The frames played but not yet heard, oldest first (a ring of `delayPeriods` frames).
    var delayLine: UnsafeMutableBufferPointer<Int16> = .allocate(capacity: 0)
    var delayHead = 0

    /// The line's own echo: the SLIC's 2-to-4-wire hybrid never matches a real line's
    /// impedance, so part of what the line plays comes back into what it captures —
    /// `returnLoss` dB down, `delay` samples later (a few: the line and the codec). Nil: none.
    public var hybridEcho: (returnLoss: Double, delay: Int)? {
        didSet {
            echoHistory = [Int16](repeating: 0, count: (hybridEcho?.delay ?? 0) + format.framesPerPeriod)
            echoGain = hybridEcho.map { Float(pow(10, -$0.returnLoss / 20)) } ?? 0
        }
    }
    /// What the line played, the last `delay` + one period of it, oldest first.
    var echoHistory: [Int16] = []
    var echoGain: Float = 0

    init(name: String, format: AudioFormat, telephone: SimulatedTelephone, scheduler: any Scheduler) {
        self.name = name
        self.format = format
        self.telephone = telephone
        self.scheduler = scheduler
        capture = .allocate(capacity: format.framesPerPeriod)
        playback = .allocate(capacity: format.framesPerPeriod)
        capture.initialize(repeating: 0)
        playback.initialize(repeating: 0)
        telephone.earpiece.sampleRate = format.sampleRate
    }

    deinit {
        capture.deallocate()
        playback.deallocate()
        delayLine.deallocate()
    }

    public var isRunning: Bool { handler != nil }

    public func start(handler: any AudioPeriodHandler) throws(HALError) {
        if refusedStarts > 0 {
            refusedStarts -= 1
            throw HALError.systemCall(call: "snd_pcm_open", subject: name, errno: 5, message: "Input/output error (simulated)")
        }
        guard self.handler == nil else { throw HALError.unsupported("\(name) is already started") }
        self.handler = handler
        restartDelayLine(telling: handler)
        nextPeriod = scheduler.now + format.period
        schedule()
    }

    public func stop() {
        if let t = timer { scheduler.cancel(t) }
        timer = nil
        handler = nil
        failure = nil
        stalled = false
    }

    /// Set by ``fail(_:)``: the device failed and its periods stopped.
    public private(set) var failure: String?
    /// Starts still to be refused (a device that stays broken for a while after failing).
    public var refusedStarts = 0
    /// Set by ``stall()``: the periods stopped without an error (a hung audio thread).
    public private(set) var stalled = false

    /// The sound device fails as ALSA reports it: periods stop, ``failure`` says why (a
    /// fault the driver sees and reports).
    public func fail(_ reason: String) {
        if let t = timer { scheduler.cancel(t) }
        timer = nil
        failure = "\(name): \(reason)"
    }

    /// The periods stop with no error at all (a thread stuck in a driver): only a watchdog
    /// can notice.
    public func stall() {
        if let t = timer { scheduler.cancel(t) }
        timer = nil
        stalled = true
    }

    /// The device starts with silence queued, as ALSA's priming does.
    private func restartDelayLine(telling handler: any AudioPeriodHandler) {
        delayLine.deallocate()
        delayLine = .allocate(capacity: delayPeriods * format.framesPerPeriod)
        delayLine.initialize(repeating: 0)
        delayHead = 0
        handler.playbackDelayChanged(playbackDelay)
    }

    /// Adds the hybrid's echo of `played` (this period at the line) to `capture`, and keeps
    /// it for the echo of later periods.
    private func addEcho(of played: UnsafeBufferPointer<Int16>, into capture: UnsafeMutableBufferPointer<Int16>) {
        guard let echo = hybridEcho else { return }
        let n = played.count, d = echo.delay
        // History: [older … | this period], `d` samples before this period's start.
        echoHistory.withUnsafeMutableBufferPointer { h in
            for i in 0..<d { h[i] = h[i + n] }
            for i in 0..<n { h[d + i] = played[i] }
            for i in 0..<n {
                let v = Float(capture[i]) + echoGain * Float(h[i])
                capture[i] = Int16(max(-32768, min(32767, v.rounded())))
            }
        }
    }

    private func schedule() {
        timer = scheduler.schedule(at: nextPeriod) { [weak self] in self?.period() }
    }

    private func period() {
        guard let handler else { return }
        let t = nextPeriod
        // The period that just ended: what the line played during it (queued earlier: the
        // device's delay), what the mouthpiece said with the line's echo of that, then what
        // the handler makes of it.
        let n = format.framesPerPeriod
        if delayLine.isEmpty {
            // With no device buffer the line plays a frame only once it is made: its echo
            // reaches the next capture (`playback` still holds the last period's frame).
            telephone.mouthpiece.fill(capture, at: t)
            addEcho(of: UnsafeBufferPointer(playback), into: capture)
            handler.processPeriod(capture: UnsafeBufferPointer(capture), playback: playback, at: t)
            telephone.earpiece.receive(UnsafeBufferPointer(playback), at: t)
        } else {
            let slot = UnsafeMutableBufferPointer(rebasing: delayLine[delayHead..<(delayHead + n)])
            telephone.earpiece.receive(UnsafeBufferPointer(slot), at: t)
            telephone.mouthpiece.fill(capture, at: t)
            addEcho(of: UnsafeBufferPointer(slot), into: capture)
            handler.processPeriod(capture: UnsafeBufferPointer(capture), playback: playback, at: t)
            _ = slot.update(fromContentsOf: playback)
            delayHead = (delayHead + n) % delayLine.count
        }
        periods += 1
        nextPeriod = t + format.period
        schedule()
    }
}
