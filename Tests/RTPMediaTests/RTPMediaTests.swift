import Testing
import TipRingCore
import TelephonyDSP
import SIPCore
import RTPMedia

@Suite("RTP packets")
struct RTPPacketTests {
    @Test("header fields round-trip; CSRCs, extension and padding are skipped")
    func roundTrip() throws {
        let p = RTPPacket(payloadType: 8, marker: true, sequence: 65535, timestamp: 0xDEADBEEF, ssrc: 0x01020304, payload: [1, 2, 3])
        let bytes = p.serialized()
        #expect(bytes.count == 15)
        #expect(bytes[0] == 0x80 && bytes[1] == 0x88)
        #expect(try RTPPacket.parse(bytes) == p)
        // One CSRC, a one-word extension, two bytes of padding.
        var odd: [UInt8] = [0xB1, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9]
        odd += [0, 0, 0, 7]                 // CSRC
        odd += [0xBE, 0xDE, 0, 1, 1, 2, 3, 4]  // extension
        odd += [0xAA, 0xBB]                 // payload
        odd += [0, 2]                       // padding
        let q = try RTPPacket.parse(odd)
        #expect(q.payload == [0xAA, 0xBB] && q.sequence == 1 && q.timestamp == 160 && q.ssrc == 9)
    }

    @Test("malformed packets are refused with a reason")
    func malformed() {
        #expect(throws: RTPError.tooShort(5)) { try RTPPacket.parse([0x80, 0, 0, 0, 0]) }
        #expect(throws: RTPError.version(1)) { try RTPPacket.parse([0x40] + [UInt8](repeating: 0, count: 11)) }
        #expect(throws: RTPError.rtcp) { try RTPPacket.parse([0x80, 200] + [UInt8](repeating: 0, count: 10)) }
        #expect(throws: RTPError.padding) { try RTPPacket.parse([0xA0, 0] + [UInt8](repeating: 0, count: 9) + [200]) }
    }
}

@Suite("RFC 4733 telephone events")
struct TelephoneEventTests {
    @Test("a digit: the first packet with the marker, 20 ms updates with the start timestamp, the end three times")
    func sequence() {
        var s = TelephoneEventSender(digit: "#", milliseconds: 100, timestamp: 4000)
        var out: [(payload: [UInt8], marker: Bool)] = []
        while let p = s.next() { out.append(p) }
        #expect(out.count == 5 + 2)
        #expect(out[0].marker && out.dropFirst().allSatisfy { !$0.marker })
        let parsed = out.map { TelephoneEvent.parse($0.payload)! }
        #expect(parsed.allSatisfy { $0.code == 11 && $0.volume == 10 })
        #expect(parsed.map(\.duration) == [160, 320, 480, 640, 800, 800, 800])
        #expect(parsed.map(\.end) == [false, false, false, false, true, true, true])
    }

    @Test("each event is reported once")
    func receiverReportsOnce() {
        var r = TelephoneEventReceiver()
        var seen: [Character] = []
        for (ts, code) in [(100, 1), (100, 1), (100, 1), (900, 1), (900, 1), (1700, 12)] as [(UInt32, UInt8)] {
            if let d = r.receive(timestamp: ts, payload: TelephoneEvent.payload(code: code, end: false, duration: 160)) { seen.append(d) }
        }
        #expect(seen == ["1", "1", "A"])
        #expect(TelephoneEvent.code(for: "*") == 10 && TelephoneEvent.digit(for: 15) == "D" && TelephoneEvent.code(for: "x") == nil)
    }
}

