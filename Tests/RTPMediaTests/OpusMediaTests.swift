import Foundation  // tests only: temporary files
import Testing
import TipRingCore
import TestSupport
import TelephonyDSP
import SIPCore
import RTPMedia

/// Opus (RFC 6716, RTP RFC 7587) through two media bridges: A's capture to B's playback over
/// an in-memory wire that may lose packets. libopus codes; the checks are the RFC's rules for
/// the stream and what a listener would measure.
@Suite("Opus media")
struct OpusMediaTests {
    final class Wire: @unchecked Sendable { var packets: [[UInt8]] = [] }

    struct Run {
        var sent: [RTPPacket] = []
        var heard: [Int16] = []
        var sender = CallStatistics(codec: "")
        var receiver = CallStatistics(codec: "")
    }

    /// `farFmtp`: the fmtp B wrote (what A sends to); `input` the sample A's microphone has at
    /// each instant; `lose` whether the wire drops the n-th packet.
    func run(seconds: Int, farFmtp: String? = PayloadFormat.opus.fmtp, input: [Int16], lose: (Int) -> Bool = { _ in false }) -> Run {
        var format = PayloadFormat.opus
        format.fmtp = farFmtp
        let sd = SessionDescription(address: "127.0.0.1", port: 4000, formats: [format, .telephoneEvent48k])
        let session = MediaSession(local: sd, remote: sd, codec: format, telephoneEvent: .telephoneEvent48k, sending: true, receiving: true)
        let wire = Wire()
        let a = MediaBridge(session: session, ssrc: 1, at: .zero) { wire.packets.append(Array($0)) }
        let b = MediaBridge(session: session, ssrc: 2, at: .zero) { _ in }
        var frame = [Int16](repeating: 0, count: 160), out = [Int16](repeating: 0, count: 160)
        var r = Run()
        var delivered = 0, n = 0
        for p in 0..<(seconds * 50) {
            let t = Instant(nanoseconds: Int64(p) * 20_000_000)
            for k in 0..<160 { frame[k] = p * 160 + k < input.count ? input[p * 160 + k] : 0 }
            frame.withUnsafeBufferPointer { a.consume($0, at: t) }
            while delivered < wire.packets.count {
                if let packet = try? RTPPacket.parse(wire.packets[delivered]) { r.sent.append(packet) }
                if !lose(n) { wire.packets[delivered].withUnsafeBytes { b.receive($0, at: t) } }
                delivered += 1
                n += 1
            }
            out.withUnsafeMutableBufferPointer { b.render(into: $0, at: t) }
            r.heard += out
        }
        r.sender = a.statistics
        r.receiver = b.statistics
        return r
    }

    static func tone(_ hz: Int, dBm0: Double, seconds: Int) -> [Int16] {
        var synth = ToneSynthesizer(try! Tone("\(hz)", level: dBm0))
        var samples = [Int16](repeating: 0, count: 8000 * seconds)
        samples.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        return samples
    }

    @Test("a tone goes through at its frequency and level; 20 ms packets on the 48 kHz clock, marker first, about 16 kbit/s")
    func toneAndPacketization() {
        let r = run(seconds: 3, input: Self.tone(1004, dBm0: -16, seconds: 3))
        let m = Level.sine(Array(r.heard[8000...]))
        print("Opus: 1004 Hz at -16 dBm0 → \(m.frequency) Hz at \(m.level) dBm0; \(r.sent.count) packets, mean payload \(r.sender.payloadOctetsSent / max(1, r.sent.count)) bytes")
        #expect(abs(m.frequency - 1004) < 3 && abs(m.level - -16) < 1, "\(m)")
        #expect(r.sent.count == 150 && r.sent.allSatisfy { $0.payloadType == 111 })
        #expect(r.sent[0].marker && r.sent.dropFirst().allSatisfy { !$0.marker })
        #expect(zip(r.sent, r.sent.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 && $1.timestamp == $0.timestamp &+ 960 })
        // The far end takes FEC: 20 kbit/s, 50 bytes per 20 ms on average (variable bit rate);
        // G.711 would be 160.
        let bytesPerPacket = Double(r.sender.payloadOctetsSent) / Double(r.sent.count)
        #expect(bytesPerPacket > 20 && bytesPerPacket < 62, "\(bytesPerPacket)")
        #expect(r.receiver.packetsLost == 0 && r.receiver.silentPauses == 0 && r.receiver.codec == "opus")
    }

