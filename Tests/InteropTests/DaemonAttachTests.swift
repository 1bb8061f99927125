import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import SystemCalls
import TestSupport

/// The daemon when its registrar's name does not resolve (the router booted before its modem
/// attached) or DNS never answers. The daemon runs in a mount namespace of its own, where the
/// test's files stand in for /etc/hosts, /etc/nsswitch.conf and /etc/resolv.conf — the
/// system's real resolver (getaddrinfo) under the test's control.
@Suite("tipring run: an account that cannot attach yet is tried again", .serialized)
struct DaemonAttachTests {
    /// One daemon on the simulated board against `tipring sim exchange`.
    final class Rig {
        let dir: URL
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("tipring").path
        let exchangePort = Kamailio.freeUDPPort()
        var exchange: pid_t = 0
        var daemon: pid_t = 0
        var hosts: String { dir.appendingPathComponent("hosts").path }
        var config: String { dir.appendingPathComponent("tipring.json5").path }
        var socket: String { dir.appendingPathComponent("t.sock").path }
        var logFile: String { dir.appendingPathComponent("daemon.log").path }

        init(name: String) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-\(name)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let exchangeLog = dir.appendingPathComponent("exchange.log").path
            exchange = try spawn(exe, ["sim", "exchange", "--listen", "127.0.0.1:\(exchangePort)"], stdout: exchangeLog, stderr: exchangeLog)
            guard waitUntilUDPPortTaken(exchangePort) else { throw ToolError(description: "tipring sim exchange did not start") }
            try "127.0.0.1 localhost\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        }

