/// A DTMF receiver for 8 kHz audio.
///
/// Works in blocks of 102 samples (12.75 ms). For each block it runs Goertzel filters at the
/// eight DTMF frequencies over the two half-blocks and combines them, giving for each
/// frequency both its power over the block and its phase advance between the halves —
/// i.e. the actual frequency. A block holds a key when:
/// - the strongest row and column tones are each above the minimum level;
/// - their twist is within limits (normal: row louder, reverse: column louder);
/// - every other tone of the same group is well below the strongest (speech is broadband);
/// - the two tones carry most of the block's energy;
/// - both tones lie within ±2.5 % of nominal (Q.24/Mitel: accept ±1.5 %, reject ±3.5 %).
/// A key is reported after two consecutive blocks agree (≈ 25 ms) and released after two
/// blocks without it, so 40–50 ms digits and gaps both resolve.
///
/// Allocation-free per block: state lives in fixed-size tuples of scalars.
public struct DTMFDetector: Sendable {
    public static let blockSize = 102
    static let half = 51

    /// Thresholds, exposed for the bring-up tool and tests.
    public struct Settings: Sendable, Hashable {
        /// Minimum level of each tone, dBm0.
        public var minimumLevel: Double = -40
        /// Largest accepted normal twist (row louder), dB.
        public var normalTwist: Double = 9
        /// Largest accepted reverse twist (column louder), dB.
        public var reverseTwist: Double = 5.5
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
    let coefficients: [Float]
    /// cos/sin of the nominal phase advance over a half block, per frequency.
    let halfAdvance: [(cos: Float, sin: Float)]
    /// cos/sin of ω for extracting the complex Goertzel output.
    let omega: [(cos: Float, sin: Float)]
    let minimumBlockEnergy: Float
    let normalTwist: Float, reverseTwist: Float, relativePeak: Float

    // Goertzel state per frequency, and the first half's complex result.
    var s1 = [Float](repeating: 0, count: 8)
    var s2 = [Float](repeating: 0, count: 8)
    var firstRe = [Float](repeating: 0, count: 8)
    var firstIm = [Float](repeating: 0, count: 8)
    var count = 0
    var energy: Float = 0
    // Per-block scratch, kept to avoid allocating on the audio path.
    var power = [Float](repeating: 0, count: 8)
    var dphi = [Float](repeating: 0, count: 8)

    var lastCandidate: Character?
    var candidateRuns = 0
    var missRuns = 0
    /// The key being held now (reported), if any.
    public private(set) var current: Character?
    /// Samples processed since creation.
    public private(set) var samplesProcessed = 0

    public init(settings: Settings = Settings(), sampleRate: Int = 8000) {
        precondition(sampleRate == 8000, "the DTMF receiver runs at 8 kHz")
        self.settings = settings
        let fs = Double(sampleRate)
        let all = DTMF.rowFrequencies + DTMF.columnFrequencies
        frequencies = all.map(Float.init)
        coefficients = all.map { Float(2 * cos(2 * Double.pi * $0 / fs)) }
        halfAdvance = all.map { f in
            let a = 2 * Double.pi * f / fs * Double(DTMFDetector.half)
            return (Float(cos(a)), Float(sin(a)))
        }
        omega = all.map { f in
            let w = 2 * Double.pi * f / fs
            return (Float(cos(w)), Float(sin(w)))
        }
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
        for x in samples {
            let v = Float(x)
            energy += v * v
            for k in 0..<8 {
                let s0 = v + coefficients[k] * s1[k] - s2[k]
                s2[k] = s1[k]
                s1[k] = s0
            }
            count += 1
            samplesProcessed += 1
            if count == DTMFDetector.half {
                for k in 0..<8 {
                    (firstRe[k], firstIm[k]) = complexResult(k)
                    s1[k] = 0
                    s2[k] = 0
                }
            } else if count == DTMFDetector.blockSize {
                let key = decideBlock()
                advance(key, onKey: onKey)
                for k in 0..<8 {
                    s1[k] = 0
                    s2[k] = 0
                }
                energy = 0
                count = 0
            }
        }
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

    /// The DFT term of the half just processed, phase referenced to the half's start.
    private func complexResult(_ k: Int) -> (Float, Float) {
        // y = s1 − e^{−jω} s2, then X = y · e^{−jω(M−1)}; the constant rotation is the same
        // for both halves and cancels in their ratio, so it is skipped.
        let (c, s) = omega[k]
        return (s1[k] - c * s2[k], s * s2[k])
    }

    private mutating func decideBlock() -> Character? {
        for k in 0..<8 {
            let (re1, im1) = complexResult(k)
            let (re0, im0) = (firstRe[k], firstIm[k])
            // Whole-block term: X0 + X1 · e^{−jω·51}.
            let (c, s) = halfAdvance[k]
            let re = re0 + re1 * c + im1 * s
            let im = im0 + im1 * c - re1 * s
            power[k] = re * re + im * im
            // Phase advance of X1 relative to X0, less the nominal advance.
            let cr = re1 * re0 + im1 * im0
            let ci = im1 * re0 - re1 * im0
            var d = atan2f(ci, cr) - atan2f(s, c)
            if d > .pi { d -= 2 * .pi }
            if d < -.pi { d += 2 * .pi }
            dphi[k] = d
        }
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
        if !withinTolerance(r) || !withinTolerance(c) { return nil }
        return DTMF.keys[r][c - 4]
    }

    private func withinTolerance(_ k: Int) -> Bool {
        let deviation = dphi[k] / (2 * .pi * Float(DTMFDetector.half)) * 8000 / frequencies[k]
        return abs(deviation) <= Float(settings.frequencyTolerance)
    }

    private mutating func advance(_ key: Character?, onKey: (Character, Int) -> Void) {
        if let key {
            if key == lastCandidate { candidateRuns += 1 } else { candidateRuns = 1 }
            lastCandidate = key
            if candidateRuns >= 2 && current != key {
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
