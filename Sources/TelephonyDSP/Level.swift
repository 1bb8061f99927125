#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// Signal levels in dBm0 for 16-bit linear audio.
///
/// Reference (ITU-T G.711): a full-scale sine through A-law is +3.14 dBm0 (through mu-law
/// +3.17 dBm0; the 0.03 dB difference is ignored). So 0 dBm0 is a sine of peak amplitude
/// 32767 · 10^(−3.14/20) ≈ 22877, or RMS ≈ 16176.
public enum Level {
    /// dBm0 of a full-scale sine.
    public static let fullScaleSine = 3.14

    /// The peak amplitude of a sine at `dBm0`.
    public static func sineAmplitude(dBm0: Double) -> Double {
        32767 * pow(10, (dBm0 - fullScaleSine) / 20)
    }

    /// The level, in dBm0, of a signal with mean square `meanSquare` (in 16-bit units²).
    public static func dBm0(meanSquare: Double) -> Double {
        guard meanSquare > 0 else { return -.infinity }
        // A sine of peak A has mean square A²/2; full scale is +3.14 dBm0.
        return 10 * log10(meanSquare / (32767.0 * 32767.0 / 2)) + fullScaleSine
    }

    /// The level of a block of samples in dBm0.
    public static func dBm0<C: Collection>(of samples: C) -> Double where C.Element == Int16 {
        guard !samples.isEmpty else { return -.infinity }
        var sum = 0.0
        for s in samples { sum += Double(s) * Double(s) }
        return dBm0(meanSquare: sum / Double(samples.count))
    }
}

extension Level {
    /// The frequency (zero crossings, interpolated) and level (dBm0) of a single tone.
    public static func sine(_ a: [Int16], sampleRate: Int = 8000) -> (frequency: Double, level: Double) {
        var first: Double?, last = 0.0, count = 0
        for i in 1..<max(1, a.count) where (a[i - 1] < 0) != (a[i] < 0) {
            let y0 = Double(a[i - 1]), y1 = Double(a[i])
            let t = Double(i - 1) + y0 / (y0 - y1)
            if first == nil { first = t }
            last = t
            count += 1
        }
        let level = dBm0(of: a)
        guard let f0 = first, count > 2, last > f0 else { return (0, level) }
        return (Double(count - 1) / 2 / ((last - f0) / Double(sampleRate)), level)
    }
}

extension Level {
    /// The level (dBm0) of one frequency in a block — a Goertzel filter over all of it, so
    /// voices summed together (a three-way call) are told apart.
    public static func level<C: Collection>(at frequency: Double, in samples: C, sampleRate: Int = 8000) -> Double where C.Element == Int16 {
        guard !samples.isEmpty else { return -.infinity }
        let c = 2 * cos(2 * Double.pi * frequency / Double(sampleRate))
        var s1 = 0.0, s2 = 0.0
        for v in samples {
            let s0 = Double(v) + c * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = max(0, s1 * s1 + s2 * s2 - c * s1 * s2)
        // A sine of peak A over N samples gives a power of (A·N/2)².
        let amplitude = 2 * power.squareRoot() / Double(samples.count)
        return amplitude > 0 ? 20 * log10(amplitude / 32767) + fullScaleSine : -.infinity
    }
}
