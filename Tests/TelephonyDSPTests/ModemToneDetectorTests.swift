import Foundation  // tests only: temporary files
import Testing
import TipRingCore
@testable import TelephonyDSP
import TestSupport

/// Fax and modem tones as spandsp makes them (its connect-tone generator, not ours), and
/// what must never pass for one: speech, DTMF, every region's call-progress tones, the
/// 1004 Hz test tone. Tolerances are T.30's and V.25's, written here.
@Suite(.serialized) struct ModemToneDetectorTests {
    static func sine(_ hz: Double, dBm0: Double = -12, milliseconds: Int) -> [Int16] {
        let a = Level.sineAmplitude(dBm0: dBm0)
        return (0..<(milliseconds * 8)).map { Int16((a * sin(2 * Double.pi * hz * Double($0) / 8000)).rounded()) }
    }

    @Test("spandsp's CNG is a fax calling, recognised within its first 500 ms burst", arguments: [0, 37])
    func faxCallingTone(leadInMs: Int) throws {
        let cng = [Int16](repeating: 0, count: leadInMs * 8) + (try SpanDSP.connectTone("cng", milliseconds: 4000))
        var d = ModemToneDetector()
        var at: Int?
        var n = 0
        cng.withUnsafeBufferPointer { buf in
            for chunk in stride(from: 0, to: buf.count, by: 160) {
                d.process(UnsafeBufferPointer(rebasing: buf[chunk..<min(chunk + 160, buf.count)])) { e in
                    if e == .faxCalling && at == nil { at = n + 160 }
                }
                n += 160
            }
        }
        let when = try #require(at, "CNG not recognised")
        #expect(when <= (leadInMs + 500) * 8, "recognised \(when / 8) ms in")
        #expect(!ModemToneDetector.detect(cng).contains(.answerTone))
    }

    @Test("spandsp's answer tones: ANS and ANSam recognised, and their phase reversals (every 450 ms) counted where they have them",
          arguments: [("ans", false), ("ans-pr", true), ("ansam", false), ("ansam-pr", true)])
    func answerTones(kind: String, reversals: Bool) throws {
        let tone = try SpanDSP.connectTone(kind, milliseconds: 3300)
        let events = ModemToneDetector.detect(tone)
        #expect(events.first == .answerTone, "\(kind): \(events)")
        #expect(!events.contains(.faxCalling))
        let count = events.filter { $0 == .answerPhaseReversal }.count
        // 3.3 s of tone, reversals every 450 ms from its start, the first 400 ms before it is recognised.
        if reversals { #expect((5...7).contains(count), "\(kind): \(count) reversals") } else { #expect(count == 0, "\(kind): \(events)") }
    }

    @Test("spandsp's V.21 HDLC flags (a fax machine's preamble) recognised within about 300 ms, once; the bits of a frame after them are no new event")
    func v21Flags() throws {
        let flags = try SpanDSP.v21Flags(milliseconds: 1000)
        var d = ModemToneDetector()
        var at: [Int] = []
        var n = 0
        flags.withUnsafeBufferPointer { buf in
            for chunk in stride(from: 0, to: buf.count, by: 160) {
                d.process(UnsafeBufferPointer(rebasing: buf[chunk..<min(chunk + 160, buf.count)])) { e in
                    if e == .v21Flags { at.append(n + 160) }
                }
                n += 160
            }
        }
        #expect(at.count == 1, "\(at)")
        #expect((at.first ?? .max) <= 300 * 8, "recognised \((at.first ?? 0) / 8) ms in")
        // Not from other FSK: our own caller-ID spills (Bell 202, V.23) hold no V.21 flags.
        let spill = CallerIDSender.audio(.callerID(CallerIDInfo(number: "5551234567", name: "ALICE")), scheme: .etsiAfterRing)!
        #expect(!ModemToneDetector.detect(spill).contains(.v21Flags))
        let bell = CallerIDSender.audio(.callerID(CallerIDInfo(number: "5551234567", name: "ALICE")), scheme: .bell202(.multiple))!
        #expect(!ModemToneDetector.detect(bell).contains(.v21Flags))
    }

    @Test("frequency tolerance: CNG 1100 ± 38 Hz, ANS 2100 ± 15 Hz")
    func tolerances() {
        #expect(ModemToneDetector.detect(Self.sine(1100 + 30, milliseconds: 600)) == [.faxCalling])
        #expect(ModemToneDetector.detect(Self.sine(1100 - 30, milliseconds: 600)) == [.faxCalling])
        #expect(ModemToneDetector.detect(Self.sine(1100 + 60, milliseconds: 600)).isEmpty)
        #expect(ModemToneDetector.detect(Self.sine(2100 + 12, milliseconds: 600)) == [.answerTone])
        #expect(ModemToneDetector.detect(Self.sine(2100 - 40, milliseconds: 600)).isEmpty)
        // Shorter than 400 ms is no tone; too quiet (−50 dBm0) neither.
        #expect(ModemToneDetector.detect(Self.sine(2100, milliseconds: 300)).isEmpty)
        #expect(ModemToneDetector.detect(Self.sine(1100, dBm0: -50, milliseconds: 600)).isEmpty)
    }

    @Test("never a fax or modem tone: DTMF keys, the 1004 Hz test tone, every region's call-progress tones")
    func noFalseTones() throws {
        #expect(ModemToneDetector.detect(try SpanDSP.generateDTMF("0123456789*#ABCD", on: 200, off: 50)).isEmpty)
        #expect(ModemToneDetector.detect(Self.sine(1004, milliseconds: 2000)).isEmpty)
        for (region, plan) in RegionTonePlan.all {
            for (kind, tone) in plan.tones {
                var synth = ToneSynthesizer(tone)
                var out = [Int16](repeating: 0, count: 8000 * 4)
                out.withUnsafeMutableBufferPointer { synth.render(into: $0) }
                #expect(ModemToneDetector.detect(out).isEmpty, "\(region) \(kind)")
            }
        }
    }

    @Test("never a fax or modem tone: speech (espeak-ng, four voices)")
    func noToneInSpeech() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-modemtone-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (voice, speed, pitch) in [("en", 175, 50), ("en+f3", 170, 70), ("de", 160, 40), ("fr", 180, 55)] {
            let speech = Speech.normalised(try Speech.espeak(voice: voice, speed: speed, pitch: pitch, in: dir), dBm0: -10)
            #expect(ModemToneDetector.detect(speech).isEmpty, "\(voice)")
        }
    }
}
