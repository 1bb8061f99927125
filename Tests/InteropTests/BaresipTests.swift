import Foundation  // tests only: files, processes, sockets
import NIOPosix
import SIPCore
@testable import SIPAgent
import RTPMedia
import SIPTransport
import TelephonyDSP
import PortControl
import Testing
import SimulatorApp
import TipRingCore
import SystemCalls
import PortStack
import TestSupport

/// baresip (Debian) as user 1002 on Kamailio: auto-answers, plays a WAV as its microphone,
/// records what it hears; started and stopped by the test.
final class Baresip {
    let dir: URL
    let ctrlPort: Int
    var pid: pid_t = 0

    /// `host`: baresip's own address and its registrar's; with `namespace`, it runs there
    /// (`ip netns exec`; its control port is then out of the test's reach).
    /// `tls`: it registers over TLS (this CA file trusted; its own certificate and key in one
    /// PEM, for the connections Kamailio opens to it) and encrypts its calls as `mediaenc`
    /// says (`srtp-mand`: RTP/SAVP only; `srtp`: best effort).
    /// `user`/`password`: its account at Kamailio (1002 by default); `answer`: `auto` or `manual`
    /// (then ``command(_:_:)`` `accept` answers); `viaRegistrar`: every request through Kamailio
    /// (an outbound proxy), as a phone of a carrier sends them — a URI naming only the domain
    /// (a transfer's target) then reaches the registrar's port, not 5060.
    /// `opus`: its only codec is Opus (its `opus` module, asking in its fmtp for FEC and DTX
    /// at 16 kbit/s, mono), else PCMU.
    init(registrarPort: Int, source: [Int16], rtpPorts: String, host: String = "127.0.0.1", namespace: String? = nil,
         tls: (caFile: String, certificate: String, mediaenc: String)? = nil, user: String = "1002", password: String = "secret2",
         answer: String = "auto", viaRegistrar: Bool = false, opus: Bool = false) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-baresip-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("rec"), withIntermediateDirectories: true)
        let wav = dir.appendingPathComponent("source.wav").path
        try Data(WAV.encode(samples: source)).write(to: URL(fileURLWithPath: wav))
        ctrlPort = Kamailio.freeUDPPort()
        let fixtures = repositoryRoot + "/Tests/Fixtures/baresip"
        // In a URI or a listen address, IPv6 goes in brackets.
        let ipv6 = host.contains(":")
        let bracketed = ipv6 ? "[\(host)]" : host
        let config = try String(contentsOfFile: fixtures + "/config.in", encoding: .utf8)
            .replacingOccurrences(of: "@SIP@", with: "\(Kamailio.freeSIPPort())")
            .replacingOccurrences(of: "@RTP@", with: rtpPorts)
            .replacingOccurrences(of: "@CTRL@", with: "\(ctrlPort)")
            .replacingOccurrences(of: "@SOURCE@", with: wav)
            .replacingOccurrences(of: "@RECORD@", with: dir.appendingPathComponent("rec").path)
            .replacingOccurrences(of: "@LISTEN@", with: bracketed)
            .replacingOccurrences(of: "@HOST@", with: host)
            .replacingOccurrences(of: "@SECURE@", with: tls.map { "sip_cafile\t\t\($0.caFile)\nsip_certificate\t\t\($0.certificate)\nmodule\t\t\tsrtp.so" } ?? "")
            .replacingOccurrences(of: "@CODECS@", with: opus ? Self.opusSettings : "")
        try config.write(to: dir.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let accounts = try String(contentsOfFile: fixtures + "/accounts.in", encoding: .utf8)
            .replacingOccurrences(of: "@REGISTRAR@", with: "\(registrarPort)")
            .replacingOccurrences(of: "@HOST@", with: bracketed)
            .replacingOccurrences(of: "@TRANSPORT@", with: tls == nil ? "udp" : "tls")
            .replacingOccurrences(of: "@ACCOUNT@", with: tls.map { ";mediaenc=\($0.mediaenc)" } ?? "")
            .replacingOccurrences(of: "@USER@", with: user)
            .replacingOccurrences(of: "@PASSWORD@", with: password)
            .replacingOccurrences(of: "@ANSWER@", with: answer)
            .replacingOccurrences(of: "@AUDIO_CODECS@", with: opus ? "opus/48000/2" : "PCMU")
            .replacingOccurrences(of: "@OUTBOUND@", with: viaRegistrar ? ";outbound=\"sip:\(bracketed):\(registrarPort);lr\"" : "")
        try accounts.write(to: dir.appendingPathComponent("accounts"), atomically: true, encoding: .utf8)
        let command = (namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? []) + ["/usr/bin/baresip", ipv6 ? "-6" : "-4", "-f", dir.path]
        pid = try spawn(command[0], Array(command.dropFirst()), stdout: dir.appendingPathComponent("out.log").path,
                        stderr: dir.appendingPathComponent("err.log").path)
    }

    static let opusSettings = ["module\t\t\topus.so", "opus_bitrate\t\t16000", "opus_stereo\t\tno", "opus_sprop_stereo\tno",
                               "opus_inbandfec\t\tyes", "opus_dtx\t\tyes", "opus_packet_loss\t5"].joined(separator: "\n")

    var log: String {
        ((try? String(contentsOf: dir.appendingPathComponent("out.log"), encoding: .utf8)) ?? "") +
            ((try? String(contentsOf: dir.appendingPathComponent("err.log"), encoding: .utf8)) ?? "")
    }

    /// Sends a ctrl_tcp command (a JSON netstring).
    func command(_ name: String, _ params: String) throws {
        let json = "{\"command\":\"\(name)\",\"params\":\"\(params)\",\"token\":\"t\"}"
        guard let fd = Self.connectControl(port: ctrlPort) else { throw ToolError(description: "baresip control port \(ctrlPort) refused: \(log)") }
        defer { close(fd) }
        let message = Array("\(json.utf8.count):\(json),".utf8)
        _ = message.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// A connection to the control port that receives baresip's events (they go to the newest
    /// connection, as JSON netstrings); open it before what should cause the event.
    final class Events {
        let fd: Int32
        var text = ""
        init?(port: Int) {
            guard let fd = Baresip.connectControl(port: port) else { return nil }
            self.fd = fd
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        /// Whether an event with this `type` and `param` comes within `seconds`.
        func wait(type: String, param: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 { text += String(decoding: buffer[0..<n], as: UTF8.self) }
                if text.contains("\"type\":\"\(type)\"") && text.contains("\"param\":\"\(param)\"") { return true }
            }
            return false
        }
        deinit { close(fd) }
    }

    func events() -> Events? { Events(port: ctrlPort) }

    /// A TCP connection to baresip's control port on 127.0.0.1, nil when refused.
    static func connectControl(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// The WAV baresip recorded of what it received (the `-dec` file), once it is written.
    func received() -> [Int16]? {
        let rec = dir.appendingPathComponent("rec")
        guard let name = (try? FileManager.default.contentsOfDirectory(atPath: rec.path))?.first(where: { $0.hasSuffix("-dec.wav") }),
              let data = try? Data(contentsOf: rec.appendingPathComponent(name)) else { return nil }
        return try? WAV.decode(Array(data))
    }

    /// The same recording at 8 kHz mono, whatever rate and channels baresip wrote it in (with
    /// Opus it records the decoder's 48 kHz), resampled by sox.
    func receivedAt8kHz() -> [Int16]? {
        let rec = dir.appendingPathComponent("rec")
        guard let name = (try? FileManager.default.contentsOfDirectory(atPath: rec.path))?.first(where: { $0.hasSuffix("-dec.wav") }) else { return nil }
        let raw = dir.appendingPathComponent("received-8k.raw").path
        guard let r = try? runProcess("/usr/bin/env", ["sox", rec.appendingPathComponent(name).path, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", raw]),
              r.status == 0, let data = try? Data(contentsOf: URL(fileURLWithPath: raw)) else { return nil }
        return SpanDSP.samples([UInt8](data))
    }

    /// The size on disk of the newest recording of what it received (it grows during a call).
    func latestRecordingSize() -> Int {
        let rec = dir.appendingPathComponent("rec")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: rec.path)) ?? []).filter { $0.hasSuffix("-dec.wav") }.sorted()
        guard let n = names.last, let a = try? FileManager.default.attributesOfItem(atPath: rec.appendingPathComponent(n).path) else { return 0 }
        return (a[.size] as? Int) ?? 0
    }

    /// Every recording of what it received, one per call (file name, samples).
    func recordings() -> [(name: String, samples: [Int16])] {
        let rec = dir.appendingPathComponent("rec")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: rec.path)) ?? []).filter { $0.hasSuffix("-dec.wav") }.sorted()
        return names.compactMap { n in
            guard let data = try? Data(contentsOf: rec.appendingPathComponent(n)), let pcm = try? WAV.decode(Array(data)) else { return nil }
            return (n, pcm)
        }
    }

    func stop() {
        guard pid > 0 else { return }
        stopProcess(pid)
        pid = 0
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// UDP datagrams from another loopback address (127.0.0.2): a stranger on the LTE side.
final class Stranger {
    let fd: Int32
    init(host: String = "127.0.0.2") throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard fd >= 0, rc == 0 else { throw ToolError(description: "cannot bind a UDP socket on \(host)") }
    }
    func send(_ bytes: [UInt8], to port: Int, host: String = "127.0.0.1") {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = UInt16(port).bigEndian
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }
    deinit { close(fd) }
}

