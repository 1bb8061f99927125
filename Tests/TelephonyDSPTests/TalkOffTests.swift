import Foundation  // tests only
import Testing
import TipRingCore
@testable import TelephonyDSP
import TestSupport

/// Talk-off: speech and the call-progress tones of every region must never be taken for a
/// DTMF key. Speech comes from espeak-ng (several voices, speeds and pitches), resampled to
/// 8 kHz by sox — both installed by `make test`.
@Suite(.serialized) struct TalkOffTests {
    static func speech(voice: String, speed: Int, pitch: Int, dir: URL) throws -> [Int16] {
        let wav = dir.appendingPathComponent("\(voice)-\(speed)-\(pitch).wav").path
        let raw = wav + ".raw"
        let text = repositoryRoot + "/Tests/Fixtures/talkoff/speech.txt"
        let e = try run("/usr/bin/env", ["espeak-ng", "-v", voice, "-s", "\(speed)", "-p", "\(pitch)", "-w", wav, "-f", text])
        guard e.status == 0 else { throw ToolFailure(description: "espeak-ng failed (make test installs it): \(e.err)") }
        let s = try run("/usr/bin/env", ["sox", wav, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", raw])
        guard s.status == 0 else { throw ToolFailure(description: "sox failed (make test installs it): \(s.err)") }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        return samples(bytes)
    }

    /// Scales speech so that its active parts sit at `dBm0`.
    static func normalised(_ x: [Int16], dBm0: Double) -> [Int16] {
        let active = x.filter { abs(Int($0)) > 200 }
        let now = Level.dBm0(of: active)
        let gain = pow(10, (dBm0 - now) / 20)
        return x.map { Int16(max(-32768, min(32767, (Double($0) * gain).rounded()))) }
    }

    @Test func noKeysInTenMinutesOfSpeech() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-talkoff-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let voices: [(String, Int, Int)] = [
            ("en", 175, 50), ("en-us", 150, 35), ("en-gb-x-rp", 200, 65), ("en+f3", 170, 70),
            ("de", 160, 40), ("fr", 180, 55), ("es", 170, 45), ("it", 165, 60),
            ("nl", 155, 50), ("pt", 175, 30), ("sv", 170, 75), ("en+m3", 130, 25),
        ]
        var totalSamples = 0
        var falseKeys = ""
        var voicesUsed: [String] = []
        for (voice, speed, pitch) in voices {
            let x = try Self.speech(voice: voice, speed: speed, pitch: pitch, dir: dir)
            guard !x.isEmpty else { continue }
            voicesUsed.append(voice)
            for level in [-20.0, -10.0] {
                let audio = Self.normalised(x, dBm0: level)
                falseKeys += DTMFDetector.detect(audio)
                totalSamples += audio.count
            }
        }
        let minutes = Double(totalSamples) / 8000 / 60
        print("DTMF talk-off: \(falseKeys.count) false keys in \(String(format: "%.1f", minutes)) minutes of espeak-ng speech (\(voicesUsed.count) voices at −20 and −10 dBm0)")
        #expect(minutes >= 10)
        #expect(falseKeys == "", "false keys: \(falseKeys)")
    }

    @Test func noKeysInAnyToneOfAnyRegion() {
        var falseKeys: [String] = []
        var seconds = 0.0
        for (code, plan) in RegionTonePlan.all.sorted(by: { $0.key < $1.key }) {
            for (kind, tone) in plan.tones.sorted(by: { $0.key < $1.key }) {
                let x = ToneSynthesizer.samples(of: tone, count: 8000 * 4)
                seconds += 4
                let keys = DTMFDetector.detect(x)
                if !keys.isEmpty { falseKeys.append("\(code) \(kind): \(keys)") }
            }
        }
        print("DTMF talk-off on tones: \(falseKeys.count) false keys in \(Int(seconds / 60)) minutes of tones (\(RegionTonePlan.all.count) regions × \(ToneKind.allCases.count) tones)")
        #expect(falseKeys.isEmpty, "\(falseKeys)")
    }
}
