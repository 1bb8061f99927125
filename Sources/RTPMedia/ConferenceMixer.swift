public import TipRingCore
import TelephonyDSP
public import PortAudio

/// Three-way calling: the handset and two calls, each hearing the other two at the level it
/// would hear them alone (sums saturate; nothing is attenuated). The port's engine plays the
/// two calls' sum to the handset; the handset's audio, its echo of that sum cancelled once
/// here, goes to each call together with the other call's audio. Runs in the audio period,
/// in pieces of one RTP frame, on buffers made once.
public final class ConferenceMixer: AudioSource, AudioCaptureConsumer, @unchecked Sendable {
    static let piece = MediaBridge.frame
    /// The longest period played in full (longer ones end in silence; ALSA periods here are
    /// 10–20 ms, 80–160 samples).
    public static let longestPeriod = 4096
    let first: MediaBridge, second: MediaBridge
    var echo: EchoCanceller
    let cancelsEcho: Bool
    var fromFirst: [Int16], fromSecond: [Int16], cleaned: [Int16], toFirst: [Int16], toSecond: [Int16]
    /// The sum of the two calls for the period under way (what the handset hears).
    var mixed: [Int16]
    var mixedCount = 0

    /// Takes over the two bridges' echo cancelling (set before either is in use).
    public init(_ first: MediaBridge, _ second: MediaBridge, echoCanceller: Bool) {
        self.first = first
        self.second = second
        cancelsEcho = echoCanceller
        echo = EchoCanceller(bulkDelaySamples: first.settings.echoBulkDelaySamples)
        first.cancelsEcho = false
        second.cancelsEcho = false
        fromFirst = [Int16](repeating: 0, count: Self.piece)
        fromSecond = fromFirst
        cleaned = fromFirst
        toFirst = fromFirst
        toSecond = fromFirst
        mixed = [Int16](repeating: 0, count: Self.longestPeriod)
    }

    /// The handset's period: each call's audio is taken from its jitter buffer, the calls'
    /// sum is kept for the handset, and each call is sent the handset plus the other call.
    public func consume(_ capture: UnsafeBufferPointer<Int16>, at time: Instant) {
        mixedCount = 0
        var offset = 0
        while offset < capture.count {
            let n = min(Self.piece, capture.count - offset)
            fromFirst.withUnsafeMutableBufferPointer { first.render(into: UnsafeMutableBufferPointer(rebasing: $0[0..<n]), at: time) }
            fromSecond.withUnsafeMutableBufferPointer { second.render(into: UnsafeMutableBufferPointer(rebasing: $0[0..<n]), at: time) }
            let room = max(0, min(n, Self.longestPeriod - mixedCount))
            for k in 0..<n {
                let sum = Int16(clamping: Int32(fromFirst[k]) + Int32(fromSecond[k]))
                // The echo reference is what the handset is played; the canceller's history
                // holds it from the moment it is known.
                let near = capture[offset + k]
                cleaned[k] = cancelsEcho ? echo.process(farEnd: sum, nearEnd: near) : near
                if k < room { mixed[mixedCount + k] = sum }
                toFirst[k] = Int16(clamping: Int32(cleaned[k]) + Int32(fromSecond[k]))
                toSecond[k] = Int16(clamping: Int32(cleaned[k]) + Int32(fromFirst[k]))
            }
            mixedCount += room
            toFirst.withUnsafeBufferPointer { first.consume(UnsafeBufferPointer(rebasing: $0[0..<n]), at: time) }
            toSecond.withUnsafeBufferPointer { second.consume(UnsafeBufferPointer(rebasing: $0[0..<n]), at: time) }
            offset += n
        }
    }

    public func render(into out: UnsafeMutableBufferPointer<Int16>, at time: Instant) {
        let n = min(out.count, mixedCount)
        for k in 0..<n { out[k] = mixed[k] }
        for k in n..<out.count { out[k] = 0 }
    }
}