@Suite("RTCP reports")
struct RTCPTests {
    @Test("SR with a report block and CNAME parses back")
    func roundTrip() throws {
        var block = RTCP.ReportBlock(ssrc: 77, fractionLost: 3, cumulativeLost: 12, highestSequence: 70000, jitter: 40)
        block.lastSR = 5
        let bytes = RTCP.compound(ssrc: 9, sender: RTCP.SenderInfo(ntp: 1 << 40, rtpTimestamp: 160, packets: 50, octets: 8000), block: block, cname: "port1@tipring")
        #expect(bytes.count % 4 == 0)
        let r = try #require(RTCP.parse(bytes))
        #expect(r.ssrc == 9 && r.sender?.packets == 50 && r.blocks == [block] && r.cname == "port1@tipring")
        let rr = try #require(RTCP.parse(RTCP.compound(ssrc: 9, sender: nil, block: nil, cname: "x")))
        #expect(rr.sender == nil && rr.blocks.isEmpty)
        #expect(RTCP.parse([1, 2, 3]) == nil)
    }
}

/// A jitter buffer fed by a simulated network: packets of 20 ms sent on the sender's clock,
/// delivered after a delay with jitter, lost, duplicated; the buffer read every 20 ms.
struct NetworkRun {
    var loss = 0.0, duplication = 0.0
    var delay: Int64 = 30          // ms
    var jitter: Int64 = 0          // ms, uniform extra
    var senderPPM: Int64 = 0       // sender clock fast (+) or slow (−)
    var seconds = 60
    var seed: UInt64 = 1
    /// The sender's first timestamp and sequence number (random in real streams; here they wrap).
    var firstTimestamp: UInt32 = 0
    var firstSequence: UInt16 = 0

    func run() -> ReceiveStatistics {
        var random = SeededRandom(seed: seed)
        var jb = JitterBuffer()
        var arrivals: [(at: Int64, seq: UInt16, ts: UInt32)] = []   // ns
        let packets = seconds * 50
        for i in 0..<packets {
            let sentAt = Int64(i) * 20_000_000 * (1_000_000 - senderPPM) / 1_000_000
            if random.unit() < loss { continue }
            let copies = random.unit() < duplication ? 2 : 1
            for _ in 0..<copies {
                let extra = jitter > 0 ? Int64(random.unit() * Double(jitter * 1_000_000)) : 0
                arrivals.append((sentAt + delay * 1_000_000 + extra, firstSequence &+ UInt16(truncatingIfNeeded: i), firstTimestamp &+ UInt32(truncatingIfNeeded: i * 160)))
            }
        }
        arrivals.sort { $0.at < $1.at }
        let samples = [Int16](repeating: 1000, count: 160)
        var out = [Int16](repeating: 0, count: 160)
        var next = 0
        var t: Int64 = 0
        let end = Int64(packets) * 20_000_000 + 500_000_000
        while t < end {
            while next < arrivals.count, arrivals[next].at <= t {
                let a = arrivals[next]
                samples.withUnsafeBufferPointer { jb.insert(sequence: a.seq, timestamp: a.ts, samples: $0, arrival: Instant(nanoseconds: a.at)) }
                next += 1
            }
            out.withUnsafeMutableBufferPointer { _ = jb.pull(into: $0) }
            t += 20_000_000
        }
        return jb.statistics
    }
}

@Suite("Adaptive jitter buffer")
struct JitterBufferTests {
    func report(_ name: String, _ s: ReceiveStatistics) {
        let pct = Double(s.concealedFrames) / Double(max(1, s.playedFrames)) * 100
        print("jitter buffer, \(name): \(s.packetsReceived) received, \(s.packetsLost) lost, \(s.duplicates) duplicates, \(s.late) late, " +
              "concealed \(s.concealedFrames) of \(s.playedFrames) frames (\(Double(Int(pct * 100)) / 100) %), delay mean \(Double(Int(s.delayMilliseconds * 10)) / 10) ms, max \(s.maximumDelayMilliseconds) ms, " +
              "jitter \(Double(Int(s.jitterMilliseconds * 10)) / 10) ms, dropped \(s.dropped10ms)×10 ms, stretched \(s.stretched10ms)×10 ms")
    }

    @Test("clean network: no concealment, added delay within the minimum + 20 ms")
    func clean() {
        let s = NetworkRun().run()
        report("clean", s)
        #expect(s.concealedFrames == 0)
        #expect(s.packetsLost == 0)
        #expect(s.maximumDelayMilliseconds <= 40 + 20)
        #expect(s.delayMilliseconds >= 10)
    }

