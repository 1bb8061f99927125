import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TelephonyDSP
import TestSupport

/// Telephone features against real peers: Kamailio as registrar and proxy, baresip as a far end.
@Suite("Telephone features through Kamailio", .serialized)
struct FeatureInteropTests {
    /// Kamailio, and baresip registered there as 1002 (auto-answering, 1004 Hz at -10 dBm0 as
    /// its microphone).
    static func kamailioAndBaresip(rtpPorts: String) throws -> (Kamailio, Baresip) {
        let k = try Kamailio()
        var synth = ToneSynthesizer(try Tone("1004", level: -10))
        var source = [Int16](repeating: 0, count: 8000 * 60)
        source.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        let baresip = try Baresip(registrarPort: k.port, source: source, rtpPorts: rtpPorts)
        guard waitForPeer(10, { (try? k.contacts(of: "1002").isEmpty == false) ?? false }) else {
            baresip.stop()
            k.stop()
            throw ToolError(description: "baresip did not register: \(baresip.log.suffix(2000))")
        }
        return (k, baresip)
    }

    @Test("forward on no answer set from the phone (*92, confirmation tone): an unanswered call goes by 302 to baresip, which the caller reaches and hears; the forward is still set after a restart")
    func forwardOnNoAnswer() throws {
        let (k, baresip) = try Self.kamailioAndBaresip(rtpPorts: "29900-29999")
        defer { baresip.stop(); k.stop() }
        let d = try DaemonUnderTest(name: "forward")
        try """
        {
          accounts: [
            { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [19760, 19769] },
            { port: 2, user: "1003", password: "secret3", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [19770, 19779] },
          ],
          ports: [{ id: 1, dialPlan: "(100[1-9])" }, { id: 2, dialPlan: "(100[1-9])", forward: { noAnswerSeconds: 5 } }],
          rtpPorts: [19860, 19879],
          stateDirectory: "\(d.dir.path)",
        }
        """.write(toFile: d.config, atomically: true, encoding: .utf8)
        try d.start(inNamespace: nil)
        #expect(waitForPeer(20) { d.status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(d.status())\n\(d.log().suffix(3000))")

        // The phone on port 2 sets the forward: *92, the number, '#'.
        try d.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(5) { d.port(2).contains("\"state\": \"dial-tone\"") })
        try d.sim(["dial", "--port", "2", "*921002#"])
        #expect(waitForPeer(5) { d.port(2).contains("\"tone\": \"confirmation\"") }, "\(d.port(2))")
        try d.sim(["onhook", "--port", "2"])
        #expect(d.port(2).contains("\"features\": {\"forwardNoAnswer\": \"1002\", \"dnd\": false}"), "\(d.port(2))")
        #expect(!d.log().contains("calls *92"), "the feature code went out as a number")

