import Foundation  // tests only: Process to run the built binary
import Testing
import TestSupport

/// Runs the built `tipring` binary (it sits next to the test bundle).
func runTipRing(_ arguments: [String], cwd: String? = nil) throws -> (status: Int32, out: String, err: String) {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let binary = exe.appendingPathComponent("tipring")
    let p = Process()
    p.executableURL = binary
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // A command that hangs is ended (and fails its test) rather than holding the run up to
    // CI's limit; every command tested here finishes in seconds (the longest waits 32 s).
    let watchdog = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
    defer { watchdog.cancel() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite struct BoardCheckCLITests {
    @Test func validBoardPrintsATableAndExitsZero() throws {
        let r = try runTipRing(["board", "check", "boards/sim.json5"], cwd: repositoryRoot)
        #expect(r.status == 0)
        #expect(r.out.contains("board sim"))
        #expect(r.out.contains("2     forwardReverse  sim0  6     low"))
        #expect(r.err.isEmpty)
    }

    @Test func unverifiedBoardWarns() throws {
        let r = try runTipRing(["board", "check", "boards/b222s.json5"], cwd: repositoryRoot)
        #expect(r.status == 0)
        #expect(r.err.contains("verified is false"))
    }

    @Test func invalidBoardExitsTwoNamingTheProblem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.json5")
        try "{ name: 'x', driver: 'ag1171', verified: true, prots: [] }".write(to: file, atomically: true, encoding: .utf8)
        let r = try runTipRing(["board", "check", file.path])
        #expect(r.status == 2)
        #expect(r.err.contains("bad.json5:1:48: prots: unknown key 'prots' (did you mean 'ports'?)"))
    }

    @Test func missingFileExitsTwo() throws {
        let r = try runTipRing(["board", "check", "/nonexistent/board.json5"])
        #expect(r.status == 2)
        #expect(r.err.contains("/nonexistent/board.json5"))
    }

    @Test func usageErrorsExit64() throws {
        #expect(try runTipRing(["board", "check"]).status == 64)
        #expect(try runTipRing(["no-such-verb"]).status == 64)
    }

    @Test func simScriptRunsTheExampleAndRejectsBadScripts() throws {
        let r = try runTipRing(["sim", "script", "examples/line-demo.sim"], cwd: repositoryRoot)
        #expect(r.status == 0)
        #expect(r.out.contains("port 1  pulse digit 4"))
        #expect(r.out.contains("port 2  ring-trip: ringing stopped"))
        let missing = try runTipRing(["sim", "script", "/nonexistent.sim"], cwd: repositoryRoot)
        #expect(missing.status == 2)
        #expect(missing.err.contains("open(/nonexistent.sim)"))
    }

    @Test func dspWritesAndDetectsDTMFAndTones() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-dsp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dtmf = dir.appendingPathComponent("d.wav").path
        let gen = try runTipRing(["dsp", "dtmf", "159D*#0", "--out", dtmf, "--on-ms", "60", "--off-ms", "60", "--level-dbm0", "-12"])
        #expect(gen.status == 0)
        let det = try runTipRing(["dsp", "detect", dtmf])
        #expect(det.status == 0)
        #expect(det.out == "159D*#0\n")
        let tone = dir.appendingPathComponent("t.wav").path
        let t = try runTipRing(["dsp", "tone", "de", "busy", "--seconds", "2", "--out", tone])
        #expect(t.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: tone)).count == 44 + 2 * 16000)
        #expect(try runTipRing(["dsp", "detect", tone]).out == "\n")
        // Bad input: exit 2 with what was found.
        try "not a wav".write(toFile: dir.appendingPathComponent("x.wav").path, atomically: true, encoding: .utf8)
        let bad = try runTipRing(["dsp", "detect", dir.appendingPathComponent("x.wav").path])
        #expect(bad.status == 2)
        #expect(bad.err.contains("not a WAV file"))
        var wav16k = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tone)))
        wav16k[24] = 0x80; wav16k[25] = 0x3E  // 16000 Hz
        try Data(wav16k).write(to: dir.appendingPathComponent("r.wav"))
        let rate = try runTipRing(["dsp", "detect", dir.appendingPathComponent("r.wav").path])
        #expect(rate.status == 2)
        #expect(rate.err.contains("sample rate 16000 Hz; need 8000 Hz"))
        #expect(try runTipRing(["dsp", "tone", "xx", "dial", "--out", tone]).status == 2)
        #expect(try runTipRing(["dsp", "tone", "us", "music", "--out", tone]).status == 2)
        #expect(try runTipRing(["dsp", "dtmf", "12x", "--out", dtmf]).status == 2)
        #expect(try runTipRing(["dsp", "detect"]).status == 64)
    }

    @Test(arguments: ["bell202", "etsi", "dtmf"])
    func dspCallerIDRoundTrip(standard: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-cid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let wav = dir.appendingPathComponent("cid.wav").path
        var args = ["dsp", "callerid", "--standard", standard, "--number", "5551234567", "--out", wav]
        if standard != "dtmf" { args += ["--name", "ALICE SMITH", "--datetime", "11251930"] }
        #expect(try runTipRing(args).status == 0)
        let r = try runTipRing(["dsp", "decode-callerid", "--standard", standard, wav])
        #expect(r.status == 0)
        #expect(r.out == (standard == "dtmf" ? "number=5551234567\n" : "number=5551234567\nname=ALICE SMITH\ndatetime=11251930\n"))
        // Another standard finds nothing: exit 1.
        let other = standard == "dtmf" ? "bell202" : "dtmf"  // (FSK receivers of either kind read both FSK kinds, as phones do)
        #expect(try runTipRing(["dsp", "decode-callerid", "--standard", other, wav]).status == 1)
        #expect(try runTipRing(["dsp", "callerid", "--standard", standard, "--number", "555", "--datetime", "13011200", "--out", wav]).status == 2)
        #expect(try runTipRing(["dsp", "callerid", "--standard", "teletext", "--number", "555", "--out", wav]).status == 64)
    }

    @Test func sipLintPrintsStructureOrTheError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-lint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.sip").path
        try "REGISTER sip:registrar.example.com SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK77\r\nFrom: <sip:1001@example.com>;tag=a\r\nTo: <sip:1001@example.com>\r\nCall-ID: r1\r\nCSeq: 2 REGISTER\r\nAuthorization: Digest username=\"1001\", realm=\"x\", nonce=\"n\", uri=\"sip:x\", response=\"0123456789abcdef\"\r\nContent-Length: 0\r\n\r\n".write(toFile: good, atomically: true, encoding: .utf8)
        let r = try runTipRing(["sip", "lint", good])
        #expect(r.status == 0)
        #expect(r.out.contains("request  REGISTER sip:registrar.example.com"))
        #expect(r.out.contains("  transport=UDP host=[2001:db8::9] port=5060 branch=z9hG4bK77"))
        #expect(r.out.contains("  sequence=2 method=REGISTER"))
        #expect(!r.out.contains("0123456789abcdef"))
        let bad = dir.appendingPathComponent("bad.sip").path
        try "REGISTER sip:2001:db8::10 SIP/2.0\r\n\r\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let b = try runTipRing(["sip", "lint", bad])
        #expect(b.status == 1)
        #expect(b.err.contains("must be enclosed in brackets"))
        #expect(try runTipRing(["sip", "lint", dir.appendingPathComponent("missing.sip").path]).status == 2)
    }

    /// The lengths (ms) of the "bell rang N ms at F Hz" lines in `out`.
    static func bellBursts(_ out: String, hz: Int) -> [Double] {
        out.split(separator: "\n").compactMap { line -> Double? in
            guard let r = line.range(of: "bell rang "), line.hasSuffix(" ms at \(hz) Hz") else { return nil }
            return Double(line[r.upperBound...].split(separator: " ").first ?? "")
        }
    }

    @Test func demoCallsBetweenTheSimulatedPhones() throws {
        let r = try runTipRing(["demo", "--virtual"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        for step in ["✓ both ports registered", "✓ port 1 hears dial tone", "✓ port 2 rings", "✓ port 1 hears ringback",
                     "caller-ID display: 1001 \"Alice\"", "✓ the call is answered on both ports",
                     "✓ port 2 hears busy after port 1 hangs up", "✓ both ports idle, no call left", "demo: every step happened"] {
            #expect(r.out.contains(step), "missing: \(step)")
        }
        #expect(r.out.contains("port 1 → exchange: INVITE sip:1002@tipring.sim"))
        // The US 2 s burst, within GR-506's ±10 % (shortened for the Ag1171's RM duty).
        #expect(Self.bellBursts(r.out, hz: 20).contains { (1800...2000).contains($0) }, "\(r.out)")
        #expect(!r.out.contains("✗"))
    }

    @Test("config check: every error at once, each with file:line:column and key, exit 2; a valid file exit 0; --board adds what only the board can tell")
    func configCheck() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-check-\(UUID().uuidString.prefix(8)).json5").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try """
        {
          acounts: [],
          accounts: [
            { port: 1, user: "1001", password: "p", domain: "x", registrar: "host:99999", expires: 5 },
            { port: 3, user: "1003", password: "p", domain: "x", trasport: "udp" },
          ],
          ports: [{ id: 1, region: "zz" }],
        }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let bad = try runTipRing(["config", "check", file, "--board", "boards/sim.json5"], cwd: repositoryRoot)
        #expect(bad.status == 2, "\(bad)")
        for e in ["\(file):2:3: acounts: unknown key 'acounts' (did you mean 'accounts'?)",
                  "\(file):4:69: accounts[0].registrar: 'host:99999' has no port",
                  "\(file):4:92: accounts[0].expires: 5 is out of range",
                  "\(file):5:58: accounts[1].trasport: unknown key 'trasport' (did you mean 'transport'?)",
                  "\(file):7:28: ports[0].region: no tone plan for region 'zz'",
                  "\(file):5:13: accounts[1].port: the board 'sim' has no port 3", "\(file): 6 errors"] {
            #expect(bad.err.contains(e), "missing: \(e)\n\(bad.err)")
        }
        // Without the board, the board's part is not judged.
        #expect(try runTipRing(["config", "check", file]).err.contains("\(file): 5 errors"))
        let good = try runTipRing(["config", "check", "examples/sim-demo.json5", "--board", "boards/sim.json5"], cwd: repositoryRoot)
        #expect(good.status == 0 && good.out.contains("valid — 2 accounts (ports 1, 2), checked against boards/sim.json5"), "\(good)")
        #expect(try runTipRing(["config", "check", "/nonexistent.json5"]).status == 2)
    }

    @Test("--version: the version and the build's revision (a development build says so)")
    func version() throws {
        let r = try runTipRing(["--version"])
        #expect(r.status == 0 && r.out == "tipring 0.1.0 (development build)\n", "\(r)")
    }

    @Test func pendingVerbsSaySoAndExitOne() throws {
        // Every verb is implemented now: usage errors exit 64, bad values 2.
        #expect(try runTipRing(["run"]).status == 64)
        #expect(try runTipRing(["sim", "exchange", "--listen", "nonsense"]).status == 2)
        // A log level that is none: refused before anything starts, naming the levels.
        let loud = try runTipRing(["run", "--board", "boards/sim.json5", "--config", "examples/sim-demo.json5", "--socket", "/nonexistent/t.sock",
                                   "--log-level", "loud"], cwd: repositoryRoot)
        #expect(loud.status == 2 && loud.err.contains("--log-level loud: not a level (trace, debug, info, notice, warning, error, critical)"), "\(loud)")
    }

    @Test func bringupChecksRunOnTheSimulatedBoard() throws {
        func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
            try runTipRing(["bringup"] + args + (args == ["discover"] ? [] : ["--board", "boards/sim.json5"]), cwd: repositoryRoot)
        }
        let discover = try run(["discover"])
        #expect(discover.status == 0)
        for heading in ["kernel: Linux", "cpu: ", "libgpiod: v1 ", "gpio chips (", "sysfs gpio: ", "alsa cards: ", "alsa pcms: ", "spi devices: "] {
            #expect(discover.out.contains(heading), "\(heading)")
        }
        let probe = try run(["probe"])
        #expect(probe.status == 0)
        #expect(probe.out.contains("1     hookSense       sim0 line 0  ok"))
        #expect(probe.out.contains("PASS  probe of board sim"))
        let ring = try run(["ring", "--port", "1", "--region", "gb", "--seconds", "3"])
        #expect(ring.status == 0 && ring.out.contains("PASS  the bell rang with the cadence"), "\(ring.out)")
        // The UK's 0.4 s bursts, with the Ag1171's stop (F/R high, RM low 20 ms later).
        #expect(Self.bellBursts(ring.out, hz: 25).contains { (400...450).contains($0) }, "\(ring.out)")
        let hook = try run(["hook", "--port", "2"])
        #expect(hook.status == 0)
        for e in ["off-hook", "pulse digit 3", "pulse digit 5", "flash", "on-hook", "break durations (ms): 60×8 400×1", "PASS  off-hook and on-hook seen"] {
            #expect(hook.out.contains(e), "\(e)")
        }
        let tone = try run(["tone", "--port", "1", "busy", "--region", "gb"])
        #expect(tone.status == 0 && tone.out.contains("the earpiece heard: busy tone"))
        let dtmf = try run(["dtmf", "--port", "1"])
        #expect(dtmf.status == 0 && dtmf.out.contains("PASS  digits received: 159#"))
        let loop = try run(["loopback", "--port", "2"])
        #expect(loop.status == 0 && loop.out.contains("round trip ") && loop.out.contains("PASS  loopback latency measured"))
        let line = try run(["linetest", "--port", "2", "--region", "de"])
        #expect(line.status == 0)
        for step in ["PASS  off-hook answered the ring", "PASS  dial tone heard", "PASS  digits received: 123", "PASS  line test of port 2"] {
            #expect(line.out.contains(step), "\(step)")
        }
    }

    @Test func bringupOnHardwareThatIsNotThereFailsAndSaysWhy() throws {
        let probe = try runTipRing(["bringup", "probe", "--board", "boards/b222s.json5"], cwd: repositoryRoot)
        #expect(probe.status == 1)
        #expect(probe.out.contains("cannot open GPIO chip 'gpiochip0': No such file or directory (available: none)"))
        #expect(probe.out.contains("cannot open ALSA playback device 'plughw:CARD=0,DEV=0'"))
        #expect(probe.out.contains("FAIL  probe of board b222s"))
        #expect(!probe.err.contains("ALSA lib"))
        let ring = try runTipRing(["bringup", "ring", "--board", "boards/rpi-ag1171.json5", "--port", "1"], cwd: repositoryRoot)
        #expect(ring.status == 1 && ring.err.contains("cannot open GPIO chip"))
        #expect(try runTipRing(["bringup", "tone", "--port", "1", "beep", "--board", "boards/sim.json5"], cwd: repositoryRoot).status == 2)
        #expect(try runTipRing(["bringup", "ring", "--port", "1", "--region", "zz", "--board", "boards/sim.json5"], cwd: repositoryRoot).status == 2)
        // No board named: a usage error naming --board — never a PASS from the simulated board.
        let unnamed = try runTipRing(["bringup", "probe"], cwd: repositoryRoot)
        #expect(unnamed.status == 64 && unnamed.err.contains("--board") && !unnamed.out.contains("PASS"), "\(unnamed)")
        let noPort = try runTipRing(["bringup", "dtmf", "--port", "9", "--board", "boards/sim.json5"], cwd: repositoryRoot)
        #expect(noPort.status == 1 && noPort.err.contains("board sim has no port 9"))
        #expect(try runTipRing(["bringup", "probe", "--board", "/nonexistent.json5"], cwd: repositoryRoot).status == 2)
    }
}