    @Test("DTX: silence is not sent (the timestamp moves on, the sequence number does not), the next packet is marked, and the pause is no loss")
    func discontinuousTransmission() {
        // 1 s of tone, 2 s of silence, 1 s of tone.
        var input = Self.tone(800, dBm0: -12, seconds: 4)
        for i in 8000..<24000 { input[i] = 0 }
        let r = run(seconds: 4, input: input)
        print("DTX: \(r.sent.count) packets for 200 frames, \(r.sender.silentFrames) not sent; far end: \(r.receiver.silentPauses) pauses, \(r.receiver.packetsLost) lost")
        #expect(r.sent.count < 120 && r.sender.silentFrames == 200 - r.sent.count)
        #expect(zip(r.sent, r.sent.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 && ($1.timestamp &- $0.timestamp) % 960 == 0 })
        let pauses = zip(r.sent, r.sent.dropFirst()).filter { $1.timestamp &- $0.timestamp > 960 }
        #expect(!pauses.isEmpty && pauses.allSatisfy { $0.1.marker })
        #expect(r.receiver.packetsLost == 0 && r.receiver.silentPauses == pauses.count)
        // The tone after the pause is heard as before it.
        let after = Level.sine(Array(r.heard[(26000)..<32000]))
        #expect(abs(after.frequency - 800) < 3 && abs(after.level - -12) < 1, "\(after)")
        // A far end that did not ask for DTX gets every frame.
        var noDTX = PayloadFormat.opus.fmtp!
        noDTX = noDTX.replacing("usedtx=1", with: "usedtx=0")
        #expect(run(seconds: 4, farFmtp: noDTX, input: input).sent.count == 200)
    }

    /// espeak-ng's speech at −20 dBm0, about `seconds` long (the text read again as needed).
    static func speech(seconds: Int) throws -> [Int16] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-opus-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let once = Speech.normalised(try Speech.espeak(in: dir), dBm0: -20)
        var x: [Int16] = []
        while x.count < seconds * 8000 { x += once }
        return Array(x.prefix(seconds * 8000))
    }

    @Test("5 % of packets lost in speech: the frame before a packet is rebuilt from its in-band FEC; none when the far end did not ask for FEC")
    func forwardErrorCorrection() throws {
        func lossAt5Percent() -> (Int) -> Bool {
            var random = SeededRandom(seed: 7)
            var decided: [Int: Bool] = [:]
            return { n in
                if let d = decided[n] { return d }
                let d = n > 10 && random.unit() < 0.05
                decided[n] = d
                return d
            }
        }
        let voice = try Self.speech(seconds: 30)
        let with = run(seconds: 30, input: voice, lose: lossAt5Percent())
        var noFEC = PayloadFormat.opus.fmtp!
        noFEC = noFEC.replacing("useinbandfec=1", with: "useinbandfec=0")
        let without = run(seconds: 30, farFmtp: noFEC, input: voice, lose: lossAt5Percent())
        let fraction = Double(with.receiver.recoveredFrames) / Double(max(1, with.receiver.packetsLost))
        print("FEC at 5 % loss: \(with.receiver.packetsLost) lost, \(with.receiver.recoveredFrames) rebuilt (\(Int(fraction * 100)) %), concealed \(with.receiver.concealedFrames) frames; without FEC: \(without.receiver.recoveredFrames) rebuilt, concealed \(without.receiver.concealedFrames)")
        #expect(with.receiver.packetsLost >= 30 && with.receiver.packetsLost == without.receiver.packetsLost)
        #expect(fraction >= 0.8)
        #expect(without.receiver.recoveredFrames == 0)
        #expect(with.receiver.concealedFrames < without.receiver.concealedFrames)
        // Larger packets with the FEC in them.
        #expect(with.sender.payloadOctetsSent > without.sender.payloadOctetsSent)
    }

    @Test("random payloads with Opus's payload type: nothing traps, nothing is played of them, the call goes on")
    func hostilePayloads() throws {
        let sd = SessionDescription(address: "127.0.0.1", port: 4000, formats: [.opus])
        let session = MediaSession(local: sd, remote: sd, codec: .opus, telephoneEvent: nil, sending: true, receiving: true)
        let b = MediaBridge(session: session, ssrc: 2, at: .zero) { _ in }
        var random = SeededRandom(seed: 11)
        var out = [Int16](repeating: 0, count: 160)
        for i in 0..<5000 {
            let length = Int(random.next() % 1400)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let header = RTPPacket(payloadType: 111, marker: false, sequence: UInt16(truncatingIfNeeded: i), timestamp: UInt32(truncatingIfNeeded: i * 960),
                                   ssrc: 9, payload: []).serialized()
            bytes = header + bytes
            bytes.withUnsafeBytes { b.receive($0, at: Instant(nanoseconds: Int64(i) * 20_000_000)) }
            out.withUnsafeMutableBufferPointer { b.render(into: $0, at: Instant(nanoseconds: Int64(i) * 20_000_000)) }
        }
        #expect(b.statistics.packetsReceived < 5000)
    }

    @Test("a key beside Opus: RFC 4733 durations on the 48 kHz clock")
    func eventsOn48kHz() {
        var s = TelephoneEventSender(digit: "5", milliseconds: 100, timestamp: 9600, clockRate: 48000)
        var durations: [Int] = []
        while let p = s.next() { durations.append(Int(TelephoneEvent.parse(p.payload)!.duration)) }
        #expect(durations == [960, 1920, 2880, 3840, 4800, 4800, 4800])
    }
}
