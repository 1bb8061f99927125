import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TestSupport

/// SIP over TLS and SRTP against Kamailio's TLS module, with certificates the test makes
/// (Tests/Fixtures/tls/make-certs.sh: a test CA, a good server certificate, one for another
/// name, an expired one, one from a CA nobody trusts).
@Suite("TLS and SRTP against Kamailio", .serialized)
struct TLSTests {
    static func certificates() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-certs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = try runCommand("/bin/sh", [repositoryRoot + "/Tests/Fixtures/tls/make-certs.sh", dir.path])
        guard r.status == 0 else { throw ToolError(description: "making the test certificates failed (make test installs openssl): \(r.err)") }
        return dir
    }

    /// The distinct byte values of each captured UDP payload from `port` range: G.711 of a
    /// steady tone uses a few dozen; SRTP's ciphertext nearly every value.
    static func payloadVariety(_ capture: String) throws -> [Int] {
        let r = try runCommand("/usr/bin/tshark", ["-r", capture, "-T", "fields", "-e", "data.data"])
        return r.out.split(separator: "\n").map { hex in Set(stride(from: 0, to: hex.count - 1, by: 2).map { i -> Substring in
            let a = hex.index(hex.startIndex, offsetBy: i)
            return hex[a..<hex.index(a, offsetBy: 2)]
        }).count }
    }

    @Test("two ports register over TLS (the test CA pinned), call each other with mandatory SRTP through Kamailio: audio heard, the status says TLS and SRTP, no SIP in clear and no G.711 on the wire")
    func registerAndCall() throws {
        let certs = try Self.certificates()
        defer { try? FileManager.default.removeItem(at: certs) }
        let k = try Kamailio(tls: (certs.appendingPathComponent("good.pem").path, certs.appendingPathComponent("good.key").path))
        defer { k.stop() }
        let tlsPort = try #require(k.tlsPort)
        let d = try DaemonUnderTest(name: "tls")
        let ca = certs.appendingPathComponent("ca.pem").path
        try """
        {
          accounts: [
            { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(tlsPort)", transport: "tls",
              tlsCaFile: "\(ca)", srtp: "mandatory", sipPorts: [19720, 19729] },
            { port: 2, user: "1002", password: "secret2", domain: "127.0.0.1", registrar: "127.0.0.1:\(tlsPort)", transport: "tls",
              tlsCaFile: "\(ca)", srtp: "mandatory", sipPorts: [19730, 19739] },
          ],
          ports: [{ id: 1, dialPlan: "(100[1-9]|x.T)" }, { id: 2, dialPlan: "(100[1-9]|x.T)" }],
          rtpPorts: [19800, 19819],
          stateDirectory: "\(d.dir.path)",
        }
        """.write(toFile: d.config, atomically: true, encoding: .utf8)
        let sipCapture = d.dir.appendingPathComponent("sip.pcap").path, rtpCapture = d.dir.appendingPathComponent("rtp.pcap").path
        let sipShark = try spawn("/usr/bin/tshark", ["-i", "lo", "-w", sipCapture, "-f", "tcp port \(tlsPort)"], stdout: "/dev/null", stderr: "/dev/null")
        let rtpShark = try spawn("/usr/bin/tshark", ["-i", "lo", "-w", rtpCapture, "-f", "udp portrange 19800-19819"], stdout: "/dev/null", stderr: "/dev/null")
        defer { stopProcess(sipShark); stopProcess(rtpShark) }
        #expect(waitForPeer(10) { FileManager.default.fileExists(atPath: sipCapture) && FileManager.default.fileExists(atPath: rtpCapture) })
        let started = Date()
        try d.start(inNamespace: nil)
        #expect(waitForPeer(20) { d.status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(d.status())\n\(d.log().suffix(3000))")
        print("start → both registered over TLS: \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        let contacts = try k.contacts(of: "1001")
        #expect(contacts.first?.contains("transport=tls") == true, "\(contacts)")
        #expect(d.port(1).contains("\"transport\": \"tls\", \"security\": \"TLS 1."), "\(d.port(1))")

        try d.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { d.port(1).contains("\"state\": \"dial-tone\"") })
        try d.sim(["dial", "--port", "1", "1002"])
        #expect(waitForPeer(10) { d.port(2).contains("\"state\": \"ringing\"") }, "\(d.status())\n\(d.log().suffix(3000))")
        try d.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(10) { d.status().components(separatedBy: "\"line\": {\"state\": \"connected\"").count == 3 }, "\(d.status())")
        try d.sim(["say", "--port", "1", "--tone", "1004"])
        #expect(try d.sim(["listen", "--port", "2", "--seconds", "1"]).contains("audio 1004 Hz"))
        try d.sim(["say", "--port", "2", "--tone", "1804"])
        #expect(try d.sim(["listen", "--port", "1", "--seconds", "1"]).contains("audio 1804 Hz"))
        #expect(d.port(1).contains("\"encryption\": \"AES_CM_128_HMAC_SHA1_80\""), "\(d.port(1))")
        #expect(d.table().contains("PCMU (SRTP)"), "\(d.table())")
        try d.sim(["onhook", "--port", "2"])
        #expect(waitForPeer(10) { d.status().components(separatedBy: "\"line\": {\"state\": \"idle\"}").count >= 2 })
        try d.sim(["onhook", "--port", "1"])
        #expect(d.terminate(within: 8) == 0)
        stopProcess(sipShark, with: SIGINT)
        stopProcess(rtpShark, with: SIGINT)

        // On the wire: TLS records only — no SIP request line, no digest, no key.
        let sip = try runCommand("/usr/bin/tshark", ["-r", sipCapture, "-T", "fields", "-e", "tcp.payload"]).out
        let bytes = sip.split(separator: "\n").joined()
        #expect(bytes.count > 1000, "nothing captured on the TLS port")
        for clear in ["REGISTER sip:", "INVITE sip:", "Digest ", "a=crypto", "SIP/2.0"] {
            #expect(!bytes.contains(Array(clear.utf8).map { String(format: "%02x", $0) }.joined()), "\(clear) in clear on the wire")
        }
        let tlsRecords = try runCommand("/usr/bin/tshark", ["-r", sipCapture, "-d", "tcp.port==\(tlsPort),tls", "-Y", "tls.app_data", "-T", "fields", "-e", "frame.number"]).out
        #expect(tlsRecords.split(separator: "\n").count > 10, "TLS application data records")
        // RTP: payloads of ciphertext (a tone's G.711 would use a few dozen byte values).
        let variety = try Self.payloadVariety(rtpCapture)
        #expect(variety.count > 100, "\(variety.count) RTP packets captured")
        #expect(variety.filter { $0 < 80 }.count < variety.count / 50, "payloads that look like G.711: \(variety.filter { $0 < 80 }.count) of \(variety.count)")
    }

    @Test("a certificate for another name, an expired one and one from an unknown CA: each refused with its reason in the status, retried with back-off")
    func refusedCertificates() throws {
        let certs = try Self.certificates()
        defer { try? FileManager.default.removeItem(at: certs) }
        var servers: [String: (port: Int, pid: pid_t)] = [:]
        defer { for s in servers.values { stopProcess(s.pid) } }
        for name in ["wrongname", "expired", "stranger"] {
            let port = Kamailio.freeUDPPort()
            let pid = try spawn("/usr/bin/openssl", ["s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", certs.appendingPathComponent("\(name).pem").path,
                                                     "-key", certs.appendingPathComponent("\(name).key").path], stdout: "/dev/null", stderr: "/dev/null")
            servers[name] = (port, pid)
            #expect(waitForPeer(10) { (try? runCommand("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]).status) == 0 }, "openssl s_server \(name)")
        }
        let d = try DaemonUnderTest(name: "tls-refused")
        let ca = certs.appendingPathComponent("ca.pem").path
        func configure(_ first: String, _ second: String) throws {
            try """
            {
              accounts: [
                { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(servers[first]!.port)", transport: "tls", tlsCaFile: "\(ca)" },
                { port: 2, user: "1002", password: "secret2", domain: "127.0.0.1", registrar: "127.0.0.1:\(servers[second]!.port)", transport: "tls", tlsCaFile: "\(ca)" },
              ],
              stateDirectory: "\(d.dir.path)",
            }
            """.write(toFile: d.config, atomically: true, encoding: .utf8)
        }
        try configure("wrongname", "expired")
        try d.start(inNamespace: nil)
        #expect(waitForPeer(15) { d.port(1).contains("TLS: certificate for 'other.test' does not match '127.0.0.1'") }, "\(d.port(1))\n\(d.log().suffix(2000))")
        #expect(waitForPeer(15) { d.port(2).contains("TLS: the certificate of '127.0.0.1' expired ") }, "\(d.port(2))")
        #expect(d.port(1).contains("\"state\": \"retrying\""), "\(d.port(1))")
        try configure("stranger", "expired")
        kill(d.daemon, SIGHUP)
        #expect(waitForPeer(15) { d.port(1).contains("TLS: the certificate of '127.0.0.1' is not signed by a CA trusted here (tlsCaFile \(ca))") }, "\(d.port(1))")
        #expect(d.terminate(within: 8) == 0)
        #expect(!d.log().contains("secret1"))
    }
}
