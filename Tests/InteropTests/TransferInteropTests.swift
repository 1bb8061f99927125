import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TelephonyDSP
import TestSupport

/// Transfers and three-way calls made from the telephone, with two real far ends: Kamailio as
/// registrar and proxy, baresip as 1002 (its microphone 1004 Hz) and as 1003 (1804 Hz). What
/// the baresips heard is read from their own recordings of each call.
@Suite("Transfer and three-way calling from the telephone, through Kamailio to two baresips", .serialized)
struct TransferInteropTests {
    static func tone(_ hz: Int) throws -> [Int16] {
        var synth = ToneSynthesizer(try Tone("\(hz)", level: -10))
        var source = [Int16](repeating: 0, count: 8000 * 60)
        source.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        return source
    }

    /// Kamailio, two baresips registered there, and the daemon with port 1 (1001) registered.
    static func setUp(_ name: String, sipPorts: ClosedRange<Int>, rtp: ClosedRange<Int>, second answer: String = "auto",
                      port extra: String = "") throws -> (Kamailio, Baresip, Baresip, DaemonUnderTest) {
        let k = try Kamailio()
        let first = try Baresip(registrarPort: k.port, source: try tone(1004), rtpPorts: "30200-30299", viaRegistrar: true)
        let second = try Baresip(registrarPort: k.port, source: try tone(1804), rtpPorts: "30300-30399", user: "1003", password: "secret3", answer: answer, viaRegistrar: true)
        guard waitForPeer(10, { ((try? k.contacts(of: "1002").isEmpty == false) ?? false) && ((try? k.contacts(of: "1003").isEmpty == false) ?? false) }) else {
            throw ToolError(description: "the baresips did not register: \(first.log.suffix(1500))\n\(second.log.suffix(1500))")
        }
        let d = try DaemonUnderTest(name: name)
        try """
        {
          accounts: [{ port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)",
                       sipPorts: [\(sipPorts.lowerBound), \(sipPorts.upperBound)] }],
          ports: [{ id: 1, dialPlan: "(100[1-9])"\(extra) }],
          rtpPorts: [\(rtp.lowerBound), \(rtp.upperBound)],
          stateDirectory: "\(d.dir.path)",
        }
        """.write(toFile: d.config, atomically: true, encoding: .utf8)
        try d.start(inNamespace: nil)
        guard waitForPeer(20, { d.port(1).contains("\"state\": \"registered\"") }) else {
            throw ToolError(description: "port 1 did not register: \(d.status())\n\(d.log().suffix(2000))")
        }
        return (k, first, second, d)
    }

    /// Port 1 calls `number` (answered by its baresip).
    static func call(_ d: DaemonUnderTest, _ number: String) throws {
        try d.sim(["offhook", "--port", "1"])
        _ = waitForPeer(5) { d.port(1).contains("\"state\": \"dial-tone\"") }
        try d.sim(["dial", "--port", "1", number])
    }

    /// The level (dBm0) of `hz` in a recording, over its loudest second (a call's recording
    /// holds silence too: before the answer, while held).
    static func loudest(_ hz: Double, _ pcm: [Int16]) -> Double {
        stride(from: 0, to: max(1, pcm.count - 8000), by: 4000).map { Level.level(at: hz, in: pcm[$0..<min(pcm.count, $0 + 8000)]) }.max() ?? -.infinity
    }

