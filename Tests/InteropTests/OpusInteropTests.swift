import Foundation  // tests only: files, processes
import Testing
import SIPCore
import RTPMedia
import TelephonyDSP
import PortControl
import TipRingCore
import SystemCalls
import TestSupport

/// Opus between a TipRing port and baresip's `opus` module (libopus, its own resampling to
/// 48 kHz), through Kamailio on real UDP: both sides offer only Opus, baresip asks for FEC and
/// DTX in its fmtp as TipRing does.
@Suite("Opus with baresip through Kamailio", .serialized)
struct OpusInteropTests {
    /// A tone for 3 s, then espeak-ng's speech for 12 s, then silence: 30 s in all (baresip's
    /// file source ends its call when it runs out).
    static func toneThenSpeech(hz: Int, dBm0: Double, speech: [Int16]) throws -> [Int16] {
        var synth = ToneSynthesizer(try Tone("\(hz)", level: dBm0))
        var tone = [Int16](repeating: 0, count: 8000 * 3)
        tone.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        var talk: [Int16] = []
        while talk.count < 8000 * 12 { talk += speech }
        return tone + talk.prefix(8000 * 12) + [Int16](repeating: 0, count: 8000 * 15)
    }

    @Test("audio both ways (tones by Goertzel, speech by level and spectrum), RFC 4733 digits both ways, our silence not sent (DTX), no loss, under 60 bytes a packet")
    func opusBothWays() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-opus-interop-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let speech = Speech.normalised(try Speech.espeak(in: dir), dBm0: -20)
        // baresip says 1004 Hz at −10 dBm0 for 3 s, then speech for 12 s, then nothing.
        let theirs = try Self.toneThenSpeech(hz: 1004, dBm0: -10, speech: speech)
        // The speech compared: seconds 4 to 14 of what each side says.
        let sourceShares = Speech.bandShares(Array(theirs[(8000 * 4)..<(8000 * 14)]))
        let c = try await BaresipCall(sipPorts: 41000...41499, rtpPorts: 41500...41599, baresipRTP: "41600-41700", source: theirs, opus: true)
        let (system, clock, scheduler, baresip) = (c.system, c.clock, c.scheduler, c.baresip)
        let media = try #require(clock.sync { system.port(1).userAgent.media(of: c.call) })
        #expect(media.codec.name == "opus" && media.codec.clockRate == 48000, "\(media.codec)")
        // Our phone says 1804 Hz at −16 dBm0 for 3 s, then the same speech.
        let ours = try Self.toneThenSpeech(hz: 1804, dBm0: -16, speech: speech)
        final class Cursor: @unchecked Sendable { var at = 0 }
        let cursor = Cursor()
        let t0 = clock.sync { scheduler.now }
        clock.sync {
            system.port(1).phone.mouthpiece.generator = { frame, _ in
                for k in frame.indices {
                    frame[k] = cursor.at < ours.count ? ours[cursor.at] : 0
                    cursor.at += 1
                }
            }
        }
        clock.advance(by: .seconds(17))
        // baresip's tone (a Goertzel filter at 1004 Hz against its neighbours), then its speech.
        let earpiece = clock.sync { system.port(1).phone.earpiece }
        let toneLevel = clock.sync { earpiece.level(at: 1004, from: t0 + .milliseconds(1000), to: t0 + .milliseconds(2500)) }
        let offTone = clock.sync { earpiece.level(at: 1404, from: t0 + .milliseconds(1000), to: t0 + .milliseconds(2500)) }
        let heard = clock.sync { earpiece.sine(from: t0 + .milliseconds(1000), to: t0 + .milliseconds(2500)) }
        print("from baresip over Opus: 1004 Hz at -10 dBm0 → Goertzel \(toneLevel) dBm0 (1404 Hz: \(offTone)), \(heard.frequency) Hz")
        #expect(abs(toneLevel - -10) < 1.5 && offTone < toneLevel - 30 && abs(heard.frequency - 1004) < 10)
        let theirSpeech = Array(clock.sync { earpiece.samples(from: t0 + .seconds(4), to: t0 + .seconds(14)) })
        let heardShares = Speech.bandShares(theirSpeech)
        let speechLevel = Speech.activeLevel(theirSpeech)
        print("from baresip: speech at -20 dBm0 → \(speechLevel) dBm0; energy by band 200/500/1000/2000/3400 Hz: sent \(sourceShares), heard \(heardShares)")
        #expect(abs(speechLevel - -20) < 2)
        #expect(zip(sourceShares, heardShares).allSatisfy { abs($0 - $1) < 0.08 }, "\(sourceShares) vs \(heardShares)")
        // Digits as RFC 4733 events (baresip takes the 8 kHz telephone-event beside Opus): its
        // reach us, ours reach it (its control port reports them).
        try baresip.command("sndcode", "9")
        #expect(c.wait(5) { system.port(1).digitsReceived == ["9"] }, "\(clock.sync { system.port(1).digitsReceived })")
        let events = try #require(baresip.events(), "baresip's control port refused")
        _ = clock.sync { system.port(1).phone.press("5") }
        let keyArrived = events.wait(type: "CALL_DTMF_START", param: "5", seconds: 5)
        #expect(keyArrived, "baresip did not report our key: \(events.text)")
        let sent = clock.sync { system.port(1).media.current }
        clock.sync { system.port(1).phone.hangUp() }
        #expect(c.wait(5) { system.port(1).controller.machine.line == .idle })
        let stats = try #require(sent)
        print("TipRing's Opus stream: \(stats.packetsSent) packets, \(stats.payloadOctetsSent) payload bytes (\(stats.payloadOctetsSent / max(1, stats.packetsSent)) per packet), \(stats.silentFrames) silent frames not sent; received \(stats.packetsReceived), lost \(stats.packetsLost), baresip's pauses \(stats.silentPauses)")
        // No loss on loopback — baresip's RFC 4733 packets, which take sequence numbers of the
        // stream, are no gap in it. (baresip sends its DTX frames, a byte each, every 20 ms
        // rather than pausing.)
        #expect(stats.packetsLost == 0)
        // Our phone went quiet after its speech: most of those frames were not sent.
        #expect(stats.silentFrames > 100)
        #expect(stats.payloadOctetsSent / max(1, stats.packetsSent) < 60)
        // What baresip heard: our tone, then our speech.
        _ = waitForPeer(5, every: 0.1) { (baresip.receivedAt8kHz()?.count ?? 0) >= 8000 * 10 }
        let recorded = try #require(baresip.receivedAt8kHz(), "no recording: \(baresip.log)")
        // Where our tone starts in its recording (the first 50 ms with 1804 Hz in it), and its
        // second second.
        let onset = try #require(stride(from: 0, to: max(0, min(recorded.count, 80000) - 400), by: 400).first {
            Level.level(at: 1804, in: recorded[$0..<($0 + 400)]) > -26
        }, "no 1804 Hz in baresip's recording")
        let second = Array(recorded[min(onset + 8000, recorded.count)..<min(onset + 16000, recorded.count)])
        let toBaresip = Level.level(at: 1804, in: second), theirTone = Level.sine(second)
        print("to baresip over Opus: 1804 Hz at -16 dBm0 → Goertzel \(toBaresip) dBm0 (1404 Hz: \(Level.level(at: 1404, in: second))), \(theirTone.frequency) Hz")
        // baresip's decoding of this stream reads 1.1–1.2 dB high (−14.8 to −14.9 dBm0 in every
        // run so far; libopus's 8 kHz decoder makes −16.0 to −16.3 of our encoder's tone in
        // OpusMediaTests): hence ±2 dB here, ±1.5 the other way.
        #expect(abs(toBaresip - -16) < 2 && abs(theirTone.frequency - 1804) < 18 && Level.level(at: 1404, in: second) < toBaresip - 30)
        let ourSpeech = Array(recorded[min(onset + 8000 * 4, recorded.count)..<min(onset + 8000 * 14, recorded.count)])
        let theirShares = Speech.bandShares(ourSpeech)
        let ourShares = Speech.bandShares(Array(ours[(8000 * 4)..<(8000 * 14)]))
        let ourLevel = Speech.activeLevel(ourSpeech)
        print("to baresip: speech at -20 dBm0 → \(ourLevel) dBm0; by band: sent \(ourShares), heard \(theirShares)")
        #expect(ourSpeech.count == 8000 * 10 && abs(ourLevel - -20) < 2)
        #expect(zip(ourShares, theirShares).allSatisfy { abs($0 - $1) < 0.08 }, "\(ourShares) vs \(theirShares)")
        await c.close()
    }
}
