public import TipRingCore
public import TelephonyDSP

/// Plays a tone as a port's audio source.
public final class ToneSource: AudioSource, @unchecked Sendable {
    private var synth: ToneSynthesizer
    public let kind: ToneKind?

    public init(_ tone: Tone, kind: ToneKind? = nil) {
        synth = ToneSynthesizer(tone)
        self.kind = kind
    }

    public func render(into frame: UnsafeMutableBufferPointer<Int16>, at time: Instant) {
        synth.render(into: frame)
    }
}

/// Listens for DTMF keys in a port's captured audio.
///
/// Runs on the audio thread; each key found is handed to `onKey` with the time of the
/// period it ended in. On hardware `onKey` must hand over to the control plane.
public final class DTMFReceiver: AudioCaptureConsumer, @unchecked Sendable {
    private var detector = DTMFDetector()
    private let onKey: (Character, Instant) -> Void

    public init(onKey: @escaping (Character, Instant) -> Void) {
        self.onKey = onKey
    }

    /// Whether a key is sounding now (media uses it to keep the tone out of the audio).
    public private(set) var keyPresent = false

    public func consume(_ frame: UnsafeBufferPointer<Int16>, at time: Instant) {
        let handler = onKey
        detector.process(frame) { key, _ in handler(key, time) }
        keyPresent = detector.keySounding
    }
}