        // Port 1 calls 1003: port 2 rings, nobody answers, the call goes on to baresip.
        try d.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { d.port(1).contains("\"state\": \"dial-tone\"") })
        try d.sim(["dial", "--port", "1", "1003"])
        #expect(waitForPeer(10) { d.port(2).contains("\"line\": {\"state\": \"ringing\"") }, "\(d.status())")
        let rang = Date()
        #expect(waitForPeer(15) { d.port(1).contains("\"line\": {\"state\": \"connected\"") }, "\(d.status())\n\(d.log().suffix(3000))")
        #expect(Date().timeIntervalSince(rang) > 4, "forwarded before its 5 s")
        #expect(d.port(1).contains("\"peer\": \"sip:1002@127.0.0.1\""), "\(d.port(1))")
        #expect(d.port(2).contains("\"line\": {\"state\": \"idle\"}"), "\(d.port(2))")
        #expect(try d.sim(["listen", "--port", "1", "--seconds", "1"]).contains("audio 1004 Hz"))
        #expect(d.log().contains("forwards the call to 1002"))
        try d.sim(["onhook", "--port", "1"])
        #expect(d.terminate(within: 8) == 0)

        // A restart keeps what the phone set.
        try d.start(inNamespace: nil)
        #expect(waitForPeer(20) { d.port(2).contains("\"state\": \"registered\"") }, "\(d.status())")
        #expect(d.port(2).contains("\"forwardNoAnswer\": \"1002\""), "\(d.port(2))")
        #expect(d.table().contains("unanswered to 1002"), "\(d.table())")
        #expect(d.terminate(within: 8) == 0)
    }

    @Test("forward on no answer by a new call (forward.by invite, for carriers that refuse 302): port 2 rings 5 s, then calls baresip itself and joins the two — port 1 and baresip hear each other, no 302 on the wire")
    func forwardByNewCall() throws {
        let (k, baresip) = try Self.kamailioAndBaresip(rtpPorts: "30400-30499")
        defer { baresip.stop(); k.stop() }
        let d = try DaemonUnderTest(name: "forward-invite")
        try """
        {
          accounts: [
            { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [36100, 36109] },
            { port: 2, user: "1003", password: "secret3", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [36110, 36119] },
          ],
          ports: [{ id: 1, dialPlan: "(100[1-9])" }, { id: 2, dialPlan: "(100[1-9])", forward: { noAnswer: "1002", noAnswerSeconds: 5, by: "invite" } }],
          rtpPorts: [36200, 36239],
          stateDirectory: "\(d.dir.path)",
        }
        """.write(toFile: d.config, atomically: true, encoding: .utf8)
        try d.start(inNamespace: nil)
        #expect(waitForPeer(20) { d.status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(d.status())\n\(d.log().suffix(3000))")
        try d.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { d.port(1).contains("\"state\": \"dial-tone\"") })
        try d.sim(["dial", "--port", "1", "1003"])
        #expect(waitForPeer(10) { d.port(2).contains("\"line\": {\"state\": \"ringing\"") }, "\(d.status())")
        #expect(waitForPeer(15) { d.port(1).contains("\"line\": {\"state\": \"connected\"") }, "\(d.status())\n\(d.log().suffix(3000))")
        #expect(d.log().contains("forwards the call to 1002 (a new call)") && d.log().contains("joins the forwarded call to its target"))
        #expect(!d.log().contains(" 302 "), "a 302 went out: \(d.log().suffix(3000))")
        // The handset of port 2 is not part of it.
        #expect(d.port(2).contains("\"line\": {\"state\": \"idle\"}"), "\(d.port(2))")
        #expect(try d.sim(["listen", "--port", "1", "--seconds", "1"]).contains("audio 1004 Hz"))
        try d.sim(["say", "--port", "1", "--tone", "697"])
        _ = waitForPeer(10) { baresip.latestRecordingSize() >= 44 + 2 * 16000 }
        try d.sim(["onhook", "--port", "1"])
        #expect(waitForPeer(10) { baresip.log.contains("Call with sip:1003@127.0.0.1 terminated") }, "\(baresip.log.suffix(2000))")
        _ = waitForPeer(10) { (baresip.recordings().last?.samples.count ?? 0) >= 16000 }
        let heard = try #require(baresip.recordings().last, "\(baresip.log.suffix(1500))")
        let loudest = stride(from: 0, to: max(1, heard.samples.count - 8000), by: 4000).map { Level.level(at: 697, in: heard.samples[$0..<min(heard.samples.count, $0 + 8000)]) }.max() ?? -.infinity
        #expect(loudest > -20, "baresip did not hear port 1 through port 2: \(loudest) dBm0")
        #expect(waitForPeer(5) { !d.port(2).contains("\"call\"") }, "\(d.port(2))")
        #expect(d.terminate(within: 8) == 0)
    }

    @Test("being transferred: baresip calls port 1, then transfers it (REFER) to port 2 — port 1 calls 1003, port 2 answers, the two hear each other, baresip is told it worked and leaves")
    func transferredByBaresip() throws {
        let (k, baresip) = try Self.kamailioAndBaresip(rtpPorts: "29800-29899")
        defer { baresip.stop(); k.stop() }
        let d = try DaemonUnderTest(name: "transferred")
        try """
        {
          accounts: [
            { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [19780, 19789] },
            { port: 2, user: "1003", password: "secret3", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [19790, 19799] },
          ],
          ports: [{ id: 1, dialPlan: "(100[1-9])" }, { id: 2, dialPlan: "(100[1-9])" }],
          rtpPorts: [19880, 19899],
          stateDirectory: "\(d.dir.path)",
        }
        """.write(toFile: d.config, atomically: true, encoding: .utf8)
        try d.start(inNamespace: nil)
        #expect(waitForPeer(20) { d.status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(d.status())\n\(d.log().suffix(3000))")

        try baresip.command("dial", "sip:1001@127.0.0.1:\(k.port)")
        #expect(waitForPeer(10) { d.port(1).contains("\"line\": {\"state\": \"ringing\"") }, "\(d.status())\n\(baresip.log.suffix(2000))")
        try d.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(10) { d.port(1).contains("\"line\": {\"state\": \"connected\"") }, "\(d.port(1))")
        #expect(try d.sim(["listen", "--port", "1", "--seconds", "1"]).contains("audio 1004 Hz"))

        try baresip.command("transfer", "sip:1003@127.0.0.1:\(k.port)")
        #expect(waitForPeer(10) { d.port(2).contains("\"line\": {\"state\": \"ringing\"") }, "\(d.status())\n\(d.log().suffix(3000))\n\(baresip.log.suffix(2000))")
        #expect(d.log().contains("the far end transfers the call to sip:1003@127.0.0.1:\(k.port)"))
        try d.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(10) { d.port(1).contains("\"peer\": \"sip:1003@127.0.0.1:\(k.port)\"") && d.port(1).contains("\"line\": {\"state\": \"connected\"") },
                "\(d.port(1))\n\(d.log().suffix(3000))")
        try d.sim(["say", "--port", "1", "--tone", "1804"])
        #expect(try d.sim(["listen", "--port", "2", "--seconds", "1"]).contains("audio 1804 Hz"))
        try d.sim(["say", "--port", "2", "--tone", "697"])
        #expect(try d.sim(["listen", "--port", "1", "--seconds", "1"]).contains("audio 697 Hz"))
        // baresip heard "SIP/2.0 200 OK" in a NOTIFY and its call with port 1 is over.
        let sipLog = d.log()
        #expect(sipLog.contains("NOTIFY sip:"), "no NOTIFY sent: \(sipLog.suffix(3000))")
        #expect(waitForPeer(10) { baresip.log.contains("transferring call to") && baresip.log.contains("Call with sip:1001@127.0.0.1:\(k.port);transport=udp terminated") },
                "\(baresip.log.suffix(2000))")
        try d.sim(["onhook", "--port", "1"])
        try d.sim(["onhook", "--port", "2"])
        #expect(d.terminate(within: 8) == 0)
    }
}
