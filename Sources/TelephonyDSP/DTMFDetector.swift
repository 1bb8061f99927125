#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// A DTMF receiver for 8 kHz audio.
///
/// Works in blocks of 102 samples (12.75 ms): Goertzel filters at the eight DTMF
/// frequencies give each tone's power over the block — run only on blocks loud enough to
/// hold two tones at the minimum level. A block holds a key when:
/// - the strongest row and column tones are each above the minimum level;
/// - their twist is within limits (normal: row louder, reverse: column louder);
/// - every other tone of the same group is well below the strongest (speech is broadband);
/// - the two tones carry most of the block's energy;
/// - both tones lie within ±2.5 % of nominal (Q.24/Mitel: accept ±1.5 %, reject ±3.5 %),
///   measured — only for blocks that passed everything else — from the tone's phase
///   advance between the Hann-windowed halves of the block.
/// A key is reported after three consecutive blocks agree (≈ 38 ms: speech rarely holds a
/// DTMF-like pair that long) and released after two blocks without it, so 50 ms digits and
/// 50 ms gaps both resolve.
///
/// Allocation-free per block: state lives in fixed-size tuples of scalars.
public struct DTMFDetector: Sendable {
    public static let blockSize = 102
    static let half = 51

    /// Thresholds, exposed for the bring-up tool and tests.
    public struct Settings: Sendable, Hashable {
        /// Minimum level of each tone, dBm0.
        public var minimumLevel: Double = -40
        /// Twist limits, dB. Set 2 dB above the accepted twist (8 dB normal, 4 dB reverse,
        /// Q.24) because the strong tone's leakage moves the weak tone's estimate by ±1 dB.
        /// Largest accepted normal twist (row louder), dB.
        public var normalTwist: Double = 10
        /// Largest accepted reverse twist (column louder), dB.
        public var reverseTwist: Double = 6.5
        /// How far below the strongest tone the others of its group must be, dB.
        public var relativePeak: Double = 8
        /// Fraction of the block's energy the two tones must carry.
        public var energyFraction: Double = 0.6
        /// Largest accepted frequency deviation, as a fraction.
        public var frequencyTolerance: Double = 0.025
        public init() {}
    }

    public let settings: Settings
    let frequencies: [Float]
    /// Goertzel coefficient c = 2cos(ω) per filter, and what stepping four samples at a
    /// time needs: the filter's impulse response h2 = c²−1, h3 = c³−2c, and the state
    /// transfer y[n+2] = A2·s1 + B2·s2, y[n+3] = A3·s1 + B3·s2 (Chebyshev polynomials of c).
    let c: SIMD8<Float>
    let h2: SIMD8<Float>, h3: SIMD8<Float>
    let a2: SIMD8<Float>, b2: SIMD8<Float>, a3: SIMD8<Float>, b3: SIMD8<Float>
    /// Hann-windowed complex exponentials of each frequency over a half block, for the
    /// frequency check (run only on blocks that pass every other test).
    let probeRe: [[Float]]
    let probeIm: [[Float]]
    let minimumBlockEnergy: Float
    let normalTwist: Float, reverseTwist: Float, relativePeak: Float

    // Goertzel state of the eight filters over the block, the block's samples and energy.
    var s1 = SIMD8<Float>()
    var s2 = SIMD8<Float>()
    var block = [Int16](repeating: 0, count: DTMFDetector.blockSize)
    var power = SIMD8<Float>()
    var count = 0
    var energy: Float = 0

    var lastCandidate: Character?
    var lastRow = 0, lastColumn = 4
    var candidateRuns = 0
    var missRuns = 0
    /// The key being held now (reported), if any.
    public private(set) var current: Character?
    /// A key held now, or the last block looking like one (a key starting: it is reported
    /// after three such blocks, ~38 ms). What keeps a key's tone out of a call's audio as soon
    /// as it starts — not after 38 ms, which a far end's receiver may count as a second key.
    public var keySounding: Bool { current != nil || candidateRuns > 0 }
    /// Samples processed since creation.
    public private(set) var samplesProcessed = 0

