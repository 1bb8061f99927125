public import TipRingCore

/// The PCM format of a port: 16-bit signed linear mono samples at `sampleRate`, moved one
/// period at a time.
public struct AudioFormat: Sendable, Hashable, CustomStringConvertible {
    public var sampleRate: Int
    /// 10 or 20 ms.
    public var periodMilliseconds: Int

    public init(sampleRate: Int = 8000, periodMilliseconds: Int = 20) {
        self.sampleRate = sampleRate
        self.periodMilliseconds = periodMilliseconds
    }

    public static let narrowband20ms = AudioFormat(sampleRate: 8000, periodMilliseconds: 20)

    /// Samples in one period (160 at 8 kHz / 20 ms).
    public var framesPerPeriod: Int { sampleRate * periodMilliseconds / 1000 }

    public var period: Duration { .milliseconds(periodMilliseconds) }

    public var description: String { "S16 mono \(sampleRate) Hz, \(periodMilliseconds) ms periods" }
}

/// Called once per audio period by an ``AudioPort``.
///
/// `capture` holds what the telephone's mouthpiece sent during the period; the handler
/// fills `playback` with what its earpiece gets next. Runs on the audio thread (hardware)
/// or on the scheduler (simulator): it must not block, lock for long, or allocate.
public protocol AudioPeriodHandler: AnyObject {
    func processPeriod(capture: UnsafeBufferPointer<Int16>, playback: UnsafeMutableBufferPointer<Int16>, at time: Instant)
    /// How long a playback frame takes to reach the line after the handler filled it (the
    /// device's buffer: `snd_pcm_delay` on ALSA), told when it changes. Whatever must follow
    /// audio at the line — the polarity restored after caller ID, the echo the line returns —
    /// waits for it.
    func playbackDelayChanged(_ delay: Duration)
}

extension AudioPeriodHandler {
    public func playbackDelayChanged(_ delay: Duration) {}
}

/// A port's PCM audio path (ALSA on hardware, the simulated codec in the simulator).
///
/// The device's own clock drives the periods; the port never paces itself.
public protocol AudioPort: AnyObject {
    /// The device name from the board file.
    var name: String { get }
    var format: AudioFormat { get }
    /// Starts calling `handler` once per period.
    func start(handler: any AudioPeriodHandler) throws(HALError)
    /// Stops the periods; no call to the handler follows the return.
    func stop()
    /// Why the periods stopped by themselves (a device error recovery could not fix); nil
    /// while they run, and after ``stop()``.
    var failure: String? { get }
}

/// Stands in for a sound device that could not be opened (or was closed to be opened again):
/// no periods, and ``failure`` says why — the port shows the fault while it is retried.
public final class UnavailableAudioPort: AudioPort {
    public let name: String
    public let format: AudioFormat
    public let failure: String?

    public init(name: String, format: AudioFormat, reason: String) {
        self.name = name
        self.format = format
        failure = reason
    }

    public func start(handler: any AudioPeriodHandler) throws(HALError) {
        throw HALError.unsupported("\(name) is not open (\(failure ?? "closed"))")
    }

    public func stop() {}
}
