#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// 1200 bit/s FSK as caller ID uses it.
public struct FSKModem: Sendable, Hashable {
    /// Frequency of a 1 (mark) and a 0 (space), Hz.
    public var mark: Double
    public var space: Double
    public var baud: Double

    /// Bell 202 (Telcordia GR-30): mark 1200 Hz, space 2200 Hz.
    public static let bell202 = FSKModem(mark: 1200, space: 2200, baud: 1200)
    /// ITU-T V.23 (ETSI EN 300 659-1): mark 1300 Hz, space 2100 Hz.
    public static let v23 = FSKModem(mark: 1300, space: 2100, baud: 1200)
    /// ITU-T V.21 channel 2 (the answering side; T.30's control channel): mark 1650 Hz,
    /// space 1850 Hz, 300 bit/s.
    public static let v21Channel2 = FSKModem(mark: 1650, space: 1850, baud: 300)

    /// Channel seizure: 300 alternating bits, starting with 0.
    public static let seizureBits = 300
    /// Mark before the data: 180 bits on hook (80 off hook, for call waiting).
    public static let onHookMarkBits = 180
    public static let offHookMarkBits = 80

    /// The bit stream of a spill: seizure (optional), mark, then each byte framed as a start
    /// bit (0), eight data bits least significant first and a stop bit (1), then a few mark
    /// bits to let the receiver finish.
    public static func bits(for message: [UInt8], seizure: Bool = true, markBits: Int = onHookMarkBits) -> [Bool] {
        var out: [Bool] = []
        if seizure { for i in 0..<seizureBits { out.append(i % 2 == 1) } }
        out += [Bool](repeating: true, count: markBits)
        for byte in message {
            out.append(false)
            for k in 0..<8 { out.append((byte >> UInt8(k)) & 1 == 1) }
            out.append(true)
        }
        out += [Bool](repeating: true, count: 4)
        return out
    }

    /// Phase-continuous FSK of `bits` at `level` dBm0. Bit edges fall on the sample nearest
    /// their exact time (6⅔ samples a bit at 8 kHz), so long spills keep their bit rate.
    public func modulate(_ bits: [Bool], level: Double = -13, sampleRate: Int = 8000, frequencyScale: Double = 1) -> [Int16] {
        let amplitude = Level.sineAmplitude(dBm0: level)
        let count = Int((Double(bits.count) * Double(sampleRate) / baud).rounded())
        var out = [Int16](repeating: 0, count: count)
        var phase = 0.0
        for n in 0..<count {
            let bit = bits[min(bits.count - 1, Int(Double(n) * baud / Double(sampleRate)))]
            let f = (bit ? mark : space) * frequencyScale
            out[n] = Int16((amplitude * sin(phase)).rounded())
            phase += 2 * Double.pi * f / Double(sampleRate)
            if phase > 2 * Double.pi { phase -= 2 * Double.pi }
        }
        return out
    }

    /// The sample at which bit `index` starts.
    public func sample(ofBit index: Int, sampleRate: Int = 8000) -> Int {
        Int((Double(index) * Double(sampleRate) / baud).rounded(.up))
    }
}

/// Tells mark from space in FSK audio: correlates the signal with each tone over a sliding
/// one-bit window and compares the two energies; below −45 dBm0 over a bit there is no
/// carrier. Keeps each sample's mixes for a receiver that integrates over exact bit
/// intervals. Allocation-free per sample.
struct FSKDemodulator: Sendable {
    let window: Int
    let markRotation: (Double, Double)
    let spaceRotation: (Double, Double)
    var markPhasor = (1.0, 0.0), spacePhasor = (1.0, 0.0)
    var history: [(Double, Double, Double, Double)]
    var historyIndex = 0
    var sums = (0.0, 0.0, 0.0, 0.0)
    var recomputeCountdown = 4000
    let carrierFloor: Double
    /// Whether the last sample's window held a carrier.
    private(set) var carrier = false
    /// The last sample mixed down with mark (re, im) and space (re, im).
    private(set) var mixed = (0.0, 0.0, 0.0, 0.0)

