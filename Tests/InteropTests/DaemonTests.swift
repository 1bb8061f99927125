import Foundation  // tests only: files, processes
import Testing
import TipRingDaemon
import TipRingCore
import LineHAL
import SIPCore
import TestSupport

/// The real binary as a daemon on the simulated board, against Kamailio.
@Suite("tipring run: the daemon against Kamailio", .serialized)
struct DaemonTests {
    func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        try waitForPeer(seconds, every: 0.1, condition)
    }

    @Test("status, a call driven by sim commands with audio heard, SIGHUP for one port, SIGTERM leaves no binding; no password anywhere")
    func daemon() throws {
        let k = try Kamailio()
        defer { k.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-daemon-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pw2 = dir.appendingPathComponent("1002.password").path
        try "secret2\n".write(toFile: pw2, atomically: true, encoding: .utf8)
        chmod(pw2, 0o600)
        let config = dir.appendingPathComponent("tipring.json5").path
        func writeConfig(port2Password file: String) throws {
            try """
            {
              accounts: [
                { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [19060, 19069],
                  require100rel: true, sessionExpires: 120, minSessionExpires: 90, keepAliveMethod: "options", dscpSip: 26, dscpRtp: 34 },
                { port: 2, user: "1002", passwordFile: "\(file)", domain: "127.0.0.1", registrar: "127.0.0.1:\(k.port)", sipPorts: [19070, 19079] },
              ],
              ports: [{ id: 1, dialPlan: "(100[1-9]|x.T)" }, { id: 2, dialPlan: "(100[1-9]|x.T)" }],
              rtpPorts: [19100, 19199],
              stateDirectory: "\(dir.path)",
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }
        try writeConfig(port2Password: pw2)
        let socket = dir.appendingPathComponent("t.sock").path
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("tipring").path
        let logFile = dir.appendingPathComponent("daemon.log").path
        let started = Date()
        let pid = try spawn(exe, ["run", "--board", repositoryRoot + "/boards/sim.json5", "--config", config, "--socket", socket, "--log-level", "debug"],
                            stdout: logFile, stderr: logFile)
        var outputs: [String] = []
        func tipring(_ args: [String]) throws -> String {
            let r = try runCommand(exe, args + ["--socket", socket])
            outputs.append(r.out + r.err)
            return r.out
        }
        func status() -> String { (try? tipring(["status", "--json"])) ?? "" }
        defer {
            kill(pid, SIGKILL)
            var st: Int32 = 0
            waitpid(pid, &st, 0)
        }
        #expect(waitFor(20) { status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(status())")
        print("start → both registered: \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        #expect(try k.contacts(of: "1001").count == 1 && k.contacts(of: "1002").count == 1)
        let table = try tipring(["status"])
        // Times are relative: "expires in N s" within the grant (Kamailio's default 3600 s).
        let expires = table.components(separatedBy: "registered, expires in ").dropFirst().map { Int($0.prefix { $0.isNumber }) ?? -1 }
        #expect(expires.count == 2 && expires.allSatisfy { $0 > 0 && $0 <= 3600 }, "\(table)")

        // A call: port 1 lifts and dials 1002; port 2 rings, shows caller ID, answers; audio both ways.
        _ = try tipring(["sim", "offhook", "--port", "1"])
        #expect(waitFor(5) { status().contains("\"line\": {\"state\": \"dial-tone\"}") })  // the person waits for dial tone
        #expect(status().contains("\"seizeToToneMs\": "), "\(status())")
        _ = try tipring(["sim", "dial", "--port", "1", "1002"])
        #expect(waitFor(10) { status().contains("\"line\": {\"state\": \"ringing\"}") })
        let ringing = try tipring(["sim", "listen", "--port", "2", "--seconds", "4"])
        #expect(ringing.contains("caller-id 1001"), "\(ringing)")
        _ = try tipring(["sim", "offhook", "--port", "2"])
        #expect(waitFor(10) { status().components(separatedBy: "\"line\": {\"state\": \"connected\"").count == 3 })
        // Fields, never a Swift description of an internal value (`connected(call#1, other: nil)`).
        let talking = status()
        #expect(!talking.contains("call#") && !talking.contains("(") && (try? DaemonStatus(parsing: talking)) != nil, "\(talking)")
        _ = try tipring(["sim", "say", "--port", "1", "--tone", "1004"])
        #expect(waitFor(5) { status().contains("\"packetsReceived\": ") && !status().contains("\"packetsReceived\": 0,") })
        let heard = try tipring(["sim", "listen", "--port", "2", "--seconds", "1"])
        #expect(heard.contains("audio 1004 Hz at -10 dBm0"), "\(heard)")
        #expect(status().contains("\"codec\": \"PCMU\""))
        // Who each call is with.
        #expect(status().contains("\"call\": {\"peer\": \"sip:1002@127.0.0.1\", \"direction\": \"outgoing\""), "\(status())")
        #expect(status().contains("\"call\": {\"peer\": \"sip:1001@127.0.0.1\", \"direction\": \"incoming\""), "\(status())")
        _ = try tipring(["sim", "onhook", "--port", "1"])
        _ = try tipring(["sim", "onhook", "--port", "2"])
        #expect(waitFor(10) { status().components(separatedBy: "\"line\": {\"state\": \"idle\"}").count == 3 })
        // The call history: both ends of the call, answered, with its quality; kept in the
        // state directory.
        #expect(waitFor(5) { (try? tipring(["calls", "--json"]))?.components(separatedBy: "\"time\"").count == 3 })
        let calls = try tipring(["calls", "--json"])
        #expect(calls.contains("\"port\": 1, \"direction\": \"outgoing\", \"peer\": \"1002\", \"answered\": true"), "\(calls)")
        #expect(calls.contains("\"port\": 2, \"direction\": \"incoming\", \"peer\": \"1001\""), "\(calls)")
        #expect(calls.contains("\"end\": \"hung up here\"") && calls.contains("\"codec\": \"PCMU\""), "\(calls)")
        let history = try tipring(["calls"])
        #expect(history.contains("out  1002") && history.contains(" in   "), "\(history)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("calls.jsonl").path))

        // SIGHUP with port 2's password changed (to a wrong one): only port 2 registers again.
        func port1(_ s: String) -> String { s.components(separatedBy: "\"port\": 2")[0].components(separatedBy: "\"port\": 1").last ?? "" }
        let port1Before = port1(status())
        let wrong = dir.appendingPathComponent("wrong.password").path
        try "not-the-password\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        chmod(wrong, 0o600)
        try writeConfig(port2Password: wrong)
        kill(pid, SIGHUP)
        #expect(waitFor(15) { status().contains("\"state\": \"failed\"") }, "\(status())")
        let after = status()
        // Port 1 untouched: the same state, and its registration not renewed (a new REGISTER
        // would have set the expiry back to the whole grant).
        func expiry(_ s: String) -> Int { Int(s.components(separatedBy: "\"expiresInSeconds\": ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? -1 }
        func masked(_ s: String) -> String { s.replacingOccurrences(of: "\"expiresInSeconds\": \(expiry(s))", with: "") }
        #expect(masked(port1(after)) == masked(port1Before), "port 1 changed: \(after)")
        #expect(expiry(port1(after)) > 0 && expiry(port1(after)) <= expiry(port1Before), "port 1 registered again: \(port1Before) → \(after)")

        // SIGTERM: unregister, exit 0 within the bound.
        let stopAt = Date()
        kill(pid, SIGTERM)
        var st: Int32 = 0
        var exited = false
        _ = waitFor(10) {
            exited = waitpid(pid, &st, WNOHANG) == pid
            return exited
        }
        #expect(exited && (st >> 8) & 0xFF == 0, "exit status \(st)")
        #expect(Date().timeIntervalSince(stopAt) < 6)
        #expect(try k.contacts(of: "1001").isEmpty && k.contacts(of: "1002").isEmpty)
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        #expect(log.contains("[port.id=1"))
        #expect(log.contains("sip.call_id="))
        for text in outputs + [log] {
            #expect(!text.contains("secret1") && !text.contains("secret2") && !text.contains("not-the-password"), "a password in: \(text.prefix(200))")
        }
    }
}

/// One daemon per socket.
@Suite("tipring run: a second daemon on the same socket", .serialized)
struct DaemonInstanceTests {
    @Test("a second tipring run with the same socket refuses at once (exit 1, naming the first's pid) and leaves the first and its socket alone")
    func secondRunRefuses() throws {
        let first = try DaemonUnderTest(name: "instance")
        try "{ accounts: [], stateDirectory: \"\(first.dir.path)\" }".write(toFile: first.config, atomically: true, encoding: .utf8)
        try first.start(inNamespace: nil)
        #expect(waitForPeer(10) { first.status().contains("\"ports\"") }, "\(first.log())")
        let second = try runCommand(first.exe, first.runArguments)
        #expect(second.status == 1, "\(second)")
        #expect(second.err.contains("another tipring daemon (pid \(first.daemon)) is running with the socket \(first.socket)"), "\(second.err)")
        // The first still answers on its socket (the second neither removed nor replaced it).
        #expect(first.status().contains("\"ports\""), "\(first.log())")
        #expect(first.terminate(within: 6) == 0)
        // Once the first is gone, the socket is free again.
        let third = try DaemonUnderTest(name: "instance-again")
        try "{ accounts: [], stateDirectory: \"\(third.dir.path)\" }".write(toFile: third.config, atomically: true, encoding: .utf8)
        try third.start(inNamespace: nil)
        #expect(waitForPeer(10) { third.status().contains("\"ports\"") }, "\(third.log())")
        #expect(third.terminate(within: 6) == 0)
    }
}

/// Log lines to a system log socket, as OpenWrt's logd takes them.
@Suite("tipring run --log-to syslog", .serialized)
struct DaemonSyslogTests {
    @Test("each line at its own level, daemon facility (RFC 3164, one prefix); with the socket gone, lines go to standard error instead of being lost")
    func syslogLines() throws {
        let rig = try DaemonUnderTest(name: "syslog")
        try "{ accounts: [], stateDirectory: \"\(rig.dir.path)\" }".write(toFile: rig.config, atomically: true, encoding: .utf8)
        let logPath = rig.dir.appendingPathComponent("log").path
        let log = try UnixDatagramListener(path: logPath)
        rig.daemon = try spawn(rig.exe, rig.runArguments.filter { $0 != "--log-level" && $0 != "debug" } + ["--log-to", "syslog:\(logPath)"],
                               stdout: rig.logFile, stderr: rig.logFile)
        let lines = log.collect(for: 10) { $0.contains("running 2 port(s)") }
        let pid = rig.daemon
        // Info is 3·8 + 6 = 30, notice 29 (RFC 5424 severities, daemon facility); one prefix each.
        #expect(lines.contains("<30>tipring[\(pid)]: running 2 port(s) on board sim"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<29>tipring[\(pid)]: [port.id=1] port 1: no account configured") }, "\(lines)")
        #expect(lines.allSatisfy { $0.components(separatedBy: "tipring[").count == 2 && !$0.hasSuffix("\n") }, "\(lines)")
        #expect(!rig.log().contains("running 2 port(s)"), "\(rig.log())")  // not on standard error as well
        // The log socket goes away (logd restarting): the shutdown's lines reach standard error.
        log.close()
        #expect(rig.terminate(within: 6) == 0)
        #expect(rig.log().contains("<30>tipring[\(pid)]: stopped"), "\(rig.log())")
        // An unknown destination is refused.
        let bad = try runCommand(rig.exe, rig.runArguments + ["--log-to", "kafka"])
        #expect(bad.status == 2 && bad.err.contains("--log-to kafka: stderr, syslog or syslog:/path"), "\(bad)")
    }
}

/// The daemon on an IPv6-only path: Kamailio listening on [::1] alone.
@Suite("tipring run: over IPv6", .serialized)
struct DaemonIPv6Tests {
    @Test("both ports register at Kamailio on [::1] (a bracketed literal with a port, a bare one), call each other with audio heard, and unregister on SIGTERM")
    func overIPv6() throws {
        let k = try Kamailio(address: "[::1]")
        defer { k.stop() }
        let rig = try DaemonUnderTest(name: "ipv6")
        try """
        {
          accounts: [
            { port: 1, user: "1001", password: "secret1", domain: "::1", registrar: "[::1]:\(k.port)", sipPorts: [19460, 19469] },
            { port: 2, user: "1002", password: "secret2", domain: "[::1]", outboundProxy: "[::1]:\(k.port)", sipPorts: [19470, 19479] },
          ],
          ports: [{ id: 1, dialPlan: "(100[1-9]|x.T)" }, { id: 2, dialPlan: "(100[1-9]|x.T)", callerId: "dtmf" }],
          rtpPorts: [19480, 19499],
          stateDirectory: "\(rig.dir.path)",
        }
        """.write(toFile: rig.config, atomically: true, encoding: .utf8)
        try rig.start(inNamespace: nil)
        #expect(waitForPeer(20) { rig.status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(rig.status())\n\(rig.log())")
        for user in ["1001", "1002"] {
            let contacts = try k.contacts(of: user)
            #expect(contacts.count == 1 && contacts[0].hasPrefix("sip:\(user)@[::1]:"), "\(contacts)")
        }
        _ = try rig.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { rig.port(1).contains("\"line\": {\"state\": \"dial-tone\"}") })
        _ = try rig.sim(["dial", "--port", "1", "1002"])
        #expect(waitForPeer(10) { rig.port(2).contains("\"line\": {\"state\": \"ringing\"}") }, "\(rig.status())\n\(rig.log())")
        // Port 2's telephone takes DTMF caller ID though its region (us) sends Bell 202: the
        // keypad detector hears the number as digits between the first rings.
        let ringing = try rig.sim(["listen", "--port", "2", "--seconds", "5"])
        #expect(ringing.contains("caller-id 1001") && ringing.contains("dtmf ") && ringing.contains("1001"), "\(ringing)")
        _ = try rig.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(10) { rig.status().components(separatedBy: "\"line\": {\"state\": \"connected\"").count == 3 })
        _ = try rig.sim(["say", "--port", "1", "--tone", "1004"])
        let heard = try rig.sim(["listen", "--port", "2", "--seconds", "1"])
        #expect(heard.contains("audio 1004 Hz at -10 dBm0"), "\(heard)")
        _ = try rig.sim(["onhook", "--port", "1"])
        _ = try rig.sim(["onhook", "--port", "2"])
        #expect(rig.terminate(within: 6) == 0, "\(rig.log())")
        #expect(try k.contacts(of: "1001").isEmpty && k.contacts(of: "1002").isEmpty)
    }
}

/// SIGHUP beyond passwords, with nothing installed: the daemon against `tipring sim exchange`.
@Suite("tipring run: SIGHUP applies port sections and new accounts", .serialized)
struct DaemonReloadTests {
    @Test("an added account registers; a changed dial plan waits for the line to be idle, then applies")
    func reload() throws {
        let exchangePort = Kamailio.freeUDPPort()
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("tipring").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-reload-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let exchangeLog = dir.appendingPathComponent("exchange.log").path
        let exchange = try spawn(exe, ["sim", "exchange", "--listen", "127.0.0.1:\(exchangePort)"], stdout: exchangeLog, stderr: exchangeLog)
        defer { kill(exchange, SIGTERM); _ = reap(exchange, within: 5) }
        #expect(waitUntilUDPPortTaken(exchangePort))
        let config = dir.appendingPathComponent("tipring.json5").path
        func writeConfig(port2: Bool, plan1: String) throws {
            let account2 = port2 ? #"{ port: 2, user: "1002", password: "secret2", domain: "127.0.0.1", registrar: "127.0.0.1:\#(exchangePort)", sipPorts: [19210, 19219], keepAlive: 0 },"# : ""
            try """
            {
              accounts: [
                { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(exchangePort)", sipPorts: [19200, 19209], keepAlive: 0 },
                \(account2)
              ],
              ports: [{ id: 1, dialPlan: "\(plan1)"\(plan1 == "(2xx)" ? ", timing: { flashMs: [200, 650] }" : "") }, { id: 2 }],
              rtpPorts: [19300, 19399],
              stateDirectory: "\(dir.path)",
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }
        try writeConfig(port2: false, plan1: "(100[1-9])")
        // The socket's directory does not exist yet: the daemon makes it.
        let socket = dir.appendingPathComponent("run/t.sock").path
        let logFile = dir.appendingPathComponent("daemon.log").path
        let pid = try spawn(exe, ["run", "--board", repositoryRoot + "/boards/sim.json5", "--config", config, "--socket", socket, "--log-level", "debug"],
                            stdout: logFile, stderr: logFile)
        defer { kill(pid, SIGKILL); _ = reap(pid, within: 5) }
        func tipring(_ args: [String]) throws -> String { try runCommand(exe, args + ["--socket", socket]).out }
        func status() -> String { (try? tipring(["status", "--json"])) ?? "" }
        func port(_ n: Int, _ s: String) -> String {
            s.components(separatedBy: "{\"port\": \(n),").dropFirst().first?.components(separatedBy: "{\"port\": ").first ?? ""
        }
        func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        /// REGISTERs a port sent (its debug log of the wire).
        func registrations(_ port: Int) -> Int {
            log().components(separatedBy: "\n").filter { $0.contains("[port.id=\(port) sip.call_id=") && $0.contains("REGISTER sip:") && $0.contains("] → ") }.count
        }

        // Port 1 registered; port 2 without an account: powered down.
        #expect(waitForPeer(10) { port(1, status()).contains("\"state\": \"registered\"") }, "\(status())")
        #expect(port(2, status()).contains("\"feed\": \"power-down\""), "\(status())")
        #expect(registrations(1) == 2 && registrations(2) == 0, "\(log())")  // challenged, then granted

        // An account added for port 2: it registers, port 1 is left alone.
        let port1Registers = registrations(1)
        try writeConfig(port2: true, plan1: "(100[1-9])")
        kill(pid, SIGHUP)
        #expect(waitForPeer(10) { port(2, status()).contains("\"state\": \"registered\"") }, "\(status())\n\(log())")
        #expect(registrations(1) == port1Registers)

        // Port 1 off-hook, then its dial plan changed: nothing happens while the line is in use.
        _ = try tipring(["sim", "offhook", "--port", "1"])
        #expect(waitForPeer(5) { status().contains("\"line\": {\"state\": \"dial-tone\"}") })
        try writeConfig(port2: true, plan1: "(2xx)")
        kill(pid, SIGHUP)
        #expect(waitForPeer(5) { log().contains("they apply when it is idle") }, "\(log())")
        #expect(port(1, status()).contains("\"line\": {\"state\": \"dial-tone\"}"))
        #expect(!port(1, status()).contains("(adjusted)"), "\(status())")
        #expect(registrations(1) == port1Registers)
        // On-hook: applied (port 1 unregisters and registers again with its new settings).
        _ = try tipring(["sim", "onhook", "--port", "1"])
        #expect(waitForPeer(10) { log().contains("line idle: applying the new settings") }, "\(log())")
        #expect(waitForPeer(10) { registrations(1) >= port1Registers + 2 && port(1, status()).contains("\"state\": \"registered\"") }, "\(status())\n\(log())\n\((try? String(contentsOfFile: exchangeLog, encoding: .utf8)) ?? "")")
        // The port's hook timing changed with it.
        #expect(port(1, status()).contains("(adjusted)\""), "\(status())")
        #expect(!port(2, status()).contains("(adjusted)"), "\(status())")
        // The old subscription to message waiting ended cleanly (the exchange's dialog, no 481 —
        // as a status line: a port number may hold the digits).
        #expect(!log().contains(" 481 Call/Transaction Does Not Exist"), "\(log())")
        // The new plan holds: 1002 is no number of it (congestion), port 2 never rings.
        _ = try tipring(["sim", "offhook", "--port", "1"])
        #expect(waitForPeer(5) { port(1, status()).contains("\"line\": {\"state\": \"dial-tone\"}") })
        _ = try tipring(["sim", "dial", "--port", "1", "1002"])
        #expect(waitForPeer(5) { port(1, status()).contains("\"line\": {\"state\": \"disconnected\"") }, "\(status())")
        #expect(!port(2, status()).contains("ringing"))
        _ = try tipring(["sim", "onhook", "--port", "1"])

        // A broken file on SIGHUP: an error naming it, the running configuration stays.
        try "{ accounts: [ { port: 1 } ] }".write(toFile: config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(waitForPeer(5) { log().contains("the configuration was not reloaded (the running one stays)") }, "\(log())")
        #expect(waitForPeer(5) { status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(status())")
        #expect(!log().contains("secret1") && !log().contains("secret2"))

        kill(pid, SIGTERM)
        #expect(reap(pid, within: 6) == 0, "\(log())")

        // Call-IDs: new for a rebuilt port, and new on every start (a restarted daemon must not
        // reuse a Call-ID the registrar may still hold with a higher CSeq).
        func registerCallIDs(_ text: String) -> [String] {
            var seen: [String] = []
            for line in text.components(separatedBy: "\n") where line.contains("[port.id=1 sip.call_id=") && line.contains("REGISTER sip:") {
                let id = line.components(separatedBy: "sip.call_id=")[1].prefix { $0 != "]" }
                if !seen.contains(String(id)) { seen.append(String(id)) }
            }
            return seen
        }
        let firstRun = registerCallIDs(log())
        #expect(firstRun.count == 2, "\(firstRun)")  // before and after the rebuild
        try writeConfig(port2: true, plan1: "(2xx)")
        let again = try spawn(exe, ["run", "--board", repositoryRoot + "/boards/sim.json5", "--config", config, "--socket", socket, "--log-level", "debug"],
                              stdout: logFile + ".2", stderr: logFile + ".2")
        defer { kill(again, SIGKILL); _ = reap(again, within: 5) }
        #expect(waitForPeer(10) { status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(status())")
        let secondRun = registerCallIDs((try? String(contentsOfFile: logFile + ".2", encoding: .utf8)) ?? "")
        #expect(secondRun.count == 1 && !firstRun.contains(secondRun[0]), "\(firstRun) then \(secondRun)")
        kill(again, SIGTERM)
        #expect(reap(again, within: 6) == 0)
    }
}

@Suite("tipring sim exchange", .serialized)
struct SimExchangeTests {
    @Test("serves registration over UDP and TCP (tipring sip register against it)")
    func exchangeServes() throws {
        let port = Kamailio.freeUDPPort()
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("tipring").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-exchange-\(UUID().uuidString.prefix(8)).log").path
        let pid = try spawn(exe, ["sim", "exchange", "--listen", "127.0.0.1:\(port)"], stdout: log, stderr: log)
        defer {
            kill(pid, SIGTERM)
            var st: Int32 = 0
            waitpid(pid, &st, 0)
            try? FileManager.default.removeItem(atPath: log)
        }
        #expect(waitUntilUDPPortTaken(port))
        // The TCP listener comes up just after the UDP one.
        #expect(waitForPeer(5) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
        })
        let pw = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-pw-\(UUID().uuidString.prefix(8))").path
        try "secret1\n".write(toFile: pw, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: pw) }
        for transport in ["udp", "tcp"] {
            let r = try runCommand(exe, ["sip", "register", "--registrar", "127.0.0.1:\(port)", "--user", "1001", "--password-file", pw, "--transport", transport])
            #expect(r.status == 0, "\(transport): \(r.out)\(r.err)\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            #expect(r.out.contains("← 200 OK: granted"))
        }
        // Its trace is written a line at a time, even into a file (someone follows it).
        let trace = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(trace.components(separatedBy: "→ REGISTER").count >= 3, "\(trace)")
    }
}