    public init(settings: Settings = Settings(), sampleRate: Int = 8000) {
        precondition(sampleRate == 8000, "the DTMF receiver runs at 8 kHz")
        self.settings = settings
        let fs = Double(sampleRate)
        let all = DTMF.rowFrequencies + DTMF.columnFrequencies
        frequencies = all.map(Float.init)
        let cs = all.map { 2 * cos(2 * Double.pi * $0 / fs) }
        func vec(_ f: (Double) -> Double) -> SIMD8<Float> { SIMD8<Float>(cs.map { Float(f($0)) }) }
        c = vec { $0 }
        h2 = vec { $0 * $0 - 1 }
        h3 = vec { $0 * $0 * $0 - 2 * $0 }
        a2 = vec { $0 * $0 * $0 - 2 * $0 }
        b2 = vec { -($0 * $0 - 1) }
        a3 = vec { $0 * $0 * $0 * $0 - 3 * $0 * $0 + 1 }
        b3 = vec { -($0 * $0 * $0 - 2 * $0) }
        let m = DTMFDetector.half
        let window = (0..<m).map { 0.5 - 0.5 * cos(2 * Double.pi * (Double($0) + 0.5) / Double(m)) }
        probeRe = all.map { f in (0..<m).map { Float(window[$0] * cos(2 * Double.pi * f / fs * Double($0))) } }
        probeIm = all.map { f in (0..<m).map { Float(-window[$0] * sin(2 * Double.pi * f / fs * Double($0))) } }
        // Energy of a tone at the minimum level over a block: N · A² / 2.
        let a = Level.sineAmplitude(dBm0: settings.minimumLevel)
        minimumBlockEnergy = Float(Double(DTMFDetector.blockSize) * a * a / 2)
        normalTwist = Float(pow(10, settings.normalTwist / 10))
        reverseTwist = Float(pow(10, settings.reverseTwist / 10))
        relativePeak = Float(pow(10, settings.relativePeak / 10))
    }