    /// The `level HZ Hz at X dBm0` lines of `tipring sim listen --levels` (absent: -inf).
    static func levels(_ listened: String) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for line in listened.split(separator: "\n") where line.hasPrefix("level ") {
            let w = line.split(separator: " ")
            guard w.count >= 4, let hz = Int(w[1]) else { continue }
            out[hz] = w.count >= 5 && w[3] == "at" ? Double(w[4]) ?? -.infinity : -.infinity
        }
        return out
    }

    /// Lets the two baresips talk for `seconds` (as their recordings of the call on disk
    /// show), then hangs up and waits for the recordings to be closed.
    static func talkThenHangUp(_ peers: Baresip..., seconds: Double = 2) throws {
        let bytes = 44 + Int(seconds * 16000)
        for p in peers { _ = waitForPeer(10) { p.latestRecordingSize() >= bytes } }
        for p in peers { try p.command("hangup", "") }
        for p in peers { _ = waitForPeer(10) { (p.recordings().last?.samples.count ?? 0) >= Int(seconds * 8000) } }
    }

    @Test("attended: 1001 talks to 1002, flash (recall dial tone, 1002 held), dials 1003 and talks, hangs up — 1002 and 1003 hear each other, 1001 is left with nothing")
    func attended() throws {
        let (k, a, b, d) = try Self.setUp("attended", sipPorts: 36000...36009, rtp: 36300...36319)
        defer { a.stop(); b.stop(); k.stop() }
        try Self.call(d, "1002")
        #expect(waitForPeer(10) { d.port(1).contains("\"line\": {\"state\": \"connected\"") }, "\(d.port(1))\n\(a.log.suffix(1500))")
        try d.sim(["flash", "--port", "1"])
        #expect(waitForPeer(5) { d.port(1).contains("\"state\": \"dial-tone\"") && d.port(1).contains("\"other\": \"held\"") }, "\(d.port(1))")
        try d.sim(["dial", "--port", "1", "1003"])
        #expect(waitForPeer(10) { d.port(1).contains("\"line\": {\"state\": \"connected\", \"other\": \"held\"}") }, "\(d.port(1))\n\(b.log.suffix(1500))")
        #expect(try d.sim(["listen", "--port", "1", "--seconds", "1"]).contains("audio 1804 Hz"))
        try d.sim(["onhook", "--port", "1"])
        #expect(waitForPeer(10) { d.log().contains("the transfer is done") }, "\(d.log().suffix(3000))\n\(a.log.suffix(2000))")
        #expect(waitForPeer(10) { d.port(1).contains("\"line\": {\"state\": \"idle\"}") && !d.port(1).contains("\"call\"") }, "\(d.port(1))")
        try Self.talkThenHangUp(a, b)
        // baresip 1002's last call is with 1003, and 1003's last with 1002: each heard the other.
        let heardByA = try #require(a.recordings().last, "\(a.log.suffix(2000))"), heardByB = try #require(b.recordings().last)
        #expect(Self.loudest(1804, heardByA.samples) > -20, "1002 did not hear 1003: \(heardByA.name)\n\(a.log.suffix(2000))")
        #expect(Self.loudest(1004, heardByB.samples) > -20, "1003 did not hear 1002: \(heardByB.name)\n\(b.log.suffix(2000))")
        #expect(d.terminate(within: 8) == 0)
    }

    @Test("blind: 1001 talks to 1002, flash, dials 1003 and hangs up while it rings — 1002's call rings 1003, answered, the two hear each other")
    func blind() throws {
        let (k, a, b, d) = try Self.setUp("blind", sipPorts: 36010...36019, rtp: 36320...36339, second: "manual")
        defer { a.stop(); b.stop(); k.stop() }
        try Self.call(d, "1002")
        #expect(waitForPeer(10) { d.port(1).contains("\"line\": {\"state\": \"connected\"") }, "\(d.port(1))")
        try d.sim(["flash", "--port", "1"])
        #expect(waitForPeer(5) { d.port(1).contains("\"state\": \"dial-tone\"") })
        try d.sim(["dial", "--port", "1", "1003"])
        #expect(waitForPeer(10) { d.port(1).contains("\"tone\": \"ringback\"") }, "\(d.port(1))\n\(b.log.suffix(1500))")
        try d.sim(["onhook", "--port", "1"])
        // 1003 rings for 1002 now (our own attempt cancelled): answer it.
        #expect(waitForPeer(10) { b.log.components(separatedBy: "Incoming call").count >= 3 || b.log.contains("1002@127.0.0.1") },
                "\(b.log.suffix(2000))\n\(d.log().suffix(2000))")
        try b.command("accept", "")
        #expect(waitForPeer(10) { d.log().contains("the transfer is done") }, "\(d.log().suffix(3000))\n\(a.log.suffix(2000))\n\(b.log.suffix(2000))")
        try Self.talkThenHangUp(a, b)
        let heardByA = try #require(a.recordings().last), heardByB = try #require(b.recordings().last)
        #expect(Self.loudest(1804, heardByA.samples) > -20, "1002 did not hear 1003: \(heardByA.name)")
        #expect(Self.loudest(1004, heardByB.samples) > -20, "1003 did not hear 1002: \(heardByB.name)")
        #expect(waitForPeer(5) { !d.port(1).contains("\"call\"") }, "\(d.port(1))")
        #expect(d.terminate(within: 8) == 0)
    }

    @Test("three-way: 1001 with 1002, flash, 1003 answers, flash joins all three — the line hears both baresips and each baresip hears the line and the other; hanging up leaves them talking")
    func threeWay() throws {
        let (k, a, b, d) = try Self.setUp("threeway", sipPorts: 36020...36029, rtp: 36340...36359)
        defer { a.stop(); b.stop(); k.stop() }
        // baresip's own recording of a call stops when a re-INVITE restarts its player (1002 is
        // held and resumed here): what the port sends 1002 is read off the wire instead.
        let capture = try Capture(filter: "udp and src portrange 36340-36359 and dst portrange 30200-30299")
        try Self.call(d, "1002")
        #expect(waitForPeer(10) { d.port(1).contains("\"line\": {\"state\": \"connected\"") }, "\(d.port(1))")
        try d.sim(["flash", "--port", "1"])
        #expect(waitForPeer(5) { d.port(1).contains("\"state\": \"dial-tone\"") })
        try d.sim(["dial", "--port", "1", "1003"])
        #expect(waitForPeer(10) { d.port(1).contains("\"other\": \"held\"") && d.port(1).contains("\"state\": \"connected\"") }, "\(d.port(1))")
        try d.sim(["flash", "--port", "1"])
        #expect(waitForPeer(5) { d.port(1).contains("\"state\": \"three-way\"") }, "\(d.port(1))")
        try d.sim(["say", "--port", "1", "--tone", "697"])
        // 1002 was on hold: its audio comes back once baresip has restarted it after the
        // re-INVITE (up to a second here). Both voices present in half a second, then measured.
        #expect(try waitForPeer(5, every: 0.1) {
            Self.levels(try d.sim(["listen", "--port", "1", "--seconds", "0.5", "--levels", "1004,1804"])).values.allSatisfy { $0 > -20 }
        })
        // Each baresip speaks at -10 dBm0; through G.711 twice and the jitter buffers a little goes.
        let heard = try d.sim(["listen", "--port", "1", "--seconds", "2", "--levels", "1004,1804"])
        let levels = Self.levels(heard)
        #expect(levels.count == 2 && levels.values.allSatisfy { $0 > -14 }, "the line hears: \(heard)")
        // Hanging up transfers (the default): 1002 and 1003 go on together.
        try d.sim(["say", "--port", "1", "--tone", "0"])
        try d.sim(["onhook", "--port", "1"])
        #expect(waitForPeer(10) { d.log().contains("the transfer is done") }, "\(d.log().suffix(3000))")
        try Self.talkThenHangUp(a, b)
        capture.stop()
        // 1002 heard the line's 697 Hz and 1003's 1804 Hz: the PCMU the port sent it.
        let payloads = try capture.rows("rtp.p_type == 0", fields: ["rtp.payload"], rtpPorts: Array(36340...36359)).compactMap(\.first)
        var toA: [Int16] = []
        for hex in payloads {
            // Hex digits, with or without ':' between the bytes (tshark versions differ).
            let digits = Array(hex.filter(\.isHexDigit))
            let bytes = stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(digits[$0...$0 + 1]), radix: 16) }
            var pcm = [Int16](repeating: 0, count: bytes.count)
            bytes.withUnsafeBufferPointer { b in pcm.withUnsafeMutableBufferPointer { G711.decode(.ulaw, b, into: $0) } }
            toA += pcm
        }
        #expect(Self.loudest(697, toA) > -20 && Self.loudest(1804, toA) > -20,
                "to 1002: \(payloads.count) packets, 697 Hz \(Self.loudest(697, toA)), 1804 Hz \(Self.loudest(1804, toA))")
        // 1003 was never held: its own recording of the call with 1001 has the line and 1002.
        let recordedA = a.recordings(), recordedB = b.recordings()
        let threeWayB = try #require(recordedB.first, "\(b.log.suffix(1500))")
        #expect(Self.loudest(697, threeWayB.samples) > -20 && Self.loudest(1004, threeWayB.samples) > -20, "1003's call with 1001: \(threeWayB.name)")
        let afterA = try #require(recordedA.last)
        #expect(Self.loudest(1804, afterA.samples) > -20, "1002 after the transfer: \(afterA.name)")
        #expect(d.terminate(within: 8) == 0)
    }
}
