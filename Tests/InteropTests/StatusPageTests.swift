import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TestSupport

/// The daemon's status page as a person sees it: headless Chromium (Debian's `chromium`,
/// installed by `make test`) loads it from the running daemon.
@Suite("The status page in a browser", .serialized)
struct StatusPageTests {
    /// Chromium headless, with a profile of its own; what it printed.
    func chromium(_ arguments: [String], profile: String) throws -> String {
        let r = try runCommand("/usr/bin/timeout", ["60", "/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                                    "--user-data-dir=\(profile)"] + arguments)
        guard r.status == 0 else { throw ToolError(description: "chromium \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.err.suffix(600))") }
        return r.out
    }

    @Test("headless Chromium: both simulated ports registered, then the call placed (seen live on a page left open) with tipring sim; a screenshot; the password (Digest, SHA-256, stored hashed) refused when wrong, five wrong ones make the address wait; GET only; a reload moves the page")
    func inChromium() throws {
        let rig = try SimDaemonRig(name: "web")
        let webPort = Kamailio.freeUDPPort()
        // The password as an operator sets it: hashed by the CLI, only the hash configured.
        let hashed = try runCommand("/bin/sh", ["-c", "echo 'cOrrect horse' | \(rig.exe) config hash-password --user admin"])
        let hash = try #require(hashed.out.components(separatedBy: "passwordHash: \"").dropFirst().first?.prefix(64), "\(hashed)")
        try rig.writeConfig(registrar1: "127.0.0.1:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)",
                            extra: "web: { listen: \"127.0.0.1:\(webPort)\", user: \"admin\", passwordHash: \"\(hash)\" },")
        try rig.start()
        let configured = try String(contentsOfFile: rig.config, encoding: .utf8)
        #expect(!rig.log().contains("cOrrect horse") && !configured.contains("cOrrect horse"))
        let url = "http://admin:cOrrect%20horse@127.0.0.1:\(webPort)/", bare = "http://127.0.0.1:\(webPort)/"
        let profile = rig.dir.appendingPathComponent("chromium").path
        #expect(waitForPeer(15) { rig.status().components(separatedBy: "\"state\": \"registered\"").count == 3 }, "\(rig.status())\n\(rig.log())")
        let idle = try chromium(["--dump-dom", url], profile: profile)
        for port in [1, 2] {
            #expect(idle.contains("<tr id=\"port-\(port)\"><td>\(port)</td><td>100\(port)@127.0.0.1</td><td class=\"ok\">registered, expires in "), "\(idle)")
        }
        #expect(idle.contains("<title>TipRing — sim</title>") && idle.contains("no calls yet"), "\(idle)")

        // The page left open: a call placed with the simulated phones shows on it, both
        // ends, by its own updates — the same page (a mark set on it survives), no reload.
        let open = try BrowserDriver(profile: profile + "-live")
        defer { open.close() }
        #expect(open.open(url) == "ok")
        #expect(open.evaluate("window.stayed = 'here'") == "\"here\"")
        #expect(open.evaluate("document.getElementById('port-1').textContent.includes('registered')") == "true")
        _ = try rig.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { rig.port(1).contains("\"state\": \"dial-tone\"") })
        _ = try rig.sim(["dial", "--port", "1", "1002"])
        #expect(waitForPeer(10) { rig.port(2).contains("\"state\": \"ringing\"") }, "\(rig.status())")
        _ = try rig.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(10) { rig.status().components(separatedBy: "\"line\": {\"state\": \"connected\"").count == 3 })
        for (port, call) in [(1, "to sip:1002@127.0.0.1, PCMU"), (2, "from sip:1001@127.0.0.1, PCMU")] {
            #expect(open.until(10, "document.getElementById('port-\(port)').textContent.includes('\(call)')") == "ok",
                    "\(open.evaluate("document.getElementById('live').textContent"))")
        }
        #expect(open.evaluate("[window.stayed, Number(document.body.dataset.updates) > 0, document.getElementById('freshness').className]")
                == "[\"here\", true, \"ok\"]", "\(open.evaluate("document.getElementById('freshness').textContent"))")
        let talking = try chromium(["--dump-dom", url], profile: profile)
        #expect(talking.contains("<td>connected</td><td>to sip:1002@127.0.0.1, PCMU"), "\(talking)")
        #expect(talking.contains("<td>connected</td><td>from sip:1001@127.0.0.1, PCMU"), "\(talking)")
        let output = repositoryRoot + "/.build/test-output"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let shot = output + "/status-page.png"
        try? FileManager.default.removeItem(atPath: shot)
        _ = try chromium(["--screenshot=\(shot)", "--window-size=1200,700", url], profile: profile)
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(png.count) bytes")
        print("status page screenshot (a call in progress): \(shot) (\(png.count) bytes)")

        // After the call, the history on the page; the JSON beside it; nothing but GET.
        _ = try rig.sim(["onhook", "--port", "1"])
        _ = try rig.sim(["onhook", "--port", "2"])
        #expect(open.until(10, "document.getElementById('calls').textContent.includes('hung up here')") == "ok")
        #expect(open.evaluate("window.stayed") == "\"here\"")
        #expect((try chromium(["--dump-dom", url], profile: profile)).contains("hung up here"))
        // The metrics, read by the Prometheus project's own parser (Debian's
        // python3-prometheus-client): every sample parses; the call and the seizure are counted.
        let metrics = try runCommand("/usr/bin/curl", ["-s", "--digest", "-u", "admin:cOrrect horse", bare + "metrics"]).out
        let file = rig.dir.appendingPathComponent("metrics.txt").path
        try metrics.write(toFile: file, atomically: true, encoding: .utf8)
        let parsed = try runCommand("/usr/bin/python3", ["-c", """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    print(s.name + "{" + ",".join(k + "=" + v for k, v in sorted(s.labels.items())) + "} " + repr(s.value))
            """, file])
        #expect(parsed.status == 0, "\(parsed.err)\n\(metrics)")
        for sample in ["tipring_calls_total{direction=outgoing,port=1,result=answered} 1.0", "tipring_calls_total{direction=incoming,port=2,result=answered} 1.0",
                       "tipring_port_registered{port=1} 1.0", "tipring_seize_to_tone_seconds_count{port=1} 1.0", "tipring_rtp_loss_ratio_count{port=2} 1.0",
                       "tipring_dropped_packets_total{kind=malformed,port=1} 0.0"] {
            #expect(parsed.out.contains(sample), "missing \(sample):\n\(parsed.out)")
        }
        #expect(parsed.out.contains("tipring_registrations_total{port=1} "), "\(parsed.out)")
        // The SIP trace: the call's INVITE and the REGISTERs, credentials masked.
        let trace = try runCommand("/usr/bin/curl", ["-s", "--digest", "-u", "admin:cOrrect horse", bare + "trace"]).out
        #expect(trace.contains("INVITE sip:1002@127.0.0.1") && trace.contains("response and cnonce masked"), "\(trace.prefix(2000))")
        #expect(!trace.contains("response=&quot;") && !trace.contains("cnonce=&quot;"), "\(trace.prefix(2000))")
        let json = try runCommand("/usr/bin/curl", ["-s", "--digest", "-u", "admin:cOrrect horse", bare + "status.json"]).out
        #expect(json.hasPrefix("{\"board\": \"sim\""), "\(json)")
        let post = try runCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u", "admin:cOrrect horse", "-X", "POST", bare]).out
        #expect(post == "405")

        // Without the password: a Digest challenge (SHA-256), no page. A wrong one: refused in
        // Chromium too; five wrong ones in a minute and the address waits (429, Retry-After).
        let challenge = try runCommand("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", bare]).out
        #expect(challenge.hasPrefix("HTTP/1.1 401") && challenge.contains("WWW-Authenticate: Digest realm=\"TipRing\", qop=\"auth\", algorithm=SHA-256"), "\(challenge)")
        let refused = try chromium(["--dump-dom", "http://admin:wrong@127.0.0.1:\(webPort)/"], profile: profile + "-wrong")
        #expect(!refused.contains("port-1") && !refused.contains("<title>TipRing"), "\(refused)")
        var codes: [String] = []
        for _ in 0..<6 { codes.append(try runCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u", "admin:wrong", bare]).out) }
        #expect(codes.suffix(2) == ["401", "429"] || codes.last == "429", "\(codes)")
        let waiting = try runCommand("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", "--digest", "-u", "admin:cOrrect horse", bare]).out
        #expect(waiting.hasPrefix("HTTP/1.1 429") && waiting.contains("Retry-After: "), "\(waiting)")
        // SIGHUP with another address for the page: it moves there (the old one closes), and
        // the page left open says since when the daemon has not answered it.
        let movedPort = Kamailio.freeUDPPort()
        try rig.writeConfig(registrar1: "127.0.0.1:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)",
                            extra: "web: { listen: \"127.0.0.1:\(movedPort)\", user: \"admin\", passwordHash: \"\(hash)\" },")
        kill(rig.daemon, SIGHUP)
        // (This address is still waiting out its wrong passwords: 429 is the page answering.)
        let moved = "http://127.0.0.1:\(movedPort)/"
        #expect(waitForPeer(10) { (try? runCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", moved]).out) == "429" },
                "\(rig.log().suffix(2000))")
        #expect(try runCommand("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", bare]).out == "000", "the old address still answers")
        #expect(open.until(10, "document.getElementById('freshness').textContent.startsWith('the daemon has not answered since')") == "ok",
                "\(open.evaluate("document.getElementById('freshness').textContent"))")
        #expect(rig.terminate(within: 6) == 0)
    }
}