    init(modem: FSKModem, sampleRate: Int = 8000) {
        window = Int((Double(sampleRate) / modem.baud).rounded())
        func rot(_ f: Double) -> (Double, Double) {
            let w = 2 * Double.pi * f / Double(sampleRate)
            return (cos(w), -sin(w))
        }
        markRotation = rot(modem.mark)
        spaceRotation = rot(modem.space)
        history = [(Double, Double, Double, Double)](repeating: (0, 0, 0, 0), count: window)
        let a = Level.sineAmplitude(dBm0: -45) * Double(window) / 2
        carrierFloor = a * a
    }

    /// True for mark (1), false for space (0).
    mutating func next(_ x: Double) -> Bool {
        // Mix down with each tone and sum over one bit.
        let mr = x * markPhasor.0, mi = x * markPhasor.1
        let sr = x * spacePhasor.0, si = x * spacePhasor.1
        let old = history[historyIndex]
        mixed = (mr, mi, sr, si)
        history[historyIndex] = mixed
        historyIndex = (historyIndex + 1) % window
        sums.0 += mr - old.0; sums.1 += mi - old.1; sums.2 += sr - old.2; sums.3 += si - old.3
        markPhasor = (markPhasor.0 * markRotation.0 - markPhasor.1 * markRotation.1,
                      markPhasor.0 * markRotation.1 + markPhasor.1 * markRotation.0)
        spacePhasor = (spacePhasor.0 * spaceRotation.0 - spacePhasor.1 * spaceRotation.1,
                       spacePhasor.0 * spaceRotation.1 + spacePhasor.1 * spaceRotation.0)
        recomputeCountdown -= 1
        if recomputeCountdown == 0 {
            // Keep the phasors on the unit circle and the running sums exact.
            recomputeCountdown = 4000
            let a = (markPhasor.0 * markPhasor.0 + markPhasor.1 * markPhasor.1).squareRoot()
            markPhasor = (markPhasor.0 / a, markPhasor.1 / a)
            let b = (spacePhasor.0 * spacePhasor.0 + spacePhasor.1 * spacePhasor.1).squareRoot()
            spacePhasor = (spacePhasor.0 / b, spacePhasor.1 / b)
            sums = history.reduce((0, 0, 0, 0)) { ($0.0 + $1.0, $0.1 + $1.1, $0.2 + $1.2, $0.3 + $1.3) }
        }
        let m = sums.0 * sums.0 + sums.1 * sums.1
        let s = sums.2 * sums.2 + sums.3 * sums.3
        carrier = m + s >= carrierFloor
        return m >= s
    }
}

/// Receives caller-ID FSK: demodulates, frames bytes, and assembles messages.
///
/// The demodulator correlates the signal with mark and space over a one-bit window and
/// compares the two energies; the UART finds a start bit after a run of marks and samples
/// each bit at its centre. Messages are taken only after at least 20 bits of mark (the
/// seizure's alternating bits never qualify), checked by length and checksum.
public struct FSKReceiver: Sendable {
    public let modem: FSKModem
    let samplesPerBit: Double
    let window: Int
    var demodulator: FSKDemodulator
    var n = 0
    var carrier = false
    /// The last 32 samples mixed down with mark and space, for integrate-and-dump decisions
    /// over each bit's exact interval.
    var recent = [(Double, Double, Double, Double)](repeating: (0, 0, 0, 0), count: 32)

    // UART
    var markRun = 0.0
    var inByte = false
    var byteStart = 0.0
    var nextBit = 0
    var current: UInt8 = 0
    var lastLevel = true
    // Framer
    var bytes: [UInt8] = []
    var armed = false
    /// Bytes that failed framing (stop bit missing) — for diagnostics.
    public private(set) var framingErrors = 0

    public init(modem: FSKModem, sampleRate: Int = 8000) {
        self.modem = modem
        samplesPerBit = Double(sampleRate) / modem.baud
        window = Int(samplesPerBit.rounded())
        demodulator = FSKDemodulator(modem: modem, sampleRate: sampleRate)
    }

