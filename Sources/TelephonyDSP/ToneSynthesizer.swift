#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// Renders a ``Tone`` at 8 kHz, sample-accurately and without clicks.
///
/// Each segment lasts exactly its milliseconds × 8 samples; the repetition restarts at the
/// tone's first repeated segment. Every sine burst starts at phase zero under a 2 ms
/// raised-cosine ramp and ends under one, so segment edges never click. Oscillators are
/// second-order recursions (one multiply per sample and component), re-seeded from exact
/// phases every second so that a tone played for hours does not drift in level.
///
/// No allocation after `init`: per-component state lives in fixed arrays of four.
public struct ToneSynthesizer: Sendable {
    public let tone: Tone
    public let sampleRate: Int
    static let rampSamples = 16
    static let reseedInterval = 8000

    struct Prepared: Sendable {
        var count: Int            // samples, or Int.max for ever
        var components: Int
        var coefficient: (Float, Float, Float, Float)
        var omega: (Double, Double, Double, Double)
        var amplitude: (Float, Float, Float, Float)
        var modulation: Double?   // ω of the modulator
        var ramped: Bool          // ramp at the end (finite tone segment)
        /// Four samples at a time: y[n+k] = A[k]·y[n−1] + B[k]·y[n−2], per component, so
        /// the recursion's latency is paid once per four samples, not per sample.
        var blockA: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)
        var blockB: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)
    }

    static func blockCoefficients(_ w: Double) -> (SIMD4<Float>, SIMD4<Float>) {
        let c = 2 * cos(w)
        let a = SIMD4<Float>(Float(c), Float(c * c - 1), Float(c * c * c - 2 * c), Float(c * c * c * c - 3 * c * c + 1))
        let b = SIMD4<Float>(-1, Float(-c), Float(-(c * c - 1)), Float(-(c * c * c - 2 * c)))
        return (a, b)
    }

    let segments: [Prepared]
    let repeatStart: Int?
    var index = 0
    var position = 0
    // Oscillator state (y[n-1], y[n-2]) per component, as unit-amplitude sines.
    var y1: (Float, Float, Float, Float) = (0, 0, 0, 0)
    var y2: (Float, Float, Float, Float) = (0, 0, 0, 0)
    /// True once a non-repeating tone has played its last segment.
    public private(set) var isFinished = false

    public init(_ tone: Tone, sampleRate: Int = 8000) {
        self.tone = tone
        self.sampleRate = sampleRate
        let amplitude = Float(Level.sineAmplitude(dBm0: tone.level))
        segments = tone.segments.map { seg in
            var omega: (Double, Double, Double, Double) = (0, 0, 0, 0)
            var coef: (Float, Float, Float, Float) = (0, 0, 0, 0)
            var amp: (Float, Float, Float, Float) = (0, 0, 0, 0)
            for (k, f) in seg.frequencies.prefix(4).enumerated() {
                let w = 2 * Double.pi * f / Double(sampleRate)
                withUnsafeMutableBytes(of: &omega) { $0.storeBytes(of: w, toByteOffset: k * 8, as: Double.self) }
                withUnsafeMutableBytes(of: &coef) { $0.storeBytes(of: Float(2 * cos(w)), toByteOffset: k * 4, as: Float.self) }
                withUnsafeMutableBytes(of: &amp) { $0.storeBytes(of: amplitude, toByteOffset: k * 4, as: Float.self) }
            }
            let b0 = ToneSynthesizer.blockCoefficients(omega.0), b1 = ToneSynthesizer.blockCoefficients(omega.1)
            let b2 = ToneSynthesizer.blockCoefficients(omega.2), b3 = ToneSynthesizer.blockCoefficients(omega.3)
            return Prepared(
                count: seg.milliseconds.map { $0 * sampleRate / 1000 } ?? Int.max,
                components: seg.frequencies.count, coefficient: coef, omega: omega, amplitude: amp,
                modulation: seg.modulation.map { 2 * Double.pi * $0 / Double(sampleRate) },
                ramped: seg.milliseconds != nil,
                blockA: (b0.0, b1.0, b2.0, b3.0), blockB: (b0.1, b1.1, b2.1, b3.1))
        }
        repeatStart = tone.repeatStart
        seed(at: 0)
    }

    /// Starts the tone again from its first segment.
    public mutating func restart() {
        index = 0
        position = 0
        isFinished = false
        seed(at: 0)
    }

    /// Sets the oscillators so that the next sample is sin(ω·n) of the current segment.
    private mutating func seed(at n: Int) {
        guard index < segments.count else { return }
        let s = segments[index]
        func pair(_ w: Double) -> (Float, Float) {
            (Float(sin(w * Double(n - 1))), Float(sin(w * Double(n - 2))))
        }
        let a = pair(s.omega.0), b = pair(s.omega.1), c = pair(s.omega.2), d = pair(s.omega.3)
        y1 = (a.0, b.0, c.0, d.0)
        y2 = (a.1, b.1, c.1, d.1)
    }

    /// Fills `frame` with the next samples (silence after a non-repeating tone ends).
    public mutating func render(into frame: UnsafeMutableBufferPointer<Int16>) {
        var i = 0
        while i < frame.count {
            guard !isFinished, index < segments.count else {
                frame[i] = 0
                i += 1
                continue
            }
            let seg = segments[index]
            let run = min(frame.count - i, seg.count - position)
            if seg.components == 0 {
                for j in 0..<run { frame[i + j] = 0 }
            } else {
                renderSine(seg, into: frame, from: i, count: run)
            }
            i += run
            position += run
            if position >= seg.count { nextSegment() }
        }
    }

    private mutating func nextSegment() {
        position = 0
        if index + 1 < segments.count {
            index += 1
        } else if let r = repeatStart {
            index = r
        } else {
            isFinished = true
            return
        }
        seed(at: 0)
    }

    private mutating func renderSine(_ seg: Prepared, into frame: UnsafeMutableBufferPointer<Int16>, from start: Int, count: Int) {
        let ramp = ToneSynthesizer.rampSamples
        var j = 0
        while j < count {
            let n = position + j
            // The next point where the per-sample work changes: a re-seed, the end of the
            // ramp-in, the start of the ramp-out.
            var boundary = (n / ToneSynthesizer.reseedInterval + 1) * ToneSynthesizer.reseedInterval
            if n < ramp { boundary = min(boundary, ramp) }
            let rampOut = seg.ramped ? seg.count - ramp : Int.max
            if n < rampOut { boundary = min(boundary, rampOut) }
            let run = min(count - j, boundary - n)
            if n > 0 && n % ToneSynthesizer.reseedInterval == 0 { seed(at: n) }
            if n < ramp || n >= rampOut || seg.modulation != nil {
                slowPath(seg, into: frame, from: start + j, count: run, position: n)
            } else {
                fastPath(seg, into: frame, from: start + j, count: run)
            }
            j += run
        }
    }

    /// Steady state: no ramp, no modulation — the inner loop of every long tone. Four
    /// samples per step from the two last samples of each oscillator.
    private mutating func fastPath(_ seg: Prepared, into frame: UnsafeMutableBufferPointer<Int16>, from start: Int, count: Int) {
        let out = frame.baseAddress! + start
        let blocks = count / 4
        var p0 = y1.0, q0 = y2.0, p1 = y1.1, q1 = y2.1, p2 = y1.2, q2 = y2.2, p3 = y1.3, q3 = y2.3
        let a0 = seg.amplitude.0, a1 = seg.amplitude.1, a2 = seg.amplitude.2, a3 = seg.amplitude.3
        let (A0, A1, A2, A3) = seg.blockA
        let (B0, B1, B2, B3) = seg.blockB
        // Tones whose components cannot add up past full scale need no clamping (the
        // common case); louder ones are clamped lane by lane.
        let clamps = a0 + a1 + a2 + a3 > 32_000
        let magic = SIMD4<Float>(repeating: 12_582_912)
        var i = 0
        switch seg.components {
        case 1:
            for _ in 0..<blocks {
                let s0 = A0 * p0 + B0 * q0
                p0 = s0[3]; q0 = s0[2]
                ToneSynthesizer.store(a0 * s0, clamps, magic, out + i)
                i += 4
            }
        case 2:
            for _ in 0..<blocks {
                let s0 = A0 * p0 + B0 * q0
                let s1 = A1 * p1 + B1 * q1
                p0 = s0[3]; q0 = s0[2]; p1 = s1[3]; q1 = s1[2]
                ToneSynthesizer.store(a0 * s0 + a1 * s1, clamps, magic, out + i)
                i += 4
            }
        default:
            for _ in 0..<blocks {
                let s0 = A0 * p0 + B0 * q0
                let s1 = A1 * p1 + B1 * q1
                let s2 = A2 * p2 + B2 * q2
                let s3 = A3 * p3 + B3 * q3
                p0 = s0[3]; q0 = s0[2]; p1 = s1[3]; q1 = s1[2]; p2 = s2[3]; q2 = s2[2]; p3 = s3[3]; q3 = s3[2]
                ToneSynthesizer.store(a0 * s0 + a1 * s1 + a2 * s2 + a3 * s3, clamps, magic, out + i)
                i += 4
            }
        }
        y1 = (p0, p1, p2, p3)
        y2 = (q0, q1, q2, q3)
        // The last few samples one at a time.
        while i < count {
            let (s0, s1, s2, s3) = step(seg)
            out[i] = ToneSynthesizer.pcm(a0 * s0 + a1 * s1 + a2 * s2 + a3 * s3)
            i += 1
        }
    }

    /// One sample of the four oscillators (unit sines), advancing their state.
    @inline(__always)
    private mutating func step(_ seg: Prepared) -> (Float, Float, Float, Float) {
        let s = (seg.coefficient.0 * y1.0 - y2.0, seg.coefficient.1 * y1.1 - y2.1,
                 seg.coefficient.2 * y1.2 - y2.2, seg.coefficient.3 * y1.3 - y2.3)
        y2 = y1
        y1 = s
        return s
    }

    @inline(__always)
    static func store(_ v: SIMD4<Float>, _ clamps: Bool, _ magic: SIMD4<Float>, _ out: UnsafeMutablePointer<Int16>) {
        var v = v
        if clamps {
            for k in 0..<4 { v[k] = Swift.min(Swift.max(v[k], -32768), 32767) }
        }
        let bits = unsafeBitCast(v + magic, to: SIMD4<UInt32>.self)
        let pcm = SIMD4<Int16>(truncatingIfNeeded: bits)
        UnsafeMutableRawPointer(out).storeBytes(of: pcm, as: SIMD4<Int16>.self)
    }

    /// Ramps and modulated tones.
    private mutating func slowPath(_ seg: Prepared, into frame: UnsafeMutableBufferPointer<Int16>, from start: Int, count: Int, position base: Int) {
        let ramp = ToneSynthesizer.rampSamples
        for j in 0..<count {
            let n = base + j
            let (s0, s1, s2, s3) = step(seg)
            var v: Float
            if let m = seg.modulation {
                v = seg.amplitude.0 * s0 * Float(0.5 + 0.5 * sin(m * Double(n)))
            } else {
                v = seg.amplitude.0 * s0 + seg.amplitude.1 * s1 + seg.amplitude.2 * s2 + seg.amplitude.3 * s3
            }
            if n < ramp {
                v *= Float(0.5 - 0.5 * cos(Double.pi * Double(n) / Double(ramp)))
            } else if seg.ramped, seg.count - 1 - n < ramp {
                v *= Float(0.5 - 0.5 * cos(Double.pi * Double(seg.count - 1 - n) / Double(ramp)))
            }
            frame[start + j] = ToneSynthesizer.pcm(v)
        }
    }

    /// Rounds to the nearest 16-bit sample, saturating. Adding 1.5·2²³ leaves the rounded
    /// integer in the float's low mantissa bits (for |v| < 2²²), so no checked conversion
    /// is needed on the hot path.
    @inline(__always)
    static func pcm(_ v: Float) -> Int16 {
        let clamped = min(max(v, -32768), 32767)
        return Int16(truncatingIfNeeded: (clamped + 12_582_912).bitPattern)
    }

    /// Convenience: `count` samples of a tone from its start.
    public static func samples(of tone: Tone, count: Int) -> [Int16] {
        var synth = ToneSynthesizer(tone)
        var out = [Int16](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        return out
    }
}
