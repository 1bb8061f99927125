import Foundation  // tests only: Process, files
import Testing
import TipRingCore
import TestSupport

// The harness every interop test shares: spawning and reaping real peers, waiting for them
// to be ready, and a Kamailio of its own per test.

/// Spawns a program with stdin from /dev/null and stdout/stderr to files; returns its pid.
/// (posix_spawn + waitpid directly: Foundation's Process did not reap children reliably
/// once a long-running server was among them.)
func spawn(_ path: String, _ args: [String], stdout: String, stderr: String) throws -> pid_t {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var attr: posix_spawnattr_t = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    // An empty signal mask and default handlers: the test runner may block signals.
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attr, argv, environ)
    guard rc == 0 else { throw ToolError(description: "posix_spawn \(path): errno \(rc)") }
    return pid
}

/// Runs a program to completion; returns its exit status and output.
func runCommand(_ path: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-run-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out").path, err = dir.appendingPathComponent("err").path
    let pid = try spawn(path, args, stdout: out, stderr: err)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (code, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// A Kamailio registrar on 127.0.0.1 for one test: its own port, folder and process.
/// Kamailio is a test dependency (`make test` installs it); if it cannot start, the test fails.
final class Kamailio {
    let port: Int
    let run: URL
    var pid: pid_t = 0

    static func freeUDPPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A port for a SIP peer that listens on UDP and TCP at `p` and TLS at `p + 1` (baresip):
    /// below the kernel's ephemeral range (32768–60999), where no outgoing connection of
    /// another test can be holding it, and each of the three bindable when it is handed out.
    static func freeSIPPort() -> Int {
        func bindable(_ port: Int, _ type: Int32) -> Bool {
            let fd = socket(AF_INET, type, 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
        }
        for _ in 0..<500 {
            let p = Int.random(in: 12000...15998)
            let udp = Int32(SOCK_DGRAM.rawValue), tcp = Int32(SOCK_STREAM.rawValue)
            if bindable(p, udp) && bindable(p, tcp) && bindable(p + 1, tcp) { return p }
        }
        return freeUDPPort()
    }

    /// Where it listens; with `namespace`, it runs in that network namespace (`ip netns exec`).
    let address: String
    let namespace: String?

    /// SIP over TLS on this port, when the test gave a certificate and key.
    let tlsPort: Int?

    init(algorithm: String = "MD5", uas: String = "127.0.0.1:9", address: String = "127.0.0.1", namespace: String? = nil,
         tls: (certificate: String, key: String)? = nil, clientCA: String? = nil, voicemail: String? = nil) throws {
        port = namespace == nil ? Self.freeUDPPort() : 5060
        tlsPort = tls == nil ? nil : Self.freeUDPPort()
        self.address = address
        self.namespace = namespace
        run = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-kamailio-\(UUID().uuidString.prefix(8))")
        let fixtures = URL(fileURLWithPath: repositoryRoot + "/Tests/Fixtures/kamailio")
        try FileManager.default.createDirectory(at: run.appendingPathComponent("db"), withIntermediateDirectories: true)
        for f in ["version", "subscriber"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent("db/\(f)"), to: run.appendingPathComponent("db/\(f)"))
        }
        var tlsBlock = ""
        if let tls, let tlsPort {
            try """
            [server:default]
            method = TLSv1.2+
            verify_certificate = \(clientCA == nil ? "no" : "yes")
            require_certificate = \(clientCA == nil ? "no" : "yes")
            \(clientCA.map { "ca_list = \($0)" } ?? "")
            private_key = \(tls.key)
            certificate = \(tls.certificate)

            """.write(to: run.appendingPathComponent("tls.cfg"), atomically: true, encoding: .utf8)
            tlsBlock = """
            enable_tls=yes
            listen=tls:\(address):\(tlsPort)
            alias="\(address):\(tlsPort)"
            loadmodule "/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so"
            modparam("tls", "config", "\(run.path)/tls.cfg")
            """
        }
        let cfg = try String(contentsOf: fixtures.appendingPathComponent("kamailio.cfg.in"), encoding: .utf8)
            .replacingOccurrences(of: "@TLS@", with: tlsBlock)
            .replacingOccurrences(of: "@PORT@", with: "\(port)")
            .replacingOccurrences(of: "@ADDRESS@", with: address)
            .replacingOccurrences(of: "@RUN@", with: run.path)
            .replacingOccurrences(of: "@ALGORITHM@", with: algorithm)
            .replacingOccurrences(of: "@UAS@", with: uas)
            .replacingOccurrences(of: "@MWI@", with: voicemail.map {
                "if (is_method(\"SUBSCRIBE\") && $hdr(Event) == \"message-summary\") { $du = \"sip:\($0)\"; route(RELAY); }"
            } ?? "")
        try cfg.write(to: run.appendingPathComponent("kamailio.cfg"), atomically: true, encoding: .utf8)
        try start()
    }

    /// Starts (or restarts, on the same port and folder) the server.
    func start() throws {
        let log = run.appendingPathComponent("kamailio.log")
        try? FileManager.default.removeItem(at: run.appendingPathComponent("kamailio_ctl"))
        let arguments = ["-f", run.appendingPathComponent("kamailio.cfg").path, "-DD", "-E", "-m", "32", "-M", "8",
                         "-Y", run.path, "-P", run.appendingPathComponent("kamailio.pid").path]
        if let namespace {
            pid = try spawn("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/sbin/kamailio"] + arguments, stdout: "/dev/null", stderr: log.path)
        } else {
            pid = try spawn("/usr/sbin/kamailio", arguments, stdout: "/dev/null", stderr: log.path)
        }
        // Ready once its control socket exists (the ctl module opens it after the listeners).
        // A loaded two-core machine running the other suites' servers can take its time:
        // the wait ends early only when the server has exited (a real failure).
        let ctl = run.appendingPathComponent("kamailio_ctl").path
        let started = pid
        var status: Int32 = 0, exited = false
        _ = waitForPeer(45) {
            exited = exited || waitpid(started, &status, WNOHANG) == started
            return exited || FileManager.default.fileExists(atPath: ctl)
        }
        if !exited && FileManager.default.fileExists(atPath: ctl) { return }
        if exited { pid = 0 } else { halt() }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw ToolError(description: "kamailio did not start (make test installs it): \(text.suffix(800))")
    }

    func kamcmd(_ args: [String]) throws -> (status: Int32, out: String) {
        let r = try runCommand("/usr/bin/timeout", ["5", "/usr/sbin/kamcmd", "-s", "unix:\(run.path)/kamailio_ctl"] + args)
        return (r.status, r.out)
    }

    /// The registered contacts of a user (from the location table).
    func contacts(of user: String) throws -> [String] {
        let dump = try kamcmd(["ul.dump"]).out
        // One section per AoR: its Address lines until the next AoR.
        let sections = dump.components(separatedBy: "AoR: ").dropFirst()
        guard let mine = sections.first(where: { $0.hasPrefix(user + "\n") || $0.hasPrefix(user + " ") || $0.hasPrefix(user + "\r") }) else { return [] }
        return mine.split(separator: "\n").filter { $0.contains("Address: sip:") }.map { String($0.split(separator: " ").last ?? "") }
    }

    /// Stops Kamailio and removes its folder.
    func stop() {
        halt()
        try? FileManager.default.removeItem(at: run)
    }

    /// Stops Kamailio (SIGTERM; it takes its children with it) and reaps it; keeps its folder
    /// so that ``start()`` brings it back on the same port.
    func halt() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        if reap(pid, within: 5) == nil {
            _ = try? runCommand("/usr/bin/pkill", ["-KILL", "-f", run.path])
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        pid = 0
    }

    deinit { stop() }
}

struct ToolError: Error, CustomStringConvertible { var description: String }

/// Readiness of a real process (a server listening, a capture running) has no event to wait
/// on: this checks `condition` every `interval` until it holds or `seconds` pass, blocking on
/// a condition variable. The one place the tests wait for the outside world — never for the
/// code under test, which runs in virtual time.
func waitForPeer(_ seconds: Double, every interval: Double = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let lock = ConditionLock()
    let deadline = Instant.monotonicNow() + .milliseconds(Int64(seconds * 1000))
    while Instant.monotonicNow() < deadline {
        if try condition() { return true }
        let next = min(deadline, Instant.monotonicNow() + .milliseconds(Int64(interval * 1000)))
        lock.withLock { lock.wait(until: next) }
    }
    return try condition()
}

/// Waits for a child process to exit (a thread blocked in `waitpid`); its exit status, or nil
/// when it is still running after `seconds`.
func reap(_ pid: pid_t, within seconds: Double) -> Int32? {
    final class Box: @unchecked Sendable {
        let lock = ConditionLock()
        var status: Int32?
    }
    let box = Box()
    let thread = Thread {
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        box.lock.withLock { box.status = st; box.lock.broadcast() }
    }
    thread.start()
    let deadline = Instant.monotonicNow() + .milliseconds(Int64(seconds * 1000))
    return box.lock.withLock {
        while box.status == nil && Instant.monotonicNow() < deadline { box.lock.wait(until: deadline) }
        return box.status
    }
}

/// Stops a child process: `signal`, then reaped within `seconds`; SIGKILL if it lingers.
func stopProcess(_ pid: pid_t, with signal: Int32 = SIGTERM, within seconds: Double = 5) {
    kill(pid, signal)
    if reap(pid, within: seconds) == nil {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

/// Waits for a child process to finish; its exit code.
func exitCode(waitingFor pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xFF
}

/// Waits (up to 10 s) until something has bound a UDP port on 127.0.0.1 — a server started
/// by a test is ready.
func waitUntilUDPPortTaken(_ port: Int) -> Bool {
    waitForPeer(10, every: 0.02) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } != 0
    }
}

/// The built `tipring`, run with posix_spawn.
func runTipRingSpawned(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("tipring").path
    return try runCommand(exe, arguments)
}