    @Test("a random first timestamp and sequence number, both wrapping around: no loss, no concealment")
    func wrapAround() {
        let s = NetworkRun(seconds: 30, firstTimestamp: 0xFFFF_F123, firstSequence: 65000).run()
        report("wrapping timestamps", s)
        #expect(s.concealedFrames == 0 && s.packetsLost == 0 && s.late == 0 && s.resyncs == 0)
    }

    @Test("1 % random loss: at most 3 % of frames concealed")
    func onePercentLoss() {
        let s = NetworkRun(loss: 0.01, jitter: 10, seconds: 300).run()
        report("1 % loss", s)
        #expect(Double(s.concealedFrames) <= 0.03 * Double(s.playedFrames))
        #expect(s.packetsLost > 100 && s.packetsLost < 200)
    }

    @Test("reordering (60 ms jitter) and duplicates: duplicates dropped, little concealment, delay bounded")
    func reorderAndDuplicates() {
        let s = NetworkRun(duplication: 0.05, jitter: 60, seconds: 120).run()
        report("jitter 60 ms + 5 % duplicates", s)
        #expect(s.duplicates > 200)
        #expect(s.packetsLost == 0)
        #expect(Double(s.concealedFrames) <= 0.03 * Double(s.playedFrames))
        #expect(s.maximumDelayMilliseconds <= 200)
    }

    /// Data (fax, modem): a missing packet is silence, not the last audio again; and a
    /// buffer deeper than it needs keeps its depth (a demodulator's timing must not jump).
    @Test("switched to data: silence where a packet is missing, and no 10 ms dropped to follow the network", arguments: [false, true])
    func dataMode(data: Bool) {
        var jb = JitterBuffer()
        if data { jb.switchToData() }
        let frame = [Int16](repeating: 1000, count: 160)
        var out = [Int16](repeating: 0, count: 160)
        var heard: [[Int16]] = []
        // 3 s of packets, 100 ms queued ahead of the playout point; packet 60 lost.
        for n in 0..<150 {
            if n != 60 {
                frame.withUnsafeBufferPointer { jb.insert(sequence: UInt16(n), timestamp: UInt32(n * 160), samples: $0, arrival: .zero) }
            }
            if n >= 5 {
                out.withUnsafeMutableBufferPointer { _ = jb.pull(into: $0) }
                heard.append(out)
            }
        }
        if data {
            #expect(jb.statistics.dropped10ms == 0)
            #expect(heard.dropFirst(10).contains { $0.contains(0) }, "the lost packet is silence")
            #expect(!heard.contains { $0.contains { $0 != 0 && $0 != 1000 } }, "a faded repeat in data mode")
        } else {
            #expect(jb.statistics.dropped10ms > 0)
            #expect(heard.contains { $0.contains { $0 != 0 && $0 != 1000 } }, "no faded repeat in voice mode")
        }
    }

    /// A quiet network lets a voice buffer shrink to its minimum; a fax that starts then must
    /// not lose what a later delay spike brings late (its demodulator cannot skip a gap).
    @Test("switched to data: the delay grows once, at the switch, to the fixed data delay, and a 150 ms spike later makes no gap", arguments: [false, true])
    func dataDelayIsFixed(data: Bool) {
        var jb = JitterBuffer()
        let frame = [Int16](repeating: 1000, count: 160)
        var out = [Int16](repeating: 0, count: 160)
        var concealedAfterSwitch = 0
        // Packet n is sent at n × 20 ms and arrives 5 ms later, but packets 150…156 arrive
        // together 150 ms late; the call turns to data at 2 s (tick 100).
        var pending: [(arrival: Int, n: Int)] = (0..<300).map { n in (n * 20 + ((150...156).contains(n) ? 150 : 5), n) }
        for tick in 0..<300 {
            let now = tick * 20
            while let p = pending.first, p.arrival <= now {
                pending.removeFirst()
                frame.withUnsafeBufferPointer {
                    jb.insert(sequence: UInt16(p.n), timestamp: UInt32(p.n * 160), samples: $0, arrival: .milliseconds(Int64(p.arrival)))
                }
            }
            if data && tick == 100 { jb.switchToData() }
            let concealed = out.withUnsafeMutableBufferPointer { jb.pull(into: $0) }
            if tick > 120 && (concealed || out.contains(0)) { concealedAfterSwitch += 1 }
        }
        if data {
            #expect(jb.statistics.late == 0 && jb.statistics.stretched10ms == 0 && jb.statistics.dropped10ms == 0, "\(jb.statistics)")
            #expect(concealedAfterSwitch == 0, "\(concealedAfterSwitch) frames with a gap after the switch")
        } else {
            // A voice buffer at its minimum delay runs dry in the spike: a gap, the playout
            // point held back (stretched) — what a demodulator cannot survive.
            #expect(concealedAfterSwitch > 0 && jb.statistics.stretched10ms > 0, "\(jb.statistics)")
        }
    }

