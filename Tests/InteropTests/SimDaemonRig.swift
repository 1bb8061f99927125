import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TestSupport

/// `tipring run` on the simulated board as a process of the test's own (optionally inside a
/// network namespace), in a folder of its own, with its status, log and `sim` commands at hand.
class DaemonUnderTest {
    let dir: URL
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("tipring").path
    var daemon: pid_t = 0
    var config: String { dir.appendingPathComponent("tipring.json5").path }
    var socket: String { dir.appendingPathComponent("t.sock").path }
    var logFile: String { dir.appendingPathComponent("daemon.log").path }
    var runArguments: [String] { ["run", "--board", repositoryRoot + "/boards/sim.json5", "--config", config, "--socket", socket, "--log-level", "debug"] }

    init(name: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    /// Starts the daemon; in network namespace `namespace` when given (`ip netns exec` execs it:
    /// the pid is the daemon's).
    func start(inNamespace namespace: String?) throws {
        if let namespace {
            daemon = try spawn("/usr/sbin/ip", ["netns", "exec", namespace, exe] + runArguments, stdout: logFile, stderr: logFile)
        } else {
            daemon = try spawn(exe, runArguments, stdout: logFile, stderr: logFile)
        }
    }

    func status() -> String { (try? runCommand(exe, ["status", "--json", "--socket", socket]).out) ?? "" }
    func table() -> String { (try? runCommand(exe, ["status", "--socket", socket]).out) ?? "" }
    func port(_ n: Int) -> String {
        status().components(separatedBy: "{\"port\": \(n),").dropFirst().first?.components(separatedBy: "{\"port\": ").first ?? ""
    }
    func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
    /// `tipring sim …` on the running daemon; its output.
    @discardableResult
    func sim(_ arguments: [String]) throws -> String {
        let r = try runCommand(exe, ["sim"] + arguments + ["--socket", socket])
        guard r.status == 0 else { throw ToolError(description: "tipring sim \(arguments.joined(separator: " ")): \(r.out)\(r.err)") }
        return r.out
    }

    /// SIGTERM; the exit status within `seconds` (nil: still running).
    func terminate(within seconds: Double) -> Int32? {
        kill(daemon, SIGTERM)
        let status = reap(daemon, within: seconds)
        if status != nil { daemon = 0 }
        return status
    }

    deinit {
        if daemon > 0 { stopProcess(daemon, with: SIGKILL) }
        try? FileManager.default.removeItem(at: dir)
    }
}

/// A daemon against `tipring sim exchange`, with two accounts whose registrars the test names.
final class SimDaemonRig: DaemonUnderTest {
    let exchangePort = Kamailio.freeUDPPort()
    var exchange: pid_t = 0
    var hosts: String { dir.appendingPathComponent("hosts").path }

    override init(name: String) throws {
        try super.init(name: name)
        let exchangeLog = dir.appendingPathComponent("exchange.log").path
        exchange = try spawn(exe, ["sim", "exchange", "--listen", "127.0.0.1:\(exchangePort)"], stdout: exchangeLog, stderr: exchangeLog)
        guard waitUntilUDPPortTaken(exchangePort) else { throw ToolError(description: "tipring sim exchange did not start") }
        try "127.0.0.1 localhost\n".write(toFile: hosts, atomically: true, encoding: .utf8)
    }

    /// `extra`: more top-level keys, each followed by a comma.
    func writeConfig(registrar1: String, registrar2: String, extra: String = "") throws {
        try """
        {
          accounts: [
            { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "\(registrar1)", sipPorts: [19400, 19409], keepAlive: 0, retryBase: 1, retryMax: 2 },
            { port: 2, user: "1002", password: "secret2", domain: "127.0.0.1", registrar: "\(registrar2)", sipPorts: [19410, 19419], keepAlive: 0, retryBase: 1, retryMax: 2 },
          ],
          rtpPorts: [19500, 19599],
          stateDirectory: "\(dir.path)",
          \(extra)
        }
        """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Starts the daemon; with `nsswitch`, in a mount namespace where the test's files stand
    /// in for /etc/hosts, /etc/nsswitch.conf (and /etc/resolv.conf).
    func start(nsswitch: String? = nil, resolvConf: String? = nil) throws {
        guard let nsswitch else { return try start(inNamespace: nil) }
        let nss = dir.appendingPathComponent("nsswitch.conf").path
        try nsswitch.write(toFile: nss, atomically: true, encoding: .utf8)
        var mounts = "mount --bind \(hosts) /etc/hosts && mount --bind \(nss) /etc/nsswitch.conf"
        if let resolvConf {
            let path = dir.appendingPathComponent("resolv.conf").path
            try resolvConf.write(toFile: path, atomically: true, encoding: .utf8)
            mounts += " && mount --bind \(path) /etc/resolv.conf"
        }
        // unshare and sh exec in turn: the pid is the daemon's.
        daemon = try spawn("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", mounts + " && exec \"$0\" \"$@\"", exe] + runArguments,
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

    deinit {
        if exchange > 0 { stopProcess(exchange) }
    }
}
