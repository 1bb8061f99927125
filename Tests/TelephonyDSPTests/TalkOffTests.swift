import Foundation  // tests only
import Testing
import TipRingCore
@testable import TelephonyDSP
import TestSupport

/// Talk-off: speech and the call-progress tones of every region must never be taken for a
/// DTMF key. Speech comes from espeak-ng (several voices, speeds and pitches), resampled to
/// 8 kHz by sox — both installed by `make test`.
@Suite(.serialized) struct TalkOffTests {
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
            let x = try Speech.espeak(voice: voice, speed: speed, pitch: pitch, in: dir)
            guard !x.isEmpty else { continue }
            voicesUsed.append(voice)
            for level in [-20.0, -10.0] {
                let audio = Speech.normalised(x, dBm0: level)
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