    @Test("clock drift both ways (±500 ppm over 10 minutes): the delay stays bounded")
    func drift() {
        for ppm: Int64 in [500, -500] {
            let s = NetworkRun(seconds: 600, seed: 3).run()
            _ = s
            let d = NetworkRun(senderPPM: ppm, seconds: 600, seed: 3).run()
            report("drift \(ppm) ppm", d)
            #expect(d.maximumDelayMilliseconds <= 200)
            #expect(Double(d.concealedFrames) <= 0.01 * Double(d.playedFrames))
            if ppm > 0 { #expect(d.dropped10ms > 0) } else { #expect(d.stretched10ms > 0) }
        }
    }
}

@Suite("Media bridge")
struct MediaBridgeTests {
    final class Wire: @unchecked Sendable { var packets: [[UInt8]] = [] }

    /// Bridge A's capture goes to bridge B's playback through an in-memory wire.
    func run(gainDB: Double, codec: PayloadFormat, seconds: Int = 2) throws -> (level: Double, frequency: Double, packets: [[UInt8]]) {
        let sd = SessionDescription(address: "127.0.0.1", port: 4000, formats: [codec, .telephoneEvent])
        let session = MediaSession(local: sd, remote: sd, codec: codec, telephoneEvent: .telephoneEvent, sending: true, receiving: true)
        let wire = Wire()
        let a = MediaBridge(session: session, ssrc: 1, at: .zero) { wire.packets.append(Array($0)) }
        var settings = MediaSettings()
        settings.receiveGain = gainDB
        let b = MediaBridge(session: session, settings: settings, ssrc: 2, at: .zero) { _ in }
        var synth = ToneSynthesizer(try Tone("1004", level: -16))
        var frame = [Int16](repeating: 0, count: 160), out = [Int16](repeating: 0, count: 160)
        var heard: [Int16] = []
        var delivered = 0
        for p in 0..<(seconds * 50) {
            let t = Instant(nanoseconds: Int64(p) * 20_000_000)
            frame.withUnsafeMutableBufferPointer { synth.render(into: $0) }
            frame.withUnsafeBufferPointer { a.consume($0, at: t) }
            while delivered < wire.packets.count {
                wire.packets[delivered].withUnsafeBytes { b.receive($0, at: t) }
                delivered += 1
            }
            out.withUnsafeMutableBufferPointer { b.render(into: $0, at: t) }
            if p >= 25 { heard += out }
        }
        let m = Level.sine(heard)
        return (m.level, m.frequency, wire.packets)
    }

    @Test("PCMU and PCMA carry the tone at its level; 20 ms packets with rising sequence and timestamp, marker on the first")
    func codecsAndPacketization() throws {
        for codec in [PayloadFormat.pcmu, .pcma] {
            let r = try run(gainDB: 0, codec: codec)
            #expect(abs(r.frequency - 1004) < 2 && abs(r.level - -16) < 0.5, "\(codec.name): \(r)")
            let ps = try r.packets.map { try RTPPacket.parse($0) }
            #expect(ps.count == 100 && ps.allSatisfy { $0.payload.count == 160 && Int($0.payloadType) == codec.payloadType })
            #expect(ps[0].marker && ps.dropFirst().allSatisfy { !$0.marker })
            #expect(zip(ps, ps.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 && $1.timestamp == $0.timestamp &+ 160 })
        }
    }

