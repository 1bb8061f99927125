import Foundation  // tests only: files, processes
import NIOPosix
import SIPCore
import SIPTransport
import TelephonyDSP
import PortControl
import Testing
import SimulatorApp
import TipRingCore
import SystemCalls
import PortStack

/// tshark capturing loopback UDP into a file (Debian tshark, installed by `make test`).
final class Capture {
    let file: String
    let log: String
    var pid: pid_t = 0

    init(filter: String) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-cap-\(UUID().uuidString.prefix(8))").path
        file = base + ".pcap"
        log = base + ".log"
        pid = try spawn("/usr/bin/tshark", ["-i", "lo", "-f", filter, "-w", file], stdout: "/dev/null", stderr: log)
        let log = self.log
        if waitForPeer(15, { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Capturing on") }) { return }
        stop()
        throw ToolError(description: "tshark did not start capturing (make test installs tshark): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    func stop() {
        guard pid > 0 else { return }
        stopProcess(pid, with: SIGINT)  // tshark finishes its file on SIGINT
        pid = 0
    }

    /// Rows of fields for packets matching a display filter (RTP decoded on the given ports).
    func rows(_ displayFilter: String, fields: [String], rtpPorts: [Int] = [], sipPorts: [Int] = []) throws -> [[String]] {
        var args = ["-r", file, "-Y", displayFilter, "-T", "fields"]
        for p in rtpPorts { args += ["-d", "udp.port==\(p),rtp"] }
        for p in sipPorts { args += ["-d", "udp.port==\(p),sip"] }
        for f in fields { args += ["-e", f] }
        let r = try runCommand("/usr/bin/tshark", args)
        return r.out.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: file)
        try? FileManager.default.removeItem(atPath: log)
    }
}

@Suite("Two TipRing ports talk through Kamailio (wall clock, real UDP)", .serialized)
struct LiveMediaTests {
    @Test("tones both ways at the right frequency and level, DTMF as RFC 4733, hang-up ends both, no RTP after the BYE")
    func talkThroughKamailio() async throws {
        let k = try Kamailio()
        defer { k.stop() }
        // Only this test's traffic (other suites run at the same time).
        let capture = try Capture(filter: "udp and (portrange 27000-28199 or port \(k.port))")
        let live = try await LivePorts(kamailio: k, sipPorts: 27000...27999, rtpPorts: 28000...28199)
        let (scheduler, clock, system) = (live.scheduler, live.clock, live.system)
        defer { scheduler.shutdown() }
        func wait(_ seconds: Double, _ condition: @escaping () -> Bool) -> Bool { clock.wait(upTo: seconds, until: condition) }
        func line(_ p: Int) -> PortStateMachine.Line { system.port(p).controller.machine.line }
        clock.sync { system.powerOn() }
        #expect(wait(10) { system.ports.values.allSatisfy { $0.controller.machine.registration == .registered } })
        clock.sync { system.port(1).phone.liftHandset() }
        clock.advance(by: .milliseconds(800))
        _ = clock.sync { system.port(1).phone.press("1002") }
        #expect(wait(10) { if case .ringing = line(2) { true } else { false } }, "\(clock.sync { line(2) })")
        clock.sync { system.port(2).phone.liftHandset() }
        #expect(wait(10) { if case .connected = line(1), case .connected = line(2) { true } else { false } })
        clock.sync {
            system.port(1).phone.mouthpiece.play(try! Tone("1004", level: -10))
            system.port(2).phone.mouthpiece.play(try! Tone("1804", level: -16))
        }
        clock.advance(by: .seconds(1))
        let t0 = clock.sync { scheduler.now }
        clock.advance(by: .seconds(2))
        let (at2, at1) = clock.sync {
            (system.port(2).phone.earpiece.sine(from: t0, to: scheduler.now), system.port(1).phone.earpiece.sine(from: t0, to: scheduler.now))
        }
        print("through Kamailio: 1004 Hz at -10 dBm0 → \(at2.frequency) Hz at \(at2.level) dBm0; 1804 Hz at -16 dBm0 → \(at1.frequency) Hz at \(at1.level) dBm0")
        #expect(abs(at2.frequency - 1004) < 10.04 && abs(at2.level - -10) < 1)
        #expect(abs(at1.frequency - 1804) < 18.04 && abs(at1.level - -16) < 1)
        // A key mid-call: the tone stops for it (the phone's key replaces the mouthpiece's signal).
        clock.sync { system.port(1).phone.mouthpiece.generator = nil }
        clock.advance(by: .milliseconds(300))
        _ = clock.sync { system.port(1).phone.press("7") }
        #expect(wait(5) { system.port(2).digitsReceived == ["7"] }, "\(clock.sync { system.port(2).digitsReceived })")
        let stats = clock.sync { system.port(2).media.current }
        print("port 2 call statistics: \(String(describing: stats))")
        #expect((stats?.packetsReceived ?? 0) > 100)
        clock.sync { system.port(1).phone.hangUp() }
        #expect(wait(5) { line(1) == .idle && line(2) == .disconnected(.busy) })
        clock.sync { system.port(2).phone.hangUp() }
        #expect(wait(5) { line(2) == .idle })
        clock.advance(by: .seconds(1))
        capture.stop()
        clock.sync { system.powerOff() }
        _ = wait(3) { system.ports.values.allSatisfy { $0.agent.status == .unregistered } }
        await system.close()

        // The wire, as tshark saw it.
        let rtpPorts = Array(28000...28003) + Array(28100...28103)
        let rtp = try capture.rows("rtp", fields: ["frame.time_epoch", "udp.srcport", "rtp.p_type", "rtp.marker"], rtpPorts: rtpPorts)
        let byes = try capture.rows("sip.Method == \"BYE\"", fields: ["frame.time_epoch", "udp.srcport", "udp.dstport"], sipPorts: [k.port])
        #expect(rtp.count > 200, "\(rtp.count) RTP packets")
        #expect(rtp.contains { $0.count > 2 && $0[2] == "101" }, "RFC 4733 events on the wire")
        // TipRing → Kamailio → TipRing; a slow 200 (a loaded machine) may bring UDP
        // retransmissions of the same BYE (Timer E), so: the first BYE each way.
        let toProxy = byes.filter { $0.count > 2 && $0[2] == "\(k.port)" }, fromProxy = byes.filter { $0.count > 2 && $0[1] == "\(k.port)" }
        #expect(!toProxy.isEmpty && !fromProxy.isEmpty, "\(byes)")
        guard let byeSent = toProxy.first.flatMap({ Double($0[0]) }), let byeArrived = fromProxy.first.flatMap({ Double($0[0]) }) else { return }
        let port1RTP = rtp.filter { (28000...28099).contains(Int($0[1]) ?? 0) }.compactMap { Double($0[0]) }
        let port2RTP = rtp.filter { (28100...28199).contains(Int($0[1]) ?? 0) }.compactMap { Double($0[0]) }
        // A stream that went on would still be sending a second later (the capture runs on);
        // the bound leaves a loaded machine's scheduling room: at most one frame in flight
        // from the port that hung up, nothing 200 ms after the BYE from either.
        #expect(port1RTP.filter { $0 > byeSent }.count <= 1, "port 1 sent \(port1RTP.filter { $0 > byeSent }.count) RTP packets after its BYE")
        #expect(port1RTP.allSatisfy { $0 <= byeSent + 0.2 }, "port 1 sent RTP \((port1RTP.max() ?? 0) - byeSent) s after its BYE")
        #expect(port2RTP.allSatisfy { $0 <= byeArrived + 0.2 }, "port 2 sent RTP \((port2RTP.max() ?? 0) - byeArrived) s after the BYE reached it")
    }
}
