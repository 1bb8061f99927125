import Foundation  // tests only: Process, files
import Testing
import TipRingCore
import TestSupport

@Suite(.serialized) struct KamailioRegisterTests {
    func passwordFile(_ password: String) throws -> String {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-pw-\(UUID().uuidString.prefix(8))")
        try (password + "\n").write(to: f, atomically: true, encoding: .utf8)
        return f.path
    }

    @Test(arguments: [("MD5", "udp"), ("SHA-256", "udp"), ("MD5", "tcp"), ("SHA-256", "tcp")])
    func registersWithQopAuthAndLeavesNoBinding(algorithm: String, transport: String) throws {
        let k = try Kamailio(algorithm: algorithm)
        defer { k.stop() }
        let pw = try passwordFile("secret1")
        defer { try? FileManager.default.removeItem(atPath: pw) }
        let r = try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1:\(k.port)", "--user", "1001", "--password-file", pw, "--transport", transport])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("(\(transport.uppercased())), registrar 127.0.0.1:\(k.port)"))
        #expect(r.out.contains("← 401 Unauthorized: challenge realm \"127.0.0.1\", algorithm \(algorithm), qop auth"))
        #expect(r.out.contains("with credentials (algorithm \(algorithm), qop auth, nc 00000001)"))
        #expect(r.out.contains("← 200 OK: granted"))
        #expect(r.out.contains("registered and unregistered"))
        #expect(!r.out.contains("secret1") && !r.err.contains("secret1"))
        #expect(try k.contacts(of: "1001").isEmpty)
    }

    @Test func aWrongPasswordIsRefusedWithoutAStorm() throws {
        let k = try Kamailio()
        defer { k.stop() }
        let pw = try passwordFile("not-the-password")
        defer { try? FileManager.default.removeItem(atPath: pw) }
        let r = try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1:\(k.port)", "--user", "1001", "--password-file", pw])
        #expect(r.status == 1)
        #expect(r.out.contains("wrong user name or password"))
        // Two attempts (one retransmitted over UDP on a loaded machine is still one).
        #expect(r.out.components(separatedBy: "→ REGISTER Expires").count - 1 == 2, "\(r.out)")
        #expect(!r.out.contains("not-the-password"))
    }

    @Test func noRegistrarMeansExitOne() throws {
        let pw = try passwordFile("x")
        defer { try? FileManager.default.removeItem(atPath: pw) }
        // Nothing listens on this port: the transaction times out (32 s) — bounded by the tool.
        let r = try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1:\(Kamailio.freeUDPPort())", "--user", "1001", "--password-file", pw, "--expires", "60"])
        #expect(r.status == 1)
        #expect(try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1:99999", "--user", "1", "--password-file", pw]).status == 2)
        #expect(try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1", "--user", "1", "--password-file", "/nonexistent"]).status == 2)
    }
}

/// sipp (Debian sip-tester, installed by `make test`) playing odd registrars.
@Suite(.serialized) struct SippRegistrarTests {
    /// Starts sipp with a scenario on a free port; returns (pid, port, log path).
    func sipp(_ scenario: String) throws -> (pid_t, Int, String) {
        let port = Kamailio.freeUDPPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-sipp-\(UUID().uuidString.prefix(8)).log").path
        let pid = try spawn("/usr/bin/sipp", ["-sf", repositoryRoot + "/Tests/Fixtures/sipp/\(scenario).xml", "-i", "127.0.0.1",
                                              "-p", "\(port)", "-m", "1", "-nostdin", "-timeout", "90s"], stdout: log, stderr: log)
        guard waitUntilUDPPortTaken(port) else {
            kill(pid, SIGKILL)
            throw ToolError(description: "sipp did not start (make test installs sip-tester)")
        }
        return (pid, port, log)
    }

    /// Waits for sipp; returns its exit status (0: scenario completed).
    func finish(_ pid: pid_t) -> Int32 { exitCode(waitingFor: pid) }

    func passwordFile() throws -> String {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-pw-\(UUID().uuidString.prefix(8))")
        try "secret1\n".write(to: f, atomically: true, encoding: .utf8)
        return f.path
    }

    @Test func intervalTooBriefThenRegistered() throws {
        let (pid, port, log) = try sipp("registrar-423")
        let pw = try passwordFile()
        let r = try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1:\(port)", "--user", "1001", "--password-file", pw, "--expires", "600"])
        #expect(r.status == 0, "\(r.out)")
        #expect(r.out.contains("← 423 Interval Too Brief\n→ REGISTER Expires: 7200\n"), "\(r.out)")
        #expect(r.out.contains("← 200 OK: granted 7200 s"), "\(r.out)")
        #expect(finish(pid) == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    @Test func aShorterGrantIsAccepted() throws {
        let (pid, port, _) = try sipp("registrar-shorter")
        let pw = try passwordFile()
        let r = try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1:\(port)", "--user", "1001", "--password-file", pw])
        #expect(r.status == 0)
        #expect(r.out.contains("← 200 OK: granted 60 s"))
        #expect(finish(pid) == 0)
    }

    @Test func serviceUnavailableReportsRetryAfter() throws {
        let (pid, port, _) = try sipp("registrar-503")
        let pw = try passwordFile()
        let r = try runTipRingSpawned(["sip", "register", "--registrar", "127.0.0.1:\(port)", "--user", "1001", "--password-file", pw])
        #expect(r.status == 1)
        #expect(r.out.contains("registration failed: 503, Retry-After 120 s"))
        #expect(r.out.components(separatedBy: "→ REGISTER Expires").count - 1 == 1, "\(r.out)")
        #expect(finish(pid) == 0)
    }
}