    @Test("RFC 4733 packets among the audio take sequence numbers of the stream: received, not lost (RFC 3550 A.3)")
    func eventsAreNoLoss() throws {
        let sd = SessionDescription(address: "127.0.0.1", port: 4000, formats: [.pcmu, .telephoneEvent])
        let session = MediaSession(local: sd, remote: sd, codec: .pcmu, telephoneEvent: .telephoneEvent, sending: true, receiving: true)
        let b = MediaBridge(session: session, ssrc: 2, at: .zero) { _ in }
        var out = [Int16](repeating: 0, count: 160)
        var sequence: UInt16 = 65530
        for p in 0..<100 {
            let t = Instant(nanoseconds: Int64(p) * 20_000_000)
            // Audio every period; an event packet after every tenth (a far end like baresip
            // sends both while a key is down).
            RTPPacket(payloadType: 0, marker: false, sequence: sequence, timestamp: UInt32(p * 160), ssrc: 7,
                      payload: [UInt8](repeating: 0xFF, count: 160)).serialized().withUnsafeBytes { b.receive($0, at: t) }
            sequence &+= 1
            if p % 10 == 9 {
                RTPPacket(payloadType: 101, marker: false, sequence: sequence, timestamp: UInt32(p * 160), ssrc: 7,
                          payload: TelephoneEvent.payload(code: 5, end: false, duration: 160)).serialized().withUnsafeBytes { b.receive($0, at: t) }
                sequence &+= 1
            }
            out.withUnsafeMutableBufferPointer { b.render(into: $0, at: t) }
        }
        let s = b.statistics
        #expect(s.packetsLost == 0 && s.packetsReceived == 110 && s.digitsReceived == 10, "\(s)")
    }

    @Test("receive gain in dB")
    func gain() throws {
        let flat = try run(gainDB: 0, codec: .pcmu), louder = try run(gainDB: 6, codec: .pcmu)
        #expect(abs(louder.level - flat.level - 6) < 0.2, "\(flat) \(louder)")
    }
}

@Suite("Polled media sockets")
struct PolledMediaSocketTests {
    @Test("DSCP EF on the socket; datagrams read by the period; an exact port taken once")
    func socketBasics() throws {
        let factory = PolledMediaSocketFactory(host: "127.0.0.1")
        var port = 31500
        var a: (any MediaSocket)?
        while a == nil && port < 31600 { a = factory.open(port: port); if a == nil { port += 2 } }
        let s = try #require(a as? PolledMediaSocket)
        #expect(factory.open(port: port) == nil)
        #expect(s.dscp == 46)
        let b = try #require(PolledMediaSocketFactory(host: "127.0.0.1", dscp: nil).open(port: port + 1) as? PolledMediaSocket)
        #expect(b.dscp == 0)
        final class Got: @unchecked Sendable { var packets: [([UInt8], SIPNetworkAddress)] = [] }
        let got = Got()
        s.onPacket = { bytes, from, _ in got.packets.append((Array(bytes), from)) }
        [UInt8](repeating: 7, count: 172).withUnsafeBytes { b.send($0, to: SIPNetworkAddress("127.0.0.1", port)) }
        [UInt8](repeating: 8, count: 12).withUnsafeBytes { b.send($0, to: SIPNetworkAddress("127.0.0.1", port)) }
        var tries = 0
        while got.packets.count < 2 && tries < 1000 { s.poll(); tries += 1 }
        #expect(got.packets.map(\.0.count) == [172, 12])
        #expect(got.packets.first?.1 == SIPNetworkAddress("127.0.0.1", port + 1))
        s.close()
        b.close()
    }
}
