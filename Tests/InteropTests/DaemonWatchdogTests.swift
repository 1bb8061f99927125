import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TestSupport

@Suite("tipring run under a service manager: READY, WATCHDOG, STOPPING", .serialized)
struct DaemonWatchdogTests {
    @Test("READY=1 once up; WATCHDOG=1 twice per interval while every audio thread runs; none once one stalls (its port named); STOPPING=1 on SIGTERM")
    func watchdog() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-watchdog-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let notify = try UnixDatagramListener(path: dir.appendingPathComponent("notify.sock").path)
        let config = dir.appendingPathComponent("tipring.json5").path
        try """
        {
          accounts: [{ port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(Kamailio.freeUDPPort())", sipPorts: [19600, 19609], keepAlive: 0 }],
          rtpPorts: [19700, 19799],
          stateDirectory: "\(dir.path)",
        }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("tipring").path
        let socket = dir.appendingPathComponent("t.sock").path
        let logFile = dir.appendingPathComponent("daemon.log").path
        // env execs the daemon: the pid is the daemon's, as WATCHDOG_PID says.
        let pid = try spawn("/usr/bin/env", ["NOTIFY_SOCKET=\(notify.path)", "WATCHDOG_USEC=400000", exe, "run", "--board", repositoryRoot + "/boards/sim.json5",
                                             "--config", config, "--socket", socket], stdout: logFile, stderr: logFile)
        defer { stopProcess(pid, with: SIGKILL) }
        func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

        let start = notify.collect(for: 10) { $0.contains("READY=1") }
        #expect(start.last?.contains("READY=1") == true && start.last?.contains("STATUS=2 port(s) on board") == true, "\(start)\n\(log())")
        // 200 ms apart: about 10 in 2 s.
        let pets = notify.collect(for: 2).filter { $0 == "WATCHDOG=1" }.count
        #expect((6...14).contains(pets), "\(pets) pets in 2 s")

        // Port 2's handset lifted (an idle port's audio is stopped on purpose, and the watchdog
        // leaves it be), then its audio thread hangs without an error: no more pets.
        let lifted = try runCommand(exe, ["sim", "offhook", "--port", "2", "--socket", socket])
        #expect(lifted.status == 0, "\(lifted)")
        _ = notify.collect(for: 0.5)
        let r = try runCommand(exe, ["sim", "fault", "--port", "2", "audio-stall", "--socket", socket])
        #expect(r.status == 0, "\(r)")
        _ = notify.collect(for: 0.5)  // one check may have been under way
        #expect(notify.collect(for: 1.5).filter { $0 == "WATCHDOG=1" }.isEmpty)
        #expect(log().contains("the audio of port(s) 2 made no progress"), "\(log())")

        kill(pid, SIGTERM)
        let stopping = notify.collect(for: 6) { $0.contains("STOPPING=1") }
        #expect(stopping.last?.contains("STOPPING=1") == true, "\(stopping)")
        #expect(reap(pid, within: 6) == 0, "\(log())")
    }
}
