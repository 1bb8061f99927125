#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// The tones that say a call carries a fax machine or a modem rather than a voice: the fax
/// calling tone (CNG, ITU-T T.30: 1100 Hz ±38 Hz, 0.5 s on, 3 s off) and the answer tone
/// (ITU-T V.25 ANS / T.30 CED: 2100 Hz ±15 Hz; with phase reversals every 450 ms it is the
/// one G.165 says must disable echo cancellers; ANSam, V.8's, is the same tone modulated at
/// 15 Hz). A path tuned for speech (echo canceller, adaptive jitter buffer, concealment)
/// ruins their data; recognising them is what switches a call to pass-through.
///
/// Works in 10 ms blocks: for each of the two frequencies, the block's complex Goertzel
/// output gives the share of the block's energy at that frequency (a tone is nearly all of
/// it, speech spreads) and its phase; the phase's advance from block to block measures the
/// frequency's offset (10 ms at 1100 or 2100 Hz is a whole number of cycles, so a tone on
/// frequency keeps its phase), and a jump of about π is a phase reversal. A tone is
/// recognised after 400 ms of qualifying blocks (one block may miss: a reversal's own block).
///
/// And the HDLC flags a fax machine sends on V.21 channel 2 before its first T.30 frame
/// (0x7E over and over, 300 bit/s: six marks, then two spaces, each flag's last 0 and the
/// next one's first): eight such flags in a row, about 210 ms, are a fax, CNG or not.
/// Allocation-free.
public struct ModemToneDetector: Sendable {
    public enum Event: Sendable, Hashable, CustomStringConvertible {
        /// A fax machine calling (CNG).
        case faxCalling
        /// An answering fax or modem (ANS/CED, ANSam).
        case answerTone
        /// A phase reversal in the answer tone (ANS/PR, ANSam/PR): echo cancellers must go.
        case answerPhaseReversal
        /// HDLC flags on V.21 channel 2: a fax machine about to send its T.30 frames.
        case v21Flags

        public var description: String {
            switch self {
            case .faxCalling: "fax calling tone (CNG, 1100 Hz)"
            case .answerTone: "answer tone (ANS/CED, 2100 Hz)"
            case .answerPhaseReversal: "answer tone phase reversal"
            case .v21Flags: "V.21 HDLC flags (fax)"
            }
        }
    }

    static let blockSize = 80
    /// 400 ms of a tone before it counts (T.30's CNG lasts 500 ms; V.25's ANS 2.6–4 s).
    static let blocksToRecognise = 40
    /// The share of a block's energy one frequency must carry to be a tone there.
    static let purity: Float = 0.7
    /// −43 dBm0 over a block: quieter than any of these tones on a working line.
    static let floor: Float = {
        let a = Float(Level.sineAmplitude(dBm0: -43))
        return a * a / 2 * Float(blockSize)
    }()

    /// One frequency's watcher: the last block's phase, the run of qualifying blocks.
    struct Watch: Sendable {
        let frequency: Float
        /// The largest offset accepted, Hz.
        let tolerance: Float
        let cosine: [Float], sine: [Float]
        var lastPhase: Float?
        var run = 0
        var misses = 0
        var recognised = false

        init(frequency: Float, tolerance: Float) {
            self.frequency = frequency
            self.tolerance = tolerance
            let w = 2 * Float.pi * frequency / 8000
            cosine = (0..<ModemToneDetector.blockSize).map { cos(w * Float($0)) }
            sine = (0..<ModemToneDetector.blockSize).map { -sin(w * Float($0)) }
        }
    }

    var cng = Watch(frequency: 1100, tolerance: 38)
    var answer = Watch(frequency: 2100, tolerance: 15)
    var block = [Float](repeating: 0, count: ModemToneDetector.blockSize)
    var filled = 0
    /// Phase reversals seen in the answer tone since it was recognised.
    public private(set) var phaseReversals = 0

    // V.21 channel 2: the demodulated level's runs, and how many flags in a row they made.
    var v21 = FSKDemodulator(modem: .v21Channel2)
    var runLevel = false, runLength = 0
    var flagsInARow = 0
    var flagsRecognised = false
    static let samplesPerV21Bit: Float = 8000 / 300
    /// Flags in a row before they count.
    static let flagsToRecognise = 8

    /// Whether V.21 flags are listened for too (the demodulator costs more than the rest).
    public let listensForV21: Bool

    /// `listensForV21`: off where the other party's fax is heard only after ours has spoken
    /// (a fax call always has the local machine send V.21 too, so one path suffices).
    public init(listensForV21: Bool = true) {
        self.listensForV21 = listensForV21
    }

