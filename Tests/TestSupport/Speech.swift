import Foundation  // tests only: processes and temporary files
import TelephonyDSP

/// Speech for tests: espeak-ng reads `Tests/Fixtures/talkoff/speech.txt` in a voice, sox
/// resamples it to 8 kHz mono (both installed by `make test`). A signal neither TipRing nor
/// its codecs made — for what a codec does to speech, and for talk-off.
package enum Speech {
    package static func espeak(voice: String = "en", speed: Int = 175, pitch: Int = 50, in dir: URL) throws -> [Int16] {
        let wav = dir.appendingPathComponent("\(voice)-\(speed)-\(pitch).wav").path
        let raw = wav + ".raw"
        let text = repositoryRoot + "/Tests/Fixtures/talkoff/speech.txt"
        let e = try runProcess("/usr/bin/env", ["espeak-ng", "-v", voice, "-s", "\(speed)", "-p", "\(pitch)", "-w", wav, "-f", text])
        guard e.status == 0 else { throw ToolFailure(description: "espeak-ng failed (make test installs it): \(e.err)") }
        let s = try runProcess("/usr/bin/env", ["sox", wav, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", raw])
        guard s.status == 0 else { throw ToolFailure(description: "sox failed (make test installs it): \(s.err)") }
        return SpanDSP.samples([UInt8](try Data(contentsOf: URL(fileURLWithPath: raw))))
    }

    /// Scales speech so that its active parts (samples above 200) sit at `dBm0`.
    package static func normalised(_ x: [Int16], dBm0: Double) -> [Int16] {
        let gain = pow(10, (dBm0 - activeLevel(x)) / 20)
        return x.map { Int16(max(-32768, min(32767, (Double($0) * gain).rounded()))) }
    }

    /// The level of the active parts (samples above 200), dBm0.
    package static func activeLevel(_ x: [Int16]) -> Double { Level.dBm0(of: x.filter { abs(Int($0)) > 200 }) }

    /// The share of energy in each band (edges in Hz), by the Goertzel power at every 50 Hz
    /// of the band over 256-sample blocks — a coarse spectrum to compare speech by.
    package static func bandShares(_ x: [Int16], edges: [Double] = [200, 500, 1000, 2000, 3400]) -> [Double] {
        var power = [Double](repeating: 0, count: edges.count - 1)
        var start = 0
        while start + 256 <= x.count {
            let block = x[start..<(start + 256)]
            for b in 0..<(edges.count - 1) {
                var f = edges[b]
                while f < edges[b + 1] {
                    let l = Level.level(at: f, in: block)
                    if l.isFinite { power[b] += pow(10, l / 10) }
                    f += 50
                }
            }
            start += 256
        }
        let total = power.reduce(0, +)
        return power.map { total > 0 ? $0 / total : 0 }
    }
}