/// Kamailio on 127.0.0.1, baresip registered there as 1002 (auto-answering, 1004 Hz at
/// -10 dBm0 as its microphone for 30 s), and our port 1 (1001, simulated phone, real SIP and
/// RTP) in a call to it. Every piece stops when this goes away.
final class BaresipCall {
    let kamailio: Kamailio
    let baresip: Baresip
    let scheduler = WallClockScheduler()
    let clock: WallClockControlPlane
    let system: LiveBoardSystem
    let call: CallHandle

    /// `host`: where all three listen (127.0.0.1, or ::1 for a call over IPv6).
    /// `source`: what baresip's microphone says (else 1004 Hz at −10 dBm0 for 30 s); `opus`:
    /// both sides have only Opus.
    init(sipPorts: ClosedRange<Int>, rtpPorts: ClosedRange<Int>, baresipRTP: String, host: String = "127.0.0.1",
         source: [Int16]? = nil, opus: Bool = false) async throws {
        kamailio = try Kamailio(address: host.contains(":") ? "[\(host)]" : host)
        var synth = ToneSynthesizer(try Tone("1004", level: -10))
        var tone = [Int16](repeating: 0, count: 8000 * 30)
        tone.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        baresip = try Baresip(registrarPort: kamailio.port, source: source ?? tone, rtpPorts: baresipRTP, host: host, opus: opus)
        let k = kamailio
        _ = try waitForPeer(10) { try !k.contacts(of: "1002").isEmpty }
        guard try !kamailio.contacts(of: "1002").isEmpty else { throw ToolError(description: "baresip did not register: \(baresip.log)") }
        try scheduler.start()
        clock = WallClockControlPlane(scheduler)
        system = try await LiveBoardSystem.make(
            clock: clock, registrar: ServerName(host: host, port: kamailio.port), domain: host,
            accounts: [.init(user: "1001", password: "secret1")], sipPorts: sipPorts, rtpPorts: rtpPorts,
            group: MultiThreadedEventLoopGroup.singleton, configure: { _, _, call in if opus { call.media.codecs = [.opus] } })
        let system = self.system
        clock.sync { system.powerOn() }
        guard clock.wait(upTo: 10, until: { system.port(1).controller.machine.registration == .registered }) else {
            throw ToolError(description: "port 1 did not register at Kamailio")
        }
        clock.sync { system.port(1).phone.liftHandset() }
        clock.advance(by: .milliseconds(800))
        _ = clock.sync { system.port(1).phone.press("1002") }
        _ = clock.wait(upTo: 10) { if case .connected = system.port(1).controller.machine.line { true } else { false } }
        guard case .connected(let h, _) = clock.sync({ system.port(1).controller.machine.line }) else {
            throw ToolError(description: "no call to baresip: \(clock.sync { system.port(1).controller.machine.line })\n\(baresip.log)")
        }
        call = h
    }

