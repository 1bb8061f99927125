#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// A line echo canceller for the hybrid echo of an analog line (ITU-T G.168 style).
///
/// The port plays the far end's voice into the line (`farEnd`); the 2-to-4-wire hybrid
/// leaks part of it back into what the port captures (`nearEnd`). A normalised-LMS filter
/// of `tail` length models that echo path and subtracts its estimate.
/// - **Double talk** (Geigel detector): while the near end is louder than half the
///   loudest recent far-end sample, adaptation stops (with a 30 ms hangover), so speech
///   from the local phone never trains the filter away.
/// - **Tone disabler** (G.164/G.165): a 2100 Hz answer tone (fax, modem) lasting 400 ms on
///   either path bypasses the canceller; it comes back after 250 ms without the tone.
///
/// - **Bulk delay**: a sound device plays what it is given some periods later (ALSA's
///   queued buffer), and the echo comes back that much later again. The far end is delayed
///   by that known amount before the filter, whose taps then cover only the line's own echo
///   path — as long a filter over the whole round trip would cost 4× the work and adapt worse.
///
/// No allocation per sample; the far-end history is a double-length ring, so the filter
/// dot product runs over contiguous memory.
public struct EchoCanceller: Sendable {
    public let taps: Int
    /// Samples the far end is delayed by before the filter.
    public let bulkDelay: Int
    var bulk: [Float]
    var bulkIndex = 0
    var h: [Float]
    var history: [Float]      // 2 × taps, newest sample at `head` and at `head + taps`
    var head = 0
    var energy: Float = 0     // Σ x² over the window
    var recentMax: [Float]    // |x| maxima per 1 ms block, for the Geigel detector
    var blockMax: Float = 0
    var blockCount = 0
    var maxIndex = 0
    var hangover = 0
    let stepSize: Float = 0.4

    // Tone disabler: 20 ms blocks, Goertzel at 2100 Hz on both paths.
    var toneS1: (Float, Float) = (0, 0)
    var toneS2: (Float, Float) = (0, 0)
    var toneEnergy: (Float, Float) = (0, 0)
    var toneCount = 0
    var toneBlocks = 0
    var quietBlocks = 0
    /// True while a 2100 Hz answer tone has switched the canceller off.
    public private(set) var isBypassed = false
    /// Whether adaptation is frozen by double talk now.
    public private(set) var doubleTalk = false

    static let toneCoefficient = Float(2 * cos(2 * Double.pi * 2100 / 8000))

    /// The longest bulk delay taken (a second); a longer one is clamped.
    public static let longestBulkDelay = 8000

    /// `tailMilliseconds`: the longest echo path it models (16–128 ms), after
    /// `bulkDelaySamples` (the sound device's playback delay) of pure delay.
    public init(tailMilliseconds: Int = 32, bulkDelaySamples: Int = 0) {
        precondition((16...128).contains(tailMilliseconds))
        bulkDelay = min(max(0, bulkDelaySamples), Self.longestBulkDelay)
        bulk = [Float](repeating: 0, count: bulkDelay)
        taps = tailMilliseconds * 8
        h = [Float](repeating: 0, count: taps)
        history = [Float](repeating: 0, count: 2 * taps)
        recentMax = [Float](repeating: 0, count: (taps + 7) / 8)
    }