    /// Feeds samples; `onKey` is called with each key as it is recognised and the index
    /// (counted from the first sample ever fed) of the block end where it was.
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>, onKey: (Character, Int) -> Void) {
        guard let base = samples.baseAddress else { return }
        var i = 0
        while i < samples.count {
            let take = Swift.min(samples.count - i, DTMFDetector.blockSize - count)
            consume(base + i, take)
            i += take
            count += take
            samplesProcessed += take
            if count == DTMFDetector.blockSize {
                // Energy gate: a block too quiet to hold two tones at the minimum level needs
                // no filtering at all (silence, pauses, quiet speech — most of a call).
                if energy >= 2 * minimumBlockEnergy {
                    filterBlock()
                    power = s1 * s1 + s2 * s2 - c * s1 * s2
                } else {
                    power = SIMD8()
                }
                let key = power == SIMD8() ? nil : decideBlock()
                advance(key, onKey: onKey)
                energy = 0
                count = 0
            }
        }
    }

    /// Keeps `n` samples of the current block and adds up their energy.
    private mutating func consume(_ p: UnsafePointer<Int16>, _ n: Int) {
        block.withUnsafeMutableBufferPointer { b in
            (b.baseAddress! + count).update(from: p, count: n)
        }
        var e4 = SIMD4<Float>()
        var j = 0
        let raw = UnsafeRawPointer(p)
        while j &+ 4 <= n {
            let v = SIMD4<Float>(raw.loadUnaligned(fromByteOffset: j &* 2, as: SIMD4<Int16>.self))
            e4 += v * v
            j &+= 4
        }
        var e = e4.sum()
        while j < n {
            let v = Float(p[j])
            e += v * v
            j += 1
        }
        energy += e
    }

    /// Runs the eight Goertzel filters over the whole block, four samples per step.
    private mutating func filterBlock() {
        var x1 = SIMD8<Float>(), x2 = SIMD8<Float>()
        let n = DTMFDetector.blockSize
        block.withUnsafeBufferPointer { b in
            let raw = UnsafeRawPointer(b.baseAddress!)
            var j = 0
            while j &+ 4 <= n {
                let v = SIMD4<Float>(raw.loadUnaligned(fromByteOffset: j &* 2, as: SIMD4<Int16>.self))
                let v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3]
                // The inputs' contribution does not depend on the state: computed in parallel.
                // in2 = v2 + c·v1 + h2·v0; in3 = v3 + c·v2 + h2·v1 + h3·v0 = (v3 − v1) + c·(in2 − v0)
                // (since h3 = c·h2 − c).
                let in2 = SIMD8(repeating: v2 - v0) + c * (SIMD8(repeating: v1) + c * v0)
                let in3 = SIMD8(repeating: v3 - v1) + c * (in2 - v0)
                let n2 = (a2 * x1 + b2 * x2) + in2
                let n3 = (a3 * x1 + b3 * x2) + in3
                x2 = n2
                x1 = n3
                j &+= 4
            }
            while j < n {
                let v = Float(b[j])
                let n0 = SIMD8(repeating: v) + c * x1 - x2
                x2 = x1
                x1 = n0
                j += 1
            }
        }
        s1 = x1
        s2 = x2
    }

    /// Convenience: the keys in a whole signal, in order.
    public static func detect(_ samples: [Int16], settings: Settings = Settings()) -> String {
        var d = DTMFDetector(settings: settings)
        var out = ""
        samples.withUnsafeBufferPointer { d.process($0) { k, _ in out.append(k) } }
        // Trailing silence lets a final key be decided.
        let tail = [Int16](repeating: 0, count: DTMFDetector.blockSize * 3)
        tail.withUnsafeBufferPointer { d.process($0) { k, _ in out.append(k) } }
        return out
    }

    private mutating func decideBlock() -> Character? {
        var r = 0, c = 4
        for k in 1..<4 where power[k] > power[r] { r = k }
        for k in 5..<8 where power[k] > power[c] { c = k }
        let n = Float(DTMFDetector.blockSize)
        // Tone energy over the block ≈ 2|X|²/N.
        let rowEnergy = 2 * power[r] / n, colEnergy = 2 * power[c] / n
        guard rowEnergy >= minimumBlockEnergy, colEnergy >= minimumBlockEnergy else { return nil }
        if rowEnergy > colEnergy * normalTwist || colEnergy > rowEnergy * reverseTwist { return nil }
        for k in 0..<4 where k != r && power[k] * relativePeak > power[r] { return nil }
        for k in 4..<8 where k != c && power[k] * relativePeak > power[c] { return nil }
        guard rowEnergy + colEnergy >= Float(settings.energyFraction) * energy else { return nil }
        lastRow = r
        lastColumn = c
        return DTMF.keys[r][c - 4]
    }

    /// The frequency check: the phase advance of tone `k` between the two Hann-windowed
    /// halves of the block, less the nominal advance, is the frequency error.
    private func withinTolerance(_ k: Int) -> Bool {
        let m = DTMFDetector.half
        var re0: Float = 0, im0: Float = 0, re1: Float = 0, im1: Float = 0
        let pr = probeRe[k], pi = probeIm[k]
        for j in 0..<m {
            let u = Float(block[j]), w = Float(block[m + j])
            re0 += u * pr[j]
            im0 += u * pi[j]
            re1 += w * pr[j]
            im1 += w * pi[j]
        }
        // X1 · conj(X0): its angle is the advance of the tone over `m` samples.
        let cr = re1 * re0 + im1 * im0
        let ci = im1 * re0 - re1 * im0
        let nominal = 2 * Float.pi * frequencies[k] / 8000 * Float(m)
        var d = atan2f(ci, cr) - nominal
        d = d - 2 * .pi * (d / (2 * .pi)).rounded()
        let deviation = d / (2 * .pi * Float(m)) * 8000 / frequencies[k]
        return abs(deviation) <= Float(settings.frequencyTolerance)
    }

    private mutating func advance(_ key: Character?, onKey: (Character, Int) -> Void) {
        if let key {
            if key == lastCandidate { candidateRuns += 1 } else { candidateRuns = 1 }
            lastCandidate = key
            // The frequency check, the dearest test, runs once: on the block that would make
            // the key. A key off frequency starts its count again.
            if candidateRuns >= 3 && current != key && (!withinTolerance(lastRow) || !withinTolerance(lastColumn)) {
                candidateRuns = 0
                lastCandidate = nil
            }
            if candidateRuns >= 3 && current != key {
                current = key
                missRuns = 0
                onKey(key, samplesProcessed)
            }
            if current == key { missRuns = 0 }
        } else {
            lastCandidate = nil
            candidateRuns = 0
        }
        if current != nil && key != current {
            missRuns += 1
            if missRuns >= 2 {
                current = nil
                missRuns = 0
            }
        }
    }
}
