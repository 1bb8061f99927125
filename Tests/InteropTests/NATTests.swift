import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TestSupport
import TelephonyDSP

/// TipRing behind a real NAT (Linux network namespaces, nftables masquerade, UDP mappings that
/// expire after 30 s), Kamailio on the far side — what an LTE router's phone port lives with.
@Suite("Behind a real NAT: pinholes, an address change, a cut-off registrar", .serialized)
struct NATTests {
    @Test("keep-alives hold the pinhole (a call still rings after 2 minutes idle); a new LTE address is registered within 5 s and calls work; a registrar cut off for 90 s is registered with again without a restart")
    func behindNAT() throws {
        let lab = try NetworkLab()
        let k = try Kamailio(address: lab.serverAddress, namespace: lab.outside)
        defer { k.stop() }
        let d = try DaemonUnderTest(name: "nat")
        func writeConfig(expires: Int) throws {
            try """
            {
              accounts: [
                { port: 1, user: "1001", password: "secret1", domain: "\(lab.serverAddress)", registrar: "\(lab.serverAddress):\(k.port)", keepAlive: 20, expires: \(expires), retryBase: 1, retryMax: 8 },
                { port: 2, user: "1002", password: "secret2", domain: "\(lab.serverAddress)", registrar: "\(lab.serverAddress):\(k.port)", keepAlive: 20, expires: \(expires), retryBase: 1, retryMax: 8 },
              ],
              ports: [{ id: 1, dialPlan: "(100[1-9])" }, { id: 2, dialPlan: "(100[1-9])" }],
              stateDirectory: "\(d.dir.path)",
            }
            """.write(toFile: d.config, atomically: true, encoding: .utf8)
        }
        try writeConfig(expires: 3600)
        try d.start(inNamespace: lab.inside)
        func status() -> String { d.status() }
        func port(_ n: Int) -> String { d.port(n) }
        func sim(_ args: [String]) throws { try d.sim(args) }
        func log() -> String { d.log() }
        /// The CSeq of 1001's binding: it grows with every REGISTER the registrar accepts.
        func cseq() -> Int {
            let dump = (try? k.kamcmd(["ul.dump"]).out) ?? ""
            guard let section = dump.components(separatedBy: "AoR: 1001").dropFirst().first else { return -1 }
            return Int(section.components(separatedBy: "CSeq: ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? -1
        }
        /// Port 2 calls 1001; true when port 1 rings (then both hang up).
        func callRingsPort1() throws -> Bool {
            try sim(["offhook", "--port", "2"])
            _ = waitForPeer(5) { port(2).contains("\"line\": {\"state\": \"dial-tone\"}") }
            try sim(["dial", "--port", "2", "1001"])
            let rang = waitForPeer(10) { port(1).contains("\"line\": {\"state\": \"ringing\"}") }
            try sim(["onhook", "--port", "2"])
            _ = waitForPeer(10) { port(1).contains("\"line\": {\"state\": \"idle\"}") && port(2).contains("\"line\": {\"state\": \"idle\"}") }
            return rang
        }

        #expect(waitForPeer(15) { status().components(separatedBy: "\"registration\": {\"state\": \"registered\"").count == 3 }, "\(status())\n\(log())")
        // The registrar sees us at the router's outside address (received/rport), and so does our Contact.
        let contacts = try k.contacts(of: "1001")
        #expect(contacts.count == 1 && contacts[0].contains("@\(lab.routerOutside):"), "\(contacts)")

        // Two minutes with nothing but keep-alives (every 20 s; the NAT forgets after 30 s).
        let idleFrom = Date()
        #expect(waitForPeer(120, every: 5) { false } == false)
        #expect(try callRingsPort1(), "no ring after \(Int(Date().timeIntervalSince(idleFrom))) s idle\n\(log())")

        // The LTE address changes: the old address is gone, a new one in its place.
        let before = cseq()
        let changedAt = Date()
        try lab.changeInsideAddress()
        #expect(waitForPeer(10, every: 0.1) { cseq() > before }, "not registered again: \((try? k.contacts(of: "1001")) ?? [])\n\(log())")
        let reRegistered = Date().timeIntervalSince(changedAt)
        print("NAT: address change → registered again in \(Int(reRegistered * 1000)) ms")
        #expect(reRegistered < 5)
        #expect(try callRingsPort1(), "\(log())")

        // A registrar cut off for 90 s, with bindings that need refreshing meanwhile (60 s).
        try writeConfig(expires: 60)
        kill(d.daemon, SIGHUP)
        #expect(waitForPeer(15) { status().components(separatedBy: "\"registration\": {\"state\": \"registered\"").count == 3 && log().contains("re-registering with them") },
                "\(status())")
        _ = waitForPeer(10) { status().components(separatedBy: "\"registration\": {\"state\": \"registered\"").count == 3 }
        // Every registration change is logged: the retries' short waits (50–100 % of 1 s, 2 s …)
        // are easy to miss in the status, not in the log.
        func retries() -> Int { log().components(separatedBy: "registration: retrying in ").count - 1 }
        let retriesBefore = retries()
        try lab.cutOutside(true)
        #expect(waitForPeer(90, every: 1) { retries() > retriesBefore }, "\(port(1))")
        let cutFor = 90.0
        _ = waitForPeer(cutFor, every: 5) { false }
        try lab.cutOutside(false)
        let restoredAt = Date()
        #expect(waitForPeer(60, every: 0.5) { status().components(separatedBy: "\"registration\": {\"state\": \"registered\"").count == 3 }, "\(status())\n\(log())")
        print("NAT: registrar back → both ports registered again in \(Int(Date().timeIntervalSince(restoredAt) * 1000)) ms")
        #expect(try callRingsPort1(), "\(log())")
        #expect(d.terminate(within: 8) == 0, "\(log())")
    }
}

@Suite("A lossy, jittery path (5 % of UDP lost, 0–60 ms delay)", .serialized)
struct ImpairedPathTests {
    @Test("a call to baresip across it completes: registered, answered, audio both ways for 10 s, hung up cleanly — with the jitter buffer's figures printed")
    func callOverABadPath() throws {
        let link = try ImpairedLink(loss: 0.05, jitterMilliseconds: 60)
        let k = try Kamailio(address: link.farAddress, namespace: link.far)
        defer { k.stop() }
        let tone = (0..<8000 * 30).map { Int16(8000 * sin(2 * Double.pi * 1004 * Double($0) / 8000)) }
        let far = try Baresip(registrarPort: k.port, source: tone, rtpPorts: "30000-30100", host: link.farAddress, namespace: link.far)
        defer { far.stop() }
        #expect(waitForPeer(20) { (try? k.contacts(of: "1002").count) == 1 }, "\(far.log)")
        let d = try DaemonUnderTest(name: "lossy")
        try """
        {
          accounts: [{ port: 1, user: "1001", password: "secret1", domain: "\(link.farAddress)", registrar: "\(link.farAddress):\(k.port)", keepAlive: 0 }],
          ports: [{ id: 1, dialPlan: "(100[1-9])" }],
          stateDirectory: "\(d.dir.path)",
        }
        """.write(toFile: d.config, atomically: true, encoding: .utf8)
        try d.start(inNamespace: link.near)
        func status() -> String { d.status() }
        func port1() -> String { d.port(1) }
        func sim(_ args: [String]) throws -> String { try d.sim(args) }
        func log() -> String { d.log() }

        #expect(waitForPeer(30) { port1().contains("\"registration\": {\"state\": \"registered\"") }, "\(status())\n\(log())")
        _ = try sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { port1().contains("\"line\": {\"state\": \"dial-tone\"}") })
        _ = try sim(["dial", "--port", "1", "1002"])
        #expect(waitForPeer(30) { port1().contains("\"line\": {\"state\": \"connected\"") }, "\(port1())\n\(log())\n\(far.log)")
        _ = try sim(["say", "--port", "1", "--tone", "697"])
        // Ten seconds of a call over the bad path; the line still hears the far end's tone.
        _ = waitForPeer(10, every: 1) { false }
        let heard = try sim(["listen", "--port", "1", "--seconds", "2"])
        let talking = port1()
        #expect(talking.contains("\"line\": {\"state\": \"connected\""), "\(talking)")
        #expect(heard.contains("audio 1004 Hz"), "\(heard)")
        let received = Int(talking.components(separatedBy: "\"packetsReceived\": ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? 0
        let lost = Int(talking.components(separatedBy: "\"lost\": ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? -1
        func field(_ name: String) -> String { String(talking.components(separatedBy: "\"\(name)\": ").dropFirst().first?.prefix { $0.isNumber || $0 == "." } ?? "") }
        print("lossy path (5 %, 0–60 ms): received \(received) packets, lost \(lost) (\(received > 0 ? lost * 1000 / (received + lost) : 0)‰), "
              + "interarrival jitter \(field("jitterMs")) ms, jitter buffer: \(field("concealedFrames")) frames concealed, \(field("latePackets")) packets late")
        // About 12 s of 20 ms packets, a few percent of them lost: the impairment is real and the call survived it.
        #expect(received > 400 && lost > 0 && lost * 100 < (received + lost) * 15, "\(talking)")
        _ = try sim(["onhook", "--port", "1"])
        #expect(waitForPeer(10) { port1().contains("\"line\": {\"state\": \"idle\"}") }, "\(port1())")
        // The other way: baresip heard our 697 Hz (its recording is written when the call ends).
        _ = waitForPeer(5, every: 0.1) { (far.received()?.count ?? 0) >= 8000 }
        let samples = try #require(far.received(), "no recording: \(far.log)")
        let middle = Array(samples[(samples.count / 2 - 4000)..<(samples.count / 2 + 4000)])
        let theirs = Level.sine(middle)
        print("lossy path: baresip heard \(theirs.frequency) Hz at \(theirs.level) dBm0")
        #expect(abs(theirs.frequency - 697) < 7 && theirs.level > -20, "\(theirs)")
        #expect(d.terminate(within: 8) == 0, "\(log())")
    }
}
