import Foundation  // tests only: files, processes
import Testing
import Logging
import TipRingDaemon
import PortControl
import TipRingCore
import LineHAL
import TelephonyDSP
import SIPCore
import SIPTransport
import SystemCalls
import TestSupport

@Suite("Status table")
struct StatusTableTests {
    @Test("registration times are shown relative to now; failures with their reason")
    func relative() throws {
        let json = """
        {"board": "sim", "uptimeSeconds": 5, "ports": [\
        {"port": 1, "enabled": true, "hook": "off-hook", "feed": "forward", "registration": {"state": "registered", "expiresInSeconds": 3592}, "line": {"state": "connected"}, "call": {"peer": "sip:1002@example.com", "direction": "outgoing", "media": {"codec": "PCMU", "seconds": 12, "packetsSent": 600, "packetsReceived": 598, "lost": 2, "jitterMs": 0.4}}, "messagesWaiting": false}, \
        {"port": 2, "enabled": true, "hook": "off-hook", "feed": "forward", "registration": {"state": "retrying", "retryInSeconds": 12, "reason": "503, Retry-After 12 s"}, "line": {"state": "no-service"}, "messagesWaiting": false}, \
        {"port": 3, "enabled": false, "hook": "on-hook", "feed": "power-down", "registration": {"state": "failed", "reason": "403 Forbidden (\\"blocked\\", {port: 1})"}, "line": {"state": "disabled"}, "messagesWaiting": false}]}
        """
        let table = StatusTable.render(try DaemonStatus(parsing: json))
        #expect(table.contains("registered, expires in 3592 s"), "\(table)")
        #expect(table.contains("to sip:1002@example.com, PCMU 12 s, lost 2, jitter 0.4 ms"), "\(table)")
        #expect(table.contains("retrying in 12 s (503, Retry-After 12 s)"), "\(table)")
        #expect(table.contains("failed: 403 Forbidden (\"blocked\", {port: 1})"), "\(table)")
        #expect(!table.contains("Seconds"), "\(table)")
    }

    @Test("drops from the network are summed up per port; control bytes of a caller's name never reach the terminal")
    func dropsAndControlBytes() throws {
        let json = """
        {"board": "sim", "uptimeSeconds": 5, "ports": [\
        {"port": 1, "enabled": true, "hook": "off-hook", "registration": {"state": "registered", "expiresInSeconds": 30}, "line": {"state": "ringing"}, "call": {"peer": "sip:evil\\u001B[2J@example.com", "direction": "incoming"}, "dropped": {"requests": 12, "responses": 3, "malformed": 0, "rtp": 1204}}, \
        {"port": 2, "enabled": true, "hook": "on-hook", "registration": {"state": "registered", "expiresInSeconds": 30}, "line": {"state": "idle"}, "dropped": {"requests": 0, "responses": 0, "malformed": 0, "rtp": 0}}]}
        """
        let table = StatusTable.render(try DaemonStatus(parsing: json))
        #expect(table.contains("port 1 dropped: 12 requests from strangers, 3 responses, 1,204 RTP"), "\(table)")
        #expect(!table.contains("port 2 dropped"), "\(table)")
        #expect(!table.unicodeScalars.contains { $0.value == 0x1B }, "\(table)")
        #expect(table.contains("evil\\u{1B}[2J"), "\(table)")
    }

    @Test("a status read back from the JSON the daemon writes is the same value; its JSON escapes control bytes")
    func roundTrip() throws {
        let json = """
        {"board": "b\\"1", "uptimeSeconds": 7, "ports": [{"port": 1, "enabled": true, "hook": "off-hook", "timing": "b222s", "feed": "reverse", \
        "account": "1001@example.com", "registration": {"state": "registered", "expiresInSeconds": 30}, "line": {"state": "connected", "other": "held"}, \
        "call": {"peer": "sip:1002@example.com", "peerName": "Bo\\u0007b", "direction": "incoming", "media": {"codec": "PCMA", "seconds": 3, "packetsSent": 150, \
        "packetsReceived": 149, "lost": 1, "jitterMs": 1.5}}, "messagesWaiting": true, "seizeToToneMs": 0.25, "lastError": "x", \
        "dropped": {"requests": 1, "responses": 2, "malformed": 3, "rtp": 4}}]}
        """
        let status = try DaemonStatus(parsing: json)
        #expect(status.ports.first?.call?.peerName == "Bo\u{07}b")
        #expect(status.ports.first?.line.state == "connected" && status.ports.first?.line.other == "held")
        let written = status.json.rendered
        #expect(written.contains("Bo\\u0007b"), "\(written)")
        #expect(!written.unicodeScalars.contains { $0.value < 0x20 }, "\(written)")
        #expect(try DaemonStatus(parsing: written) == status)
    }