    /// Feeds samples; each complete, checksummed message is passed to `onMessage`.
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>, onMessage: ([UInt8]) -> Void) {
        for x in samples {
            let level = demodulate(Double(x))
            uart(level, onMessage: onMessage)
            n += 1
        }
    }

    /// Convenience: every message in a signal.
    public static func messages(in samples: [Int16], modem: FSKModem) -> [[UInt8]] {
        var r = FSKReceiver(modem: modem)
        var out: [[UInt8]] = []
        samples.withUnsafeBufferPointer { r.process($0) { out.append($0) } }
        return out
    }

    /// True for mark (1), false for space (0).
    private mutating func demodulate(_ x: Double) -> Bool {
        let level = demodulator.next(x)
        recent[n & 31] = demodulator.mixed
        carrier = demodulator.carrier
        return level
    }

    private mutating func uart(_ level: Bool, onMessage: ([UInt8]) -> Void) {
        let t = Double(n)
        if !carrier && !inByte {
            // Silence or noise: no marks counted, and a message in progress is abandoned.
            markRun = 0
            lastLevel = false
            if armed && !bytes.isEmpty { bytes.removeAll() }
            return
        }
        if !inByte {
            if level {
                markRun += 1
                if markRun >= 20 * samplesPerBit, !armed { armed = true; bytes.removeAll() }
            } else if lastLevel && markRun >= 0.3 * samplesPerBit {
                // Falling edge after mark: a start bit begins. The sliding window crosses
                // over half a window after the true edge.
                inByte = true
                byteStart = t - Double(window) / 2
                nextBit = 0
                current = 0
            } else {
                markRun = 0
            }
            if !level && !inByte { markRun = 0 }
        } else {
            // Decide bit k (0 = start, 1…8 data, 9 stop) once it has ended, from the energy
            // of mark and space over exactly its samples (integrate and dump).
            let end = byteStart + Double(nextBit + 1) * samplesPerBit
            if t >= end {
                let level = integratedLevel(from: byteStart + Double(nextBit) * samplesPerBit, to: end)
                switch nextBit {
                case 0:
                    if level { inByte = false; markRun = 0 }  // a glitch, not a start bit
                case 1...8:
                    if level { current |= 1 << UInt8(nextBit - 1) }
                default:
                    inByte = false
                    markRun = level ? samplesPerBit / 2 : 0
                    if level { byte(current, onMessage: onMessage) } else { framingErrors += 1; bytes.removeAll() }
                }
                nextBit += 1
            }
        }
        lastLevel = level
    }

    /// Mark (true) or space over samples [from, to).
    private func integratedLevel(from: Double, to: Double) -> Bool {
        var a = (0.0, 0.0, 0.0, 0.0)
        var k = Int(from.rounded(.up))
        let last = Int(to.rounded(.up))
        if k < n - 31 { k = n - 31 }
        while k < last && k <= n {
            let v = recent[k & 31]
            a.0 += v.0; a.1 += v.1; a.2 += v.2; a.3 += v.3
            k += 1
        }
        return a.0 * a.0 + a.1 * a.1 >= a.2 * a.2 + a.3 * a.3
    }

    private mutating func byte(_ b: UInt8, onMessage: ([UInt8]) -> Void) {
        guard armed else { return }
        // A message starts with a known type; anything else means we locked onto noise.
        if bytes.isEmpty && ![CallerIDMessage.sdmfCallerID, CallerIDMessage.sdmfMessageWaiting,
                                CallerIDMessage.mdmfCallerID, CallerIDMessage.mdmfMessageWaiting].contains(b) {
            armed = false
            return
        }
        bytes.append(b)
        if bytes.count >= 2, bytes.count == Int(bytes[1]) + 3 {
            var sum: UInt8 = 0
            for x in bytes { sum &+= x }
            if sum == 0 { onMessage(bytes) }
            bytes.removeAll()
            armed = false
        }
    }
}
