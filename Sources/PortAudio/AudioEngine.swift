public import TipRingCore
public import LineHAL

/// Produces the playback audio of a port, one period at a time: a tone, a caller-ID
/// spill, decoded media, … Called on the audio thread; must not block or allocate.
public protocol AudioSource: AnyObject {
    func render(into frame: UnsafeMutableBufferPointer<Int16>, at time: Instant)
}

/// Receives every captured period of a port: the DTMF detector, the media encoder, …
/// Called on the audio thread; must not block or allocate.
public protocol AudioCaptureConsumer: AnyObject {
    func consume(_ frame: UnsafeBufferPointer<Int16>, at time: Instant)
}

/// A port's audio engine: one period at a time, the captured frame goes to every
/// registered consumer, and the playback frame comes from the one active source (or is
/// silence). Tones and media never mix: switching the source is a single hand-off from
/// the control plane, taken at a period boundary.
///
/// The audio thread takes a short lock only to read the current source and consumer
/// list (no allocation: the list is copied by reference); changes are made on the control
/// plane.
public final class AudioEngine: AudioPeriodHandler, @unchecked Sendable {
    private let lock = ConditionLock()
    private var source: (any AudioSource)?
    private var consumers: [any AudioCaptureConsumer] = []
    private var sourceGeneration: UInt64 = 0
    /// Periods begun since creation (counted under the lock: the watchdog reads it from
    /// another thread to see that the audio thread is alive).
    private var periodCount: UInt64 = 0
    public var periods: UInt64 { lock.withLock { periodCount } }
    /// The source generation the last period played (tests check hand-off boundaries).
    public private(set) var playedGeneration: UInt64 = 0
    private var delay: Duration = .zero
    /// From a played frame to the line: the device's buffer, as the audio port last reported
    /// it (zero until it does).
    public var playbackDelay: Duration { lock.withLock { delay } }

    public init() {}

    /// Makes `source` the one playback source from the next period on (nil = silence).
    public func setSource(_ source: (any AudioSource)?) {
        lock.withLock {
            self.source = source
            sourceGeneration &+= 1
        }
    }

    /// The active source.
    public var currentSource: (any AudioSource)? { lock.withLock { source } }

    public func addConsumer(_ c: any AudioCaptureConsumer) {
        lock.withLock {
            if !consumers.contains(where: { $0 === c }) { consumers.append(c) }
        }
    }

    public func removeConsumer(_ c: any AudioCaptureConsumer) {
        lock.withLock { consumers.removeAll { $0 === c } }
    }

    public func playbackDelayChanged(_ delay: Duration) {
        lock.withLock { self.delay = delay }
    }

    public func processPeriod(capture: UnsafeBufferPointer<Int16>, playback: UnsafeMutableBufferPointer<Int16>, at time: Instant) {
        lock.lock()
        let src = source
        let list = consumers
        let generation = sourceGeneration
        periodCount &+= 1
        lock.unlock()
        for c in list { c.consume(capture, at: time) }
        if let src {
            src.render(into: playback, at: time)
        } else {
            playback.update(repeating: 0)
        }
        playedGeneration = generation
    }
}

/// Plays a fixed sample buffer, once or looped, then silence. For tests, prompts and the
/// bring-up tool.
public final class SampleBufferSource: AudioSource, @unchecked Sendable {
    private let samples: [Int16]
    private let loops: Bool
    private var position = 0

    public init(samples: [Int16], loops: Bool = false) {
        self.samples = samples
        self.loops = loops
    }

    public var isFinished: Bool { !loops && position >= samples.count }

    public func render(into frame: UnsafeMutableBufferPointer<Int16>, at time: Instant) {
        samples.withUnsafeBufferPointer { s in
            for i in 0..<frame.count {
                if position >= s.count {
                    if loops && !s.isEmpty { position = 0 } else { frame[i] = 0; continue }
                }
                frame[i] = s[position]
                position += 1
            }
        }
    }
}