    @Test("a status without a required field is refused, naming the field")
    func missingField() {
        #expect(throws: StatusFormatError.self) { try DaemonStatus(parsing: "{\"board\": \"sim\", \"uptimeSeconds\": 1, \"ports\": [{\"port\": 1}]}") }
        do {
            _ = try DaemonStatus(parsing: "{\"board\": \"sim\", \"uptimeSeconds\": 1, \"ports\": [{\"port\": 1, \"enabled\": true, \"hook\": \"on-hook\"}]}")
            Issue.record("accepted a port without registration")
        } catch {
            #expect("\(error)".contains("status.ports[0].registration"), "\(error)")
        }
    }
}

@Suite("Handing startup pages back")
struct MemoryTrimTests {
    @Test("only the executable's read-only mappings are chosen")
    func choosesReadOnlyMappingsOfTheExecutable() {
        let maps = """
        55d3579b6000-55d358e96000 r-xp 00000000 fe:00 5318088                    /usr/bin/tipring
        55d358e96000-55d358f26000 r--p 014df000 fe:00 5318088                    /usr/bin/tipring
        55d358f26000-55d3591bc000 rw-p 0156f000 fe:00 5318088                    /usr/bin/tipring
        55d3591bc000-55d3591d0000 rw-p 00000000 00:00 0                          [heap]
        7f194d81e000-7f194d844000 r-xp 00000000 fe:00 1234                       /usr/lib/x86_64-linux-gnu/libc.so.6
        7f194d900000-7f194d901000 r-xp 00000000 fe:00 777                        /opt/my tools/tipring
        """
        let chosen = MemoryTrim.ownReadOnlyMappings(maps: maps, executable: "/usr/bin/tipring")
        #expect(chosen.map(\.start) == [0x55d3579b6000, 0x55d358e96000])
        #expect(chosen.map(\.end) == [0x55d358e96000, 0x55d358f26000])
        // A path with a space is matched whole.
        #expect(MemoryTrim.ownReadOnlyMappings(maps: maps, executable: "/opt/my tools/tipring").count == 1)
    }

    @Test("the running executable's pages are handed back and it keeps running")
    func handsBackThisProcessesPages() {
        let r = MemoryTrim.releaseStartupPages()
        #expect(r.failures.isEmpty, "\(r.failures)")
        #expect(r.mappings >= 1 && r.bytes > 0)
        // Code runs on after its pages went back (they fault in again).
        #expect(MemoryTrim.ownReadOnlyMappings(maps: "", executable: "x").isEmpty)
    }
}

@Suite("Log lines, as each destination takes them")
struct LogLineTests {
    @Test("journald: the level as a prefix and nothing it adds itself; a file: name and pid; the system log: RFC 3164, daemon facility, no newline")
    func formats() {
        func line(_ level: Logging.Logger.Level, _ d: LogDestination) -> String {
            TipRingLogHandler.format(level, tags: "port.id=1", message: "registered", label: "tipring", destination: d, pid: 42)
        }
        #expect(line(.info, .journal) == "<6>[port.id=1] registered\n")
        #expect(line(.warning, .stream) == "<4>tipring[42]: [port.id=1] registered\n")
        #expect(line(.error, .syslog(path: "/dev/log")) == "<27>tipring[42]: [port.id=1] registered")
        #expect(line(.debug, .syslog(path: "/dev/log")).hasPrefix("<31>") && line(.critical, .syslog(path: "/dev/log")).hasPrefix("<26>"))
        #expect(line(.notice, .terminal).hasSuffix(" notice [port.id=1] registered\n"))
    }