        func writeConfig(registrar1: String, registrar2: String) throws {
            try """
            {
              accounts: [
                { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "\(registrar1)", sipPorts: [19400, 19409], keepAlive: 0, retryBase: 1, retryMax: 2 },
                { port: 2, user: "1002", password: "secret2", domain: "127.0.0.1", registrar: "\(registrar2)", sipPorts: [19410, 19419], keepAlive: 0, retryBase: 1, retryMax: 2 },
              ],
              rtpPorts: [19500, 19599],
              stateDirectory: "\(dir.path)",
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        /// Starts the daemon with the test's name-service files in place of the system's.
        func start(nsswitch: String, resolvConf: String? = nil) throws {
            let nss = dir.appendingPathComponent("nsswitch.conf").path
            try nsswitch.write(toFile: nss, atomically: true, encoding: .utf8)
            var mounts = "mount --bind \(hosts) /etc/hosts && mount --bind \(nss) /etc/nsswitch.conf"
            if let resolvConf {
                let path = dir.appendingPathComponent("resolv.conf").path
                try resolvConf.write(toFile: path, atomically: true, encoding: .utf8)
                mounts += " && mount --bind \(path) /etc/resolv.conf"
            }
            // unshare and sh exec in turn: the pid is the daemon's.
            daemon = try spawn("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", mounts + " && exec \"$0\" \"$@\"",
                                                    exe, "run", "--board", repositoryRoot + "/boards/sim.json5", "--config", config,
                                                    "--socket", socket, "--log-level", "debug"],
                               stdout: logFile, stderr: logFile)
        }

        /// A name the hosts file now knows (appended in place: the daemon's view is a bind mount
        /// of this very file).
        func addHost(_ name: String) throws {
            let h = try #require(FileHandle(forWritingAtPath: hosts))
            h.seekToEndOfFile()
            h.write("127.0.0.1 \(name)\n".data(using: .utf8)!)
            h.closeFile()
        }

        func status() -> String { (try? runCommand(exe, ["status", "--json", "--socket", socket]).out) ?? "" }
        func table() -> String { (try? runCommand(exe, ["status", "--socket", socket]).out) ?? "" }
        func port(_ n: Int) -> String {
            status().components(separatedBy: "{\"port\": \(n),").dropFirst().first?.components(separatedBy: "{\"port\": ").first ?? ""
        }
        func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

        deinit {
            if daemon > 0 { stopProcess(daemon, with: SIGKILL) }
            if exchange > 0 { stopProcess(exchange) }
            try? FileManager.default.removeItem(at: dir)
        }
    }

    @Test("a registrar name unknown at start, or after a reload, is tried again with back-off until it resolves (/etc/hosts); the other port is never held up")
    func unknownNameIsRetried() throws {
        let rig = try Rig(name: "attach")
        try rig.writeConfig(registrar1: "registrar.tipring.test:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)")
        try rig.start(nsswitch: "hosts: files\n")
        #expect(waitForPeer(10) { rig.port(2).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")
        // Port 1 says why and when: the name, and a retry within retryMax (2 s).
        #expect(waitForPeer(10) { rig.port(1).contains("\"state\": \"retrying\"") }, "\(rig.status())")
        let retrying = rig.port(1)
        #expect(retrying.contains("\"reason\": \"DNS: no such name registrar.tipring.test\""), "\(retrying)")
        let wait = Int(retrying.components(separatedBy: "\"retryInSeconds\": ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? -1
        #expect((0...2).contains(wait), "\(retrying)")
        #expect(rig.table().contains("retrying in "), "\(rig.table())")
        // Still the operator's port: enabled, its account named (not "dead, no account").
        #expect(retrying.contains("\"enabled\": true") && retrying.contains("\"account\": \"1001@127.0.0.1\""), "\(retrying)")
        // It keeps trying (more than one attempt logged), and stops the moment the name exists.
        #expect(waitForPeer(10) { rig.log().components(separatedBy: "cannot reach registrar.tipring.test").count >= 3 }, "\(rig.log())")
        try rig.addHost("registrar.tipring.test")
        #expect(waitForPeer(10) { rig.port(1).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")
        #expect(rig.log().contains("registrar.tipring.test:\(rig.exchangePort) reached after "), "\(rig.log())")
        #expect(!rig.port(1).contains("\"lastError\": \""), "\(rig.port(1))")

        // A reload that moves port 2 to a name not known yet: retried the same way; port 1 untouched.
        try rig.writeConfig(registrar1: "registrar.tipring.test:\(rig.exchangePort)", registrar2: "moved.tipring.test:\(rig.exchangePort)")
        kill(rig.daemon, SIGHUP)
        #expect(waitForPeer(10) { rig.port(2).contains("\"reason\": \"DNS: no such name moved.tipring.test\"") }, "\(rig.status())\n\(rig.log())")
        #expect(rig.port(1).contains("\"registration\": {\"state\": \"registered\""))
        try rig.addHost("moved.tipring.test")
        #expect(waitForPeer(10) { rig.port(2).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")

        kill(rig.daemon, SIGTERM)
        #expect(reap(rig.daemon, within: 6) == 0, "\(rig.log())")
        rig.daemon = 0
        #expect(!rig.log().contains("secret1") && !rig.log().contains("secret2"))
    }

    @Test("a DNS server that never answers holds up neither the other port, the status, nor SIGTERM")
    func silentDNSBlocksNothing() throws {
        // The name server: a socket that takes queries and never answers.
        let silent = try DatagramSocket(binding: #require(IPv4Endpoint(host: "127.77.0.1", port: 53)))
        defer { silent.close() }
        let rig = try Rig(name: "silentdns")
        try rig.writeConfig(registrar1: "silent.tipring.test:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)")
        try rig.start(nsswitch: "hosts: files dns\n", resolvConf: "nameserver 127.77.0.1\noptions timeout:5 attempts:3\n")
        #expect(silent.waitReadable(timeout: .seconds(10)), "the daemon never asked the name server")
        #expect(waitForPeer(10) { rig.port(2).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")
        // Still waiting for DNS (15 s of timeouts), and saying so.
        #expect(rig.port(1).contains("\"state\": \"registering\", \"reason\": \"looking up the registrar\""), "\(rig.port(1))")
        let stopAt = Instant.monotonicNow()
        kill(rig.daemon, SIGTERM)
        #expect(reap(rig.daemon, within: 6) == 0, "\(rig.log())")
        rig.daemon = 0
        #expect(Instant.monotonicNow() - stopAt < .seconds(5))
    }
}