    func wait(_ seconds: Double, _ condition: @escaping () -> Bool) -> Bool { clock.wait(upTo: seconds, until: condition) }
    func line() -> PortStateMachine.Line { clock.sync { self.system.port(1).controller.machine.line } }

    /// Unregisters, closes the sockets, stops the peers.
    func close() async {
        let system = self.system
        clock.sync { system.powerOff() }
        _ = wait(3) { system.port(1).agent.status == .unregistered }
        await system.close()
        scheduler.shutdown()
        baresip.stop()
        kamailio.stop()
    }
}

@Suite("A TipRing port calls baresip through Kamailio", .serialized)
struct BaresipTests {
    @Test("a stranger's SIP (forged BYE, forged responses, the Request-URI that used to crash) and RTP during the call: still registered, still in the call, hearing only baresip")
    func strangerDuringACall() async throws {
        let c = try await BaresipCall(sipPorts: 32000...32999, rtpPorts: 33000...33099, baresipRTP: "29200-29300")
        let (system, clock, scheduler, call) = (c.system, c.clock, c.scheduler, c.call)
        let (sipPort, mediaPort, callID, tags) = clock.sync { () -> (Int, Int, String, (String, String)) in
            let ua = system.port(1).userAgent
            let c = ua.calls[call]
            return (system.port(1).agent.localAddress.port, ua.media(of: call)?.local.port ?? 0, c?.callID ?? "", (c?.localTag ?? "", c?.remoteTag ?? ""))
        }
        let stranger = try Stranger()
        func sip(_ text: String) -> [UInt8] { Array(text.replacing("\n", with: "\r\n").utf8) }
        let bye = sip("""
        BYE sip:1001@127.0.0.1:\(sipPort) SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKforged1;rport
        From: <sip:1002@127.0.0.1>;tag=\(tags.1)
        To: <sip:1001@127.0.0.1>;tag=\(tags.0)
        Call-ID: \(callID)
        CSeq: 999 BYE
        Max-Forwards: 70
        Content-Length: 0


        """)
        let crash = sip("""
        OPTIONS sip:x@[::ffff:١.1.1.1] SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKforged2;received=١.1.1.1
        From: <sip:x@127.0.0.2>;tag=1
        To: <sip:1001@127.0.0.1>
        Call-ID: crash
        CSeq: 1 OPTIONS
        Content-Length: 0


        """)
        let forgedOK = sip("""
        SIP/2.0 200 OK
        Via: SIP/2.0/UDP 127.0.0.1:\(sipPort);branch=z9hG4bKguess;rport=6666;received=127.0.0.2
        From: <sip:1001@127.0.0.1>;tag=x
        To: <sip:1001@127.0.0.1>;tag=y
        Call-ID: guess
        CSeq: 2 REGISTER
        Contact: <sip:1001@127.0.0.2:6666>;expires=3600
        Content-Length: 0


        """)
        var noise = ToneSynthesizer(try Tone("3000", level: -3))
        var pcm = [Int16](repeating: 0, count: 160), payload = [UInt8](repeating: 0, count: 160)
        var r = SeededRandom(seed: 7)
        let t0 = clock.sync { scheduler.now }
        for i in 0..<150 {
            switch i % 3 {
            case 0: stranger.send([bye, crash, forgedOK][(i / 3) % 3], to: sipPort)
            default:
                pcm.withUnsafeMutableBufferPointer { noise.render(into: $0) }
                pcm.withUnsafeBufferPointer { p in payload.withUnsafeMutableBufferPointer { G711.encode(.ulaw, p, into: $0) } }
                let packet = RTPPacket(payloadType: 0, marker: false, sequence: UInt16(truncatingIfNeeded: r.next()),
                                       timestamp: UInt32(truncatingIfNeeded: r.next()), ssrc: UInt32(truncatingIfNeeded: r.next()), payload: payload)
                stranger.send(packet.serialized(), to: mediaPort)
            }
            clock.advance(by: .milliseconds(15))
        }
        let heard = clock.sync { system.port(1).phone.earpiece.sine(from: t0, to: scheduler.now) }
        print("during the stranger's traffic: heard \(heard.frequency) Hz at \(heard.level) dBm0 (baresip sends 1004 Hz at -10)")
        #expect(abs(heard.frequency - 1004) < 10.04 && abs(heard.level - -10) < 1)
        #expect(c.line() == .connected(call, other: nil))
        #expect(clock.sync { system.port(1).controller.machine.registration } == .registered)
        let dropped = clock.sync { (system.port(1).agent.droppedRequests, system.port(1).agent.droppedResponses, system.port(1).agent.droppedMalformed, system.port(1).media.droppedPackets) }
        print("dropped: \(dropped.0) requests, \(dropped.1) responses, \(dropped.2) malformed, \(dropped.3) RTP")
        #expect(dropped.0 >= 15 && dropped.1 >= 15 && dropped.2 >= 15 && dropped.3 >= 90)
        #expect(try c.kamailio.contacts(of: "1001").allSatisfy { !$0.contains("127.0.0.2") })
        clock.sync { system.port(1).phone.hangUp() }
        #expect(c.wait(5) { system.port(1).controller.machine.line == .idle })
        await c.close()
    }

