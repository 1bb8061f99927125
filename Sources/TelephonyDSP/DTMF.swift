#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// The DTMF keypad: row (low group) and column (high group) frequencies (ITU-T Q.23).
public enum DTMF {
    public static let rowFrequencies: [Double] = [697, 770, 852, 941]
    public static let columnFrequencies: [Double] = [1209, 1336, 1477, 1633]
    public static let keys: [[Character]] = [
        ["1", "2", "3", "A"],
        ["4", "5", "6", "B"],
        ["7", "8", "9", "C"],
        ["*", "0", "#", "D"],
    ]
    /// All sixteen keys.
    public static let allKeys: [Character] = Array("123A456B789C*0#D")

    /// The (row, column) frequencies of a key, or nil for a character that is not a key.
    public static func frequencies(of key: Character) -> (low: Double, high: Double)? {
        let k = Character(key.uppercased())
        for (r, row) in keys.enumerated() {
            if let c = row.firstIndex(of: k) { return (rowFrequencies[r], columnFrequencies[c]) }
        }
        return nil
    }
}

/// Generates DTMF digits as audio (an `AudioSource`-shaped renderer, usable standalone).
///
/// Each digit is the sum of its two sines at the given levels, for `onDuration`, then
/// silence for `offDuration`. Sample-accurate; 1 ms raised-cosine ramps at each edge keep
/// the spectrum clean.
public struct DTMFGenerator: Sendable {
    public var lowLevel: Double
    public var highLevel: Double
    public var onDuration: Int
    public var offDuration: Int
    public let sampleRate: Int

    /// Levels in dBm0 per tone; durations in milliseconds.
    public init(lowLevel: Double = -10, highLevel: Double = -8, onMilliseconds: Int = 50, offMilliseconds: Int = 50, sampleRate: Int = 8000) {
        self.lowLevel = lowLevel
        self.highLevel = highLevel
        self.sampleRate = sampleRate
        self.onDuration = onMilliseconds * sampleRate / 1000
        self.offDuration = offMilliseconds * sampleRate / 1000
    }

    /// The samples of `digits` (characters that are not keys are skipped).
    public func render(_ digits: String, frequencyScale: (low: Double, high: Double) = (1, 1)) -> [Int16] {
        var out: [Int16] = []
        out.reserveCapacity(digits.count * (onDuration + offDuration))
        for ch in digits {
            guard let f = DTMF.frequencies(of: ch) else { continue }
            out += tone(low: f.low * frequencyScale.low, high: f.high * frequencyScale.high)
            out += [Int16](repeating: 0, count: offDuration)
        }
        return out
    }

    /// One tone pair of `onDuration` samples.
    public func tone(low: Double, high: Double) -> [Int16] {
        let a1 = Level.sineAmplitude(dBm0: lowLevel), a2 = Level.sineAmplitude(dBm0: highLevel)
        let w1 = 2 * Double.pi * low / Double(sampleRate), w2 = 2 * Double.pi * high / Double(sampleRate)
        let ramp = sampleRate / 1000
        return (0..<onDuration).map { n in
            var g = 1.0
            if n < ramp { g = 0.5 - 0.5 * cos(Double.pi * Double(n) / Double(ramp)) }
            let fromEnd = onDuration - 1 - n
            if fromEnd < ramp { g = min(g, 0.5 - 0.5 * cos(Double.pi * Double(fromEnd) / Double(ramp))) }
            let v = g * (a1 * sin(w1 * Double(n)) + a2 * sin(w2 * Double(n)))
            return Int16(max(-32768, min(32767, v.rounded())))
        }
    }
}