    @Test("standard error is journald's only when JOURNAL_STREAM names this very stream")
    func journalDetection() {
        guard isatty(2) == 0, let identity = FileInfo.identity(ofDescriptor: 2) else { return }  // a terminal is a terminal
        #expect(LogDestination.forStandardError(environment: ["JOURNAL_STREAM": identity]) == .journal)
        #expect(LogDestination.forStandardError(environment: ["JOURNAL_STREAM": "1:2"]) == .stream)
        #expect(LogDestination.forStandardError(environment: [:]) == .stream)
    }
}

@Suite("Configuration file: every error names the file, the key and what to fix")
struct ConfigurationTests {
    func parse(_ text: String, env: [String: String] = [:]) throws -> Configuration {
        try Configuration.parse(text, file: "tipring.json5", environment: env)
    }

    func error(_ text: String, env: [String: String] = [:]) -> String {
        do {
            _ = try parse(text, env: env)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    let account = #"user: "1001", password: "pw", domain: "example.com""#

    @Test("a password never reaches an error, a description or a dump — not even an unquoted one in a syntax error")
    func passwordNeverPrinted() throws {
        let e = error("{ accounts: [{ port: 1, user: '1001', password: hunter2, domain: 'example.com' }] }")
        #expect(e.contains("strings need quotes") && e.contains("tipring.json5:1:"), "\(e)")
        #expect(!e.contains("hunter2"), "\(e)")
        let c = try parse("{ accounts: [{ port: 1, \(account.replacing("\"pw\"", with: "\"hunter2\"")) }] }")
        let a = try #require(c.accounts.first)
        var dumped = ""
        dump(c, to: &dumped)
        for text in ["\(c)", String(reflecting: c), "\(a)", String(reflecting: a), dumped] {
            #expect(!text.contains("hunter2"), "\(text)")
        }
        #expect(a.password.value == "hunter2")
    }

    @Test("minimumDigest: md5 by default, sha-256 refuses MD5, anything else is an error naming the choices")
    func minimumDigest() throws {
        #expect(try parse("{ accounts: [{ port: 1, \(account) }] }").accounts[0].minimumDigest == .md5)
        #expect(try parse("{ accounts: [{ port: 1, \(account), minimumDigest: 'sha-256' }] }").accounts[0].minimumDigest == .sha256)
        #expect(error("{ accounts: [{ port: 1, \(account), minimumDigest: 'sha1' }] }").contains("'sha1' is not one of: md5, sha-256, sha-512-256"))
    }

    @Test("a full file decodes; the password is never printed")
    func full() throws {
        let c = try parse("""
        {
          // two lines, one account each
          accounts: [
            { port: 1, user: "1001", authUser: "a1001", password: "s3cret-one", domain: "sip.example.com", registrar: "sip.example.com:5080",
              outboundProxy: "proxy.example.com", transport: "tcp", expires: 600, refreshMargin: 20, retryBase: 10, retryMax: 600,
              codecs: ["opus", "PCMA", "PCMU"], dtmf: "info", sendCallerId: false, displayName: "Kitchen", keepAlive: 0, sipPorts: [5070, 5071] },
            { port: 2, user: "1002", passwordEnv: "PW2", domain: "sip.example.com", enabled: false },
          ],
          ports: [{ id: 1, region: "de", dialPlan: "(0x.T|[1-9]x.T)", transmitGain: -3, receiveGain: 2.5, callWaiting: false, dnd: true,
                    hotLine: "112", warmLineSeconds: 5, messageWaiting: false, reversePolarityOnAnswer: true }],
          rtpPorts: [20000, 20099], stateDirectory: "/tmp", logLevel: "debug",
        }
        """, env: ["PW2": "s3cret-two"])
        #expect(c.accounts.count == 2)
        let a = try #require(c.account(port: 1))
        #expect(a.authUser == "a1001" && a.registrar == .init(host: "sip.example.com", port: 5080) && a.outboundProxy?.host == "proxy.example.com")
        #expect(a.codecs == [.opus, .pcma, .pcmu] && a.dtmf == .info && a.keepAliveSeconds == 0 && a.sipPorts == 5070...5071)
        #expect(c.account(port: 2)?.password.value == "s3cret-two" && c.account(port: 2)?.enabled == false)
        let p = c.port(1)
        #expect(p.region.code == "de" && p.withholdIdentity && p.doNotDisturb && p.hotLine == "112" && p.warmLineSeconds == 5 && p.receiveGain == 2.5)
        #expect(!"\(c)".contains("s3cret"))
        #expect("\(a.password)" == "(hidden)")
    }

    @Test("each kind of error", arguments: [
        ("{ acounts: [] }", "tipring.json5:1:3: acounts: unknown key 'acounts' (did you mean 'accounts'?)"),
        (#"{ accounts: [{ port: 1, user: "1001", domain: "x" }] }"#, "the account needs one of password, passwordFile or passwordEnv"),
        (#"{ accounts: [{ port: 1, user: "1001", domain: "x", password: "a", passwordEnv: "B" }] }"#, "give only one of password, passwordEnv"),
        (#"{ accounts: [{ port: 1, user: "1001", domain: "x", passwordEnv: "NOPE" }] }"#, "the environment variable NOPE is not set"),
        (#"{ accounts: [{ port: 1, user: "1001", domain: "x", passwordFile: "/nonexistent/pw" }] }"#, "cannot read the password file"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", registrar: "host:99999" }] }"#, "'host:99999' has no port 1–65535 after the host"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", registrar: "[2001:db8::1" }] }"#, "is not an IPv6 address in brackets"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", registrar: "[2001:db8::1]5060" }] }"#, "is not [address] or [address]:port"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", registrar: "2001:db8:1:2:3:4:5:6:5060" }] }"#, "write a port as [address]:port"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", registrar: "١٢.example" }] }"#, "is not a host name or address"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", retryBase: 60, retryMax: 30 }] }"#, "retryMax (30) is shorter than retryBase (60)"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", codecs: ["G729"] }] }"#, "G729"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", codecs: ["OPUS"] }] }"#, "(did you mean 'opus'?)"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", codecs: ["opus", "PCMU", "opus"] }] }"#, "'opus' is listed twice"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x" }, { port: 1, user: "1002", password: "p", domain: "x" }] }"#, "port 1 has two accounts"),
        (#"{ accounts: [], ports: [{ id: 1, dialPlan: "(1a)" }] }"#, "ports[0].dialPlan: 'a' is not allowed"),
        (#"{ accounts: [], ports: [{ id: 1, region: "zz" }] }"#, "no tone plan for region 'zz'"),
        (#"{ accounts: [], ports: [{ id: 1, warmLineSeconds: 4 }] }"#, "warmLineSeconds needs hotLine"),
        (#"{ accounts: [], rtpPorts: [30000, 20000] }"#, "the range [30000, 20000] runs backwards"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", trasport: "udp" }] }"#, "(did you mean 'transport'?)"),
        (#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", expires: 5 }] }"#, "accounts[0].expires"),
        (#"{ accounts: [], ports: [{ id: 1, featureCodes: { redail: "*33" } }] }"#, "unknown key 'redail' (did you mean 'redial'?)"),
        (#"{ accounts: [], ports: [{ id: 1, featureCodes: { "forward-always-on": "*72" } }] }"#, "ports[0].featureCodes.forward-always-on: feature code '*72' for forward-always-on needs one N (the number)"),
        (#"{ accounts: [], ports: [{ id: 1, forward: { always: "555 1234" } }] }"#, "ports[0].forward.always: '555 1234' is no number to dial"),
        (#"{ accounts: [], ports: [{ id: 1, forward: { noAnswerSeconds: 2 } }] }"#, "ports[0].forward.noAnswerSeconds"),
        (#"{ accounts: [], ports: [{ id: 1, forward: { busy: "sip:vm@" } }] }"#, "ports[0].forward.busy: 'sip:vm@' is not a SIP URI"),
        (#"{ accounts: [], ports: [{ id: 1, speedDial: { "1": "5551234" } }] }"#, "ports[0].speedDial.1: a speed-dial code is two digits, 00–99"),
    ])
    func errors(text: String, expected: String) {
        let e = error(text)
        #expect(e.contains(expected), "\(e)")
        #expect(e.hasPrefix("tipring.json5:"), "\(e)")
    }

    @Test("feature codes, forwards and speed dials: the region's codes with the port's changes; what the port starts with")
    func features() throws {
        let c = try parse(#"""
        { accounts: [], ports: [
          { id: 1, region: "de", featureCodes: { redial: "*33" }, forward: { noAnswer: "sip:voicemail@example.com", noAnswerSeconds: 15 },
            speedDial: { "07": "+4930123456" } },
          { id: 2 },
        ] }
        """#)
        let one = c.port(1), two = c.port(2)
        #expect(one.featureCodeTable.verdict("*33") == .complete(.redial, numberOpen: false))
        #expect(one.featureCodeTable.verdict("*21*0301234#") == .complete(.forward(.always, to: "0301234"), numberOpen: false))  // still Germany's
        #expect(one.features.forwards == [.noAnswer: "sip:voicemail@example.com"] && one.features.noAnswerSeconds == 15)
        #expect(one.features.speedDials == ["07": "+4930123456"])
        #expect(two.featureCodeTable.verdict("*72") == .incomplete && two.features == PortFeatures())  // the US codes by default
        // Left to the network: one feature, or all of them.
        let network = try parse(#"{ accounts: [], ports: [{ id: 1, featureCodes: { "withhold-once": "off" } }, { id: 2, featureCodes: false }] }"#)
        #expect(network.port(1).featureCodeTable.verdict("*675551234") == .notACode)
        #expect(network.port(1).featureCodeTable.verdict("*78") == .complete(.doNotDisturb(true), numberOpen: false))
        #expect(network.port(2).featureCodeTable.verdict("*78") == .notACode && network.port(2).featureCodeTable.codes.isEmpty)
    }

    @Test("session timer, 100rel, keep-alive method, DSCP and dialling timers: read, ranged, and defaulted as a good ATA ships them")
    func moreSettings() throws {
        let c = try parse(#"""
        { accounts: [{ port: 1, user: "1001", password: "p", domain: "x", sessionExpires: 600, minSessionExpires: 120, require100rel: true,
                       keepAliveMethod: "options", dscpSip: 26, dscpRtp: 34 }],
          ports: [{ id: 1, firstDigitSeconds: 15, interDigitSeconds: 3 }] }
        """#)
        let a = try #require(c.account(port: 1))
        #expect(a.sessionExpires == 600 && a.minSessionExpires == 120 && a.require100rel && a.keepAliveMethod == "options")
        #expect(a.dscpSIP == 26 && a.dscpRTP == 34)
        #expect(c.port(1).firstDigitSeconds == 15 && c.port(1).interDigitSeconds == 3)
        #expect(try parse(#"{ accounts: [], ports: [{ id: 1, callerId: "etsi-before-ring-dtas" }] }"#).port(1).callerID == .etsiFSKBeforeRing(.polarityReversalDTAS))
        #expect(try parse(#"{ accounts: [] }"#).port(1).callerID == nil)
        #expect(error(#"{ accounts: [], ports: [{ id: 1, callerId: "fsk" }] }"#).contains("ports[0].callerId"))
        let d = try #require(try parse(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x" }] }"#).account(port: 1))
        #expect(d.sessionExpires == 1800 && d.minSessionExpires == 90 && !d.require100rel && d.keepAliveMethod == "crlf" && d.dscpSIP == 24 && d.dscpRTP == 46)
        #expect(try parse(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", sessionExpires: 0 }] }"#).account(port: 1)?.sessionExpires == 0)
        #expect(error(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", sessionExpires: 60 }] }"#).contains("below RFC 4028's 90 s"))
        #expect(error(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", sessionExpires: 100, minSessionExpires: 200 }] }"#).contains("below minSessionExpires (200)"))
        #expect(error(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", keepAliveMethod: "ping" }] }"#).contains("keepAliveMethod"))
        #expect(error(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", dscpRtp: 64 }] }"#).contains("dscpRtp"))
        #expect(error(#"{ accounts: [], ports: [{ id: 1, interDigitSeconds: 0 }] }"#).contains("interDigitSeconds"))
    }

    @Test("a failover server, its fallback interval and register: no — read, ranged, defaulted (registering, no failover)")
    func failoverAndRegistration() throws {
        let a = try #require(try parse(#"""
        { accounts: [{ port: 1, user: "1001", password: "p", domain: "x", failoverServer: "[2001:db8::2]:5070", fallbackSeconds: 300, register: false }] }
        """#).account(port: 1))
        #expect(a.failoverServer == ServerName(host: "2001:db8::2", port: 5070) && a.fallbackSeconds == 300 && !a.register)
        let d = try #require(try parse(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x" }] }"#).account(port: 1))
        #expect(d.failoverServer == nil && d.fallbackSeconds == 60 && d.register)
        #expect(error(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", fallbackSeconds: 5 }] }"#).contains("accounts[0].fallbackSeconds"))
        #expect(error(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", register: "no" }] }"#).contains("accounts[0].register"))
        #expect(error(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", failoverServer: "" }] }"#).contains("accounts[0].failoverServer"))
    }

    @Test("TLS settings: a CA file that is there and is PEM; one that is not, a key without its certificate, TLS files or SRTP without transport tls — each an error naming the key")
    func tlsSettings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-tlsconf-\(UUID().uuidString.prefix(8)))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ca = dir.appendingPathComponent("ca.pem").path, key = dir.appendingPathComponent("ca.key").path, junk = dir.appendingPathComponent("junk.pem").path
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        made.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", ca, "-days", "1", "-subj", "/CN=test"]
        made.standardOutput = FileHandle.nullDevice
        made.standardError = FileHandle.nullDevice
        try made.run()
        made.waitUntilExit()
        try "not a certificate\n".write(toFile: junk, atomically: true, encoding: .utf8)
        let account = #"{ port: 1, user: "1001", password: "p", domain: "x", "#
        let a = try #require(try parse("{ accounts: [\(account) transport: \"tls\", tlsCaFile: \"\(ca)\", srtp: \"optional\" }] }").account(port: 1))
        #expect(a.transport == .tls && a.tls.caFile == ca && a.srtp == .optional)
        #expect(try parse("{ accounts: [\(account) transport: \"tls\", tlsCertificateFile: \"\(ca)\", tlsKeyFile: \"\(key)\" }] }").account(port: 1)?.tls.keyFile == key)
        #expect(error("{ accounts: [\(account) transport: \"tls\", tlsCaFile: \"\(dir.path)/none.pem\" }] }").contains("accounts[0].tlsCaFile: tlsCaFile \(dir.path)/none.pem: not a readable PEM certificate file"))
        #expect(error("{ accounts: [\(account) transport: \"tls\", tlsCaFile: \"\(junk)\" }] }").contains("not a readable PEM certificate file"))
        #expect(error("{ accounts: [\(account) transport: \"tls\", tlsKeyFile: \"\(key)\" }] }").contains("tlsCertificateFile and tlsKeyFile go together"))
        #expect(error("{ accounts: [\(account) transport: \"tls\", tlsCertificateFile: \"\(ca)\", tlsKeyFile: \"\(junk)\" }] }").contains("tlsKeyFile \(junk): not a readable private key in PEM or DER"))
        #expect(error("{ accounts: [\(account) tlsCaFile: \"\(ca)\" }] }").contains("TLS files are for transport: \"tls\""))
        #expect(error("{ accounts: [\(account) transport: \"tcp\", srtp: \"mandatory\" }] }").contains("accounts[0].srtp: srtp needs transport: \"tls\""))
        #expect(error("{ accounts: [\(account) transport: \"tls\", srtp: \"always\" }] }").contains("accounts[0].srtp"))
        #expect(!error("{ accounts: [\(account) transport: \"tls\", tlsKeyFile: \"\(key)\" }] }").contains("PRIVATE KEY"))
    }

    @Test("the status page listens on a loopback address with a port — anywhere else only with a password hash")
    func webListen() throws {
        #expect(try parse(#"{ accounts: [], web: { listen: "127.0.0.1:8080" } }"#).webListen == ServerName(host: "127.0.0.1", port: 8080))
        #expect(try parse(#"{ accounts: [], web: { listen: "[::1]:8080" } }"#).webListen == ServerName(host: "::1", port: 8080))
        #expect(try parse(#"{ accounts: [] }"#).webListen == nil)
        #expect(error(#"{ accounts: [], web: { listen: "0.0.0.0:8080" } }"#).contains("web.listen: a page on the network needs a password"))
        let hash = String(repeating: "ab", count: 32)
        let lan = try parse(#"{ accounts: [], web: { listen: "0.0.0.0:8080", user: "op", passwordHash: "\#(hash)" } }"#)
        #expect(lan.webListen?.host == "0.0.0.0" && lan.webCredentials == WebAccess.Credentials(user: "op", secretHash: hash))
        #expect(error(#"{ accounts: [], web: { listen: "0.0.0.0:8080", passwordHash: "secret" } }"#).contains("not a password hash (64 hex digits)"))
        #expect(error(#"{ accounts: [], web: { listen: "127.0.0.1:8080", user: "op" } }"#).contains("a user needs its passwordHash"))
        #expect(error(#"{ accounts: [], web: { listen: "127.0.0.1" } }"#).contains("the page needs a port"))
        #expect(error(#"{ accounts: [], web: { port: 80 } }"#).contains("unknown key 'port'"))
    }

    @Test("a registrar as host, host:port, or an IPv6 address bare or in brackets (with a port), in the one text form")
    func registrarForms() throws {
        func registrar(_ r: String) throws -> ServerName? {
            try parse(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x", registrar: "\#(r)" }] }"#).account(port: 1)?.registrar
        }
        #expect(try registrar("sip.example.com") == ServerName(host: "sip.example.com"))
        #expect(try registrar("sip:sip.example.com:5080") == ServerName(host: "sip.example.com", port: 5080))
        #expect(try registrar("192.0.2.1:5060") == ServerName(host: "192.0.2.1", port: 5060))
        #expect(try registrar("[2001:DB8::1]:5070") == ServerName(host: "2001:db8::1", port: 5070))
        #expect(try registrar("[2001:db8::1]") == ServerName(host: "2001:db8::1"))
        #expect(try registrar("2001:db8:0::1") == ServerName(host: "2001:db8::1"))
    }

    @Test("hook timing per port: a profile's name or changes to the board's, checked once the board is known")
    func timing() throws {
        let named = try parse(#"{ accounts: [], ports: [{ id: 1, timing: "gb" }] }"#)
        #expect(try named.port(1).timingProfile(board: .b222s).get() == .gb)
        let changed = try parse(#"{ accounts: [], ports: [{ id: 1, timing: { flashMs: [100, 900], hangUpMs: 1000 } }] }"#)
        let p = try changed.port(1).timingProfile(board: .b222s).get()
        #expect(p.flash == .milliseconds(100) ... .milliseconds(900) && p.hangUpMinimum == .milliseconds(1000))
        #expect(p.pulseBreak == HookTimingProfile.b222s.pulseBreak && p.name == "b222s (adjusted)")
        // A port without changes keeps the board's.
        #expect(try changed.port(2).timingProfile(board: .us).get() == .us)
        // Wrong keys and values: named where they are.
        #expect(error(#"{ accounts: [], ports: [{ id: 1, timing: { flash: [100, 900] } }] }"#).contains("ports[0].timing"))
        #expect(error(#"{ accounts: [], ports: [{ id: 1, timing: { flash: [100, 900] } }] }"#).contains("unknown key 'flash' (valid keys: base, debounceMs, seizeMs, pulseBreakMs, digitEndMs, flashMs, hangUpMs)"))
        #expect(error(#"{ accounts: [], ports: [{ id: 1, timing: "uk" }] }"#).contains("ports[0].timing"))
        #expect(error(#"{ accounts: [], ports: [{ id: 1, timing: { flashMs: [900, 100] } }] }"#).contains("minimum 900 ms is above maximum 100 ms"))
        // With a base named, an inconsistency is found at once.
        #expect(error(#"{ accounts: [], ports: [{ id: 1, timing: { base: "us", flashMs: [50, 900] } }] }"#).contains("overlaps the pulse window"))
        // Without one, when the board is known: the file, line and key path, and what to do.
        let late = try parse("{ accounts: [],\n  ports: [{ id: 1, timing: { flashMs: [80, 500] } }] }")
        do {
            try late.check(against: try Self.simBoard(timing: .b222s))
            Issue.record("no error")
        } catch {
            #expect("\(error)".hasPrefix("tipring.json5:2:"), "\(error)")
            #expect("\(error)".contains("ports[0].timing: inconsistent timing profile: flash window 80 ms–500 ms overlaps the pulse window 15 ms–90 ms"), "\(error)")
            #expect("\(error)".contains("the board's profile 'b222s'"), "\(error)")
        }
        try changed.check(against: try Self.simBoard(timing: .b222s))
    }

    /// The simulated board (ports 1 and 2), with another timing profile when asked.
    static func simBoard(timing: HookTimingProfile? = nil) throws -> BoardDescription {
        var b = try BoardFile.load(path: repositoryRoot + "/boards/sim.json5")
        if let timing { b.timingProfile = timing }
        return b
    }

    @Test("an account or a port section for a port the board lacks is an error naming the file, line and key — not ignored")
    func portsTheBoardLacks() throws {
        let board = try Self.simBoard()
        let account = try parse("{ accounts: [\n  { port: 3, user: \"1003\", password: \"p\", domain: \"x\" }] }")
        #expect(throws: DocumentError.self) { try account.check(against: board) }
        do { try account.check(against: board) } catch {
            #expect("\(error)".hasPrefix("tipring.json5:2:") && "\(error)".contains("accounts[0].port: the board 'sim' has no port 3 (its ports: 1, 2)"), "\(error)")
        }
        let section = try parse("{ accounts: [], ports: [{ id: 1 }, { id: 4 }] }")
        do { try section.check(against: board); Issue.record("no error") } catch {
            #expect("\(error)".contains("ports[1].id: the board 'sim' has no port 4"), "\(error)")
        }
        try parse(#"{ accounts: [{ port: 2, user: "1002", password: "p", domain: "x" }], ports: [{ id: 1 }] }"#).check(against: board)
    }

    @Test("a file whose lines merely moved configures the same accounts and ports (a reload changes nothing)")
    func movedLinesChangeNothing() throws {
        let a = try parse(#"{ accounts: [{ port: 1, user: "1001", password: "p", domain: "x" }], ports: [{ id: 1, timing: { flashMs: [80, 500] } }] }"#)
        let b = try parse("\n\n{\n accounts: [\n{ port: 1, user: \"1001\", password: \"p\", domain: \"x\" }],\n ports: [{ id: 1,\n timing: { flashMs: [80, 500] } }] }")
        #expect(a.account(port: 1) == b.account(port: 1) && a.port(1) == b.port(1))
    }

    @Test("log levels: one for all, or per module")
    func logLevels() throws {
        #expect(try parse(#"{ accounts: [], logLevel: "debug" }"#).logLevel == "debug")
        let c = try parse(#"{ accounts: [], logLevel: { default: "warning", sip: "debug" } }"#)
        #expect(c.logLevel == "warning" && c.moduleLogLevels == ["sip": "debug"])
        #expect(error(#"{ accounts: [], logLevel: { sipp: "debug" } }"#).contains("(did you mean 'sip'?)"))
        #expect(error(#"{ accounts: [], logLevel: "loud" }"#).contains("logLevel"))
    }

    @Test("a password file others can read: a warning naming the fix")
    func passwordFileMode() throws {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-pw-\(UUID().uuidString.prefix(8))").path
        try "s3cret\n".write(toFile: f, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: f) }
        chmod(f, 0o644)
        let open = try parse(#"{ accounts: [{ port: 1, user: "1001", domain: "x", passwordFile: "\#(f)" }] }"#)
        #expect(open.account(port: 1)?.password.value == "s3cret")
        #expect(open.warnings == ["\(f): the password file can be read by others (chmod 600 \(f))"])
        chmod(f, 0o600)
        #expect(try parse(#"{ accounts: [{ port: 1, user: "1001", domain: "x", passwordFile: "\#(f)" }] }"#).warnings.isEmpty)
    }
}

@Suite("The shipped example configurations")
struct ExampleConfigurationTests {
    @Test("examples/tipring.json5 and examples/sim-demo.json5 decode (the password file swapped for a test one)")
    func examples() throws {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-pw-\(UUID().uuidString.prefix(8))").path
        try "pw\n".write(toFile: f, atomically: true, encoding: .utf8)
        chmod(f, 0o600)
        defer { try? FileManager.default.removeItem(atPath: f) }
        let text = try String(contentsOfFile: repositoryRoot + "/examples/tipring.json5", encoding: .utf8)
            .replacingOccurrences(of: "/etc/tipring/1001.password", with: f)
        let c = try Configuration.parse(text, file: "examples/tipring.json5")
        #expect(c.accounts.count == 1 && c.account(port: 1)?.registrar.host == "sip.example.com")
        let demo = try Configuration.load(path: repositoryRoot + "/examples/sim-demo.json5")
        #expect(demo.accounts.map(\.user) == ["1001", "1002"])
    }
}