    /// One sample: returns the near-end sample with the echo of the far end removed.
    public mutating func process(farEnd: Int16, nearEnd: Int16) -> Int16 {
        var x = Float(farEnd)
        let d = Float(nearEnd)
        if bulkDelay > 0 {
            swap(&x, &bulk[bulkIndex])
            bulkIndex = bulkIndex + 1 == bulkDelay ? 0 : bulkIndex + 1
        }
        // Far-end history: the window is history[head ..< head + taps], newest first; the
        // sample that leaves it sits where the new one goes.
        head = head == 0 ? taps - 1 : head - 1
        let leaving = history[head]
        energy += x * x - leaving * leaving
        if energy < 0 { energy = 0 }
        history[head] = x
        history[head + taps] = x
        trackFarEndPeak(abs(x))
        detectTone(x, d)
        if isBypassed { return nearEnd }

        // Echo estimate: h · x over the window (newest first).
        var y: Float = 0
        history.withUnsafeBufferPointer { hist in
            h.withUnsafeBufferPointer { coef in
                let base = hist.baseAddress! + head
                for k in 0..<taps { y += coef[k] * base[k] }
            }
        }
        let e = d - y

        // Geigel double-talk detector.
        var peak: Float = 0
        for m in recentMax { peak = max(peak, m) }
        if abs(d) > 0.5 * peak && abs(d) > 64 {
            hangover = 240
        }
        doubleTalk = hangover > 0
        if hangover > 0 { hangover -= 1 }

        if !doubleTalk && energy > Float(taps) * 16 {
            let g = stepSize * e / (energy + 1000)
            history.withUnsafeBufferPointer { hist in
                h.withUnsafeMutableBufferPointer { coef in
                    let base = hist.baseAddress! + head
                    for k in 0..<taps { coef[k] += g * base[k] }
                }
            }
        }
        return Int16(max(-32768, min(32767, e.rounded())))
    }

    /// A block of samples; `out` may alias neither input.
    public mutating func process(farEnd: UnsafeBufferPointer<Int16>, nearEnd: UnsafeBufferPointer<Int16>, into out: UnsafeMutableBufferPointer<Int16>) {
        for i in 0..<min(farEnd.count, nearEnd.count, out.count) {
            out[i] = process(farEnd: farEnd[i], nearEnd: nearEnd[i])
        }
    }

    private mutating func trackFarEndPeak(_ a: Float) {
        blockMax = max(blockMax, a)
        blockCount += 1
        if blockCount == 8 {
            recentMax[maxIndex] = blockMax
            maxIndex = (maxIndex + 1) % recentMax.count
            blockMax = 0
            blockCount = 0
        }
    }

    private mutating func detectTone(_ x: Float, _ d: Float) {
        let c = EchoCanceller.toneCoefficient
        var s = x + c * toneS1.0 - toneS2.0
        toneS2.0 = toneS1.0; toneS1.0 = s
        s = d + c * toneS1.1 - toneS2.1
        toneS2.1 = toneS1.1; toneS1.1 = s
        toneEnergy.0 += x * x
        toneEnergy.1 += d * d
        toneCount += 1
        guard toneCount == 160 else { return }
        func share(_ s1: Float, _ s2: Float, _ e: Float) -> Float {
            guard e > 0 else { return 0 }
            return 2 * (s1 * s1 + s2 * s2 - c * s1 * s2) / 160 / e
        }
        // −31 dBm0 over 160 samples, the G.164 detection floor.
        let floor = Float(Level.sineAmplitude(dBm0: -31)) * Float(Level.sineAmplitude(dBm0: -31)) / 2 * 160
        let tone = (share(toneS1.0, toneS2.0, toneEnergy.0) > 0.8 && toneEnergy.0 > floor)
            || (share(toneS1.1, toneS2.1, toneEnergy.1) > 0.8 && toneEnergy.1 > floor)
        let quiet = toneEnergy.0 < floor && toneEnergy.1 < floor
        if tone {
            toneBlocks += 1
            quietBlocks = 0
            if toneBlocks >= 20 { isBypassed = true }  // 400 ms
        } else {
            toneBlocks = 0
            if quiet || !isBypassed { quietBlocks += 1 } else { quietBlocks = 0 }
            if isBypassed && quietBlocks >= 13 { isBypassed = false }  // ≈ 250 ms without the tone
        }
        toneS1 = (0, 0)
        toneS2 = (0, 0)
        toneEnergy = (0, 0)
        toneCount = 0
    }
}