    /// Feeds samples; `onEvent` is told each tone once when recognised, and each phase
    /// reversal of a recognised answer tone.
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>, onEvent: (Event) -> Void) {
        for s in samples {
            block[filled] = Float(s)
            filled += 1
            if filled == Self.blockSize {
                filled = 0
                analyse(onEvent: onEvent)
            }
        }
    }

    /// Convenience: the events in a whole signal, in order.
    public static func detect(_ samples: [Int16]) -> [Event] {
        var d = ModemToneDetector()
        var out: [Event] = []
        samples.withUnsafeBufferPointer { d.process($0) { out.append($0) } }
        return out
    }

    private mutating func analyse(onEvent: (Event) -> Void) {
        var energy: Float = 0
        for x in block { energy += x * x }
        // V.21 runs only where there is signal (most of a voice call is quieter than any
        // fax): a quiet block is no carrier, and ends any run of flags.
        if !listensForV21 {
            // Nothing to follow.
        } else if energy >= Self.floor {
            for x in block { v21Sample(x, onEvent: onEvent) }
        } else {
            runLength = 0
            flagsInARow = 0
            flagsRecognised = false
        }
        if step(&cng, energy: energy) == .recognised { onEvent(.faxCalling) }
        switch step(&answer, energy: energy) {
        case .recognised: onEvent(.answerTone)
        case .reversed:
            phaseReversals += 1
            onEvent(.answerPhaseReversal)
        case .none: break
        }
    }

    /// One sample through the V.21 demodulator: at each change of level the run that ended
    /// is measured in bits; a flag is a run of six marks then one of two spaces.
    private mutating func v21Sample(_ x: Float, onEvent: (Event) -> Void) {
        let mark = v21.next(Double(x))
        guard v21.carrier else {
            runLength = 0
            flagsInARow = 0
            flagsRecognised = false
            return
        }
        if mark == runLevel {
            runLength += 1
            return
        }
        let bits = Float(runLength) / Self.samplesPerV21Bit
        if runLevel {
            // A run of marks: a flag's six ones, or not a flag.
            if abs(bits - 6) > 0.5 { flagsInARow = 0 }
        } else if abs(bits - 2) <= 0.5 {
            flagsInARow += 1
            if flagsInARow >= Self.flagsToRecognise && !flagsRecognised {
                flagsRecognised = true
                onEvent(.v21Flags)
            }
        } else {
            flagsInARow = 0
        }
        runLevel = mark
        runLength = 1
    }

    enum Outcome { case none, recognised, reversed }

    private func measure(_ w: Watch) -> (share: Float, phase: Float) {
        var re: Float = 0, im: Float = 0
        block.withUnsafeBufferPointer { x in
            w.cosine.withUnsafeBufferPointer { c in
                w.sine.withUnsafeBufferPointer { s in
                    for i in 0..<Self.blockSize {
                        re += x[i] * c[i]
                        im += x[i] * s[i]
                    }
                }
            }
        }
        let power = 2 * (re * re + im * im) / Float(Self.blockSize)
        return (power, atan2(im, re))
    }

    private func step(_ w: inout Watch, energy: Float) -> Outcome {
        guard energy >= Self.floor else { return reset(&w) }
        let (power, phase) = measure(w)
        guard power >= Self.purity * energy else { return miss(&w) }
        defer { w.lastPhase = phase }
        guard let last = w.lastPhase else {
            w.run = 1
            return .none
        }
        // The advance from the last block: on frequency, none (a whole number of cycles).
        var advance = phase - last
        while advance > Float.pi { advance -= 2 * Float.pi }
        while advance < -Float.pi { advance += 2 * Float.pi }
        let offset = advance / (2 * Float.pi) / (Float(Self.blockSize) / 8000)
        if abs(advance) > 2.2 {
            // About π: a reversal, if this is the answer tone and it is established.
            if w.recognised && w.frequency == 2100 {
                w.misses = 0
                return .reversed
            }
            return miss(&w)
        }
        guard abs(offset) <= w.tolerance else { return miss(&w) }
        w.run += 1
        w.misses = 0
        if w.run >= Self.blocksToRecognise && !w.recognised {
            w.recognised = true
            return .recognised
        }
        return .none
    }

    /// A block that does not qualify: one is forgiven (a reversal's block, a click), two end
    /// the run.
    private func miss(_ w: inout Watch) -> Outcome {
        w.misses += 1
        if w.misses > 1 { return reset(&w) }
        return .none
    }

    private func reset(_ w: inout Watch) -> Outcome {
        w.run = 0
        w.misses = 0
        w.lastPhase = nil
        w.recognised = false
        return .none
    }
}
