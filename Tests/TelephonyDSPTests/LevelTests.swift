import Testing
import TelephonyDSP
#if canImport(Glibc)
import Glibc
#endif

@Suite("Level of one frequency among several (Goertzel)")
struct LevelTests {
    /// Samples of sines summed, each at its own level, computed here from their definition.
    static func sines(_ parts: [(hz: Double, dBm0: Double)], count: Int = 12_000) -> [Int16] {
        (0..<count).map { n in
            let v = parts.reduce(0.0) { sum, p in sum + Level.sineAmplitude(dBm0: p.dBm0) * sin(2 * Double.pi * p.hz * Double(n) / 8000) }
            return Int16(max(-32768, min(32767, v.rounded())))
        }
    }

    @Test("three voices summed: each one's level within 0.2 dB, a frequency not there far below")
    func threeVoices() {
        let x = Self.sines([(697, -12), (1209, -20), (1633, -6)])
        #expect(abs(Level.level(at: 697, in: x) - -12) < 0.2)
        #expect(abs(Level.level(at: 1209, in: x) - -20) < 0.2)
        #expect(abs(Level.level(at: 1633, in: x) - -6) < 0.2)
        #expect(Level.level(at: 1004, in: x) < -45)
        #expect(Level.level(at: 1004, in: [Int16]()) == -.infinity)
    }
}