    @Test("baresip's WAV reaches our earpiece, our tone reaches its recording, its RFC 4733 digits reach us, our hang-up ends its call")
    func callBaresip() async throws {
        let c = try await BaresipCall(sipPorts: 30000...30999, rtpPorts: 31000...31099, baresipRTP: "29000-29100")
        try await Self.talkBothWays(c)
    }

    @Test("over IPv6 (Kamailio, baresip and the port on ::1): registered with an IPv6 Contact, media over IPv6 both ways, digits, hang-up")
    func callBaresipOverIPv6() async throws {
        let c = try await BaresipCall(sipPorts: 34000...34999, rtpPorts: 35000...35099, baresipRTP: "29400-29500", host: "::1")
        let (system, clock, call) = (c.system, c.clock, c.call)
        let contacts = try c.kamailio.contacts(of: "1001")
        #expect(contacts.contains { $0.hasPrefix("sip:1001@[::1]:") }, "\(contacts)")
        let media = clock.sync { system.port(1).userAgent.media(of: call) }
        #expect(media?.remote.address == "::1" && media?.local.address == "::1", "\(String(describing: media))")
        try await Self.talkBothWays(c)
    }

    /// Each hears the other's tone, baresip's digit arrives, our hang-up ends the call.
    static func talkBothWays(_ c: BaresipCall) async throws {
        let (system, clock, scheduler, baresip) = (c.system, c.clock, c.scheduler, c.baresip)
        func wait(_ seconds: Double, _ condition: @escaping () -> Bool) -> Bool { c.wait(seconds, condition) }
        func line() -> PortStateMachine.Line { system.port(1).controller.machine.line }
        clock.sync { system.port(1).phone.mouthpiece.play(try! Tone("1804", level: -16)) }
        clock.advance(by: .seconds(1))
        let t0 = clock.sync { scheduler.now }
        clock.advance(by: .seconds(2))
        let heard = clock.sync { system.port(1).phone.earpiece.sine(from: t0, to: scheduler.now) }
        print("from baresip: 1004 Hz at -10 dBm0 → \(heard.frequency) Hz at \(heard.level) dBm0")
        #expect(abs(heard.frequency - 1004) < 10.04 && abs(heard.level - -10) < 1)
        // baresip's RTCP receiver reports reach us (it sends them every 5 s).
        #expect(wait(8) { system.port(1).media.current?.remoteFractionLost != nil }, "no RTCP report from baresip")
        #expect(clock.sync { system.port(1).media.current?.remoteFractionLost } == 0)
        try baresip.command("sndcode", "9")
        #expect(wait(5) { system.port(1).digitsReceived == ["9"] }, "\(clock.sync { system.port(1).digitsReceived })")
        clock.sync { system.port(1).phone.hangUp() }
        #expect(wait(5) { line() == .idle })
        // baresip writes its recording when its call ends.
        _ = waitForPeer(5, every: 0.1) { (baresip.received()?.count ?? 0) >= 8000 }
        let recorded = baresip.received()
        let samples = try #require(recorded, "no recording: \(baresip.log)")
        // The middle of what baresip heard: our 1804 Hz at -16 dBm0.
        let middle = Array(samples[(samples.count / 2 - 4000)..<(samples.count / 2 + 4000)])
        let theirs = Level.sine(middle)
        print("to baresip: 1804 Hz at -16 dBm0 → \(theirs.frequency) Hz at \(theirs.level) dBm0 (recorded \(samples.count) samples)")
        #expect(abs(theirs.frequency - 1804) < 18.04 && abs(theirs.level - -16) < 1)
        await c.close()
    }
}
