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
            return Prepared(
                count: seg.milliseconds.map { $0 * sampleRate / 1000 } ?? Int.max,
                components: seg.frequencies.count, coefficient: coef, omega: omega, amplitude: amp,
                modulation: seg.modulation.map { 2 * Double.pi * $0 / Double(sampleRate) },
                ramped: seg.milliseconds != nil)
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
        for j in 0..<count {
            let n = position + j
            if n > 0 && n % ToneSynthesizer.reseedInterval == 0 { seed(at: n) }
            // Unit sines for up to four components.
            let s0 = seg.coefficient.0 * y1.0 - y2.0
            let s1 = seg.coefficient.1 * y1.1 - y2.1
            let s2 = seg.coefficient.2 * y1.2 - y2.2
            let s3 = seg.coefficient.3 * y1.3 - y2.3
            y2 = y1
            y1 = (s0, s1, s2, s3)
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
            frame[start + j] = Int16(max(-32768, min(32767, v.rounded())))
        }
    }

    /// Convenience: `count` samples of a tone from its start.
    public static func samples(of tone: Tone, count: Int) -> [Int16] {
        var synth = ToneSynthesizer(tone)
        var out = [Int16](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        return out
    }
}
