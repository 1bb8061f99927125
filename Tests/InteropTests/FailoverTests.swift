import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TestSupport

/// A failover server and an account that does not register, against two Kamailios: the first
/// one down at start, then back.
@Suite("tipring run: a failover server, register: false (Kamailio)", .serialized)
struct FailoverTests {
    /// Two Kamailios; the first stopped at once (its port and folder kept for its return).
    func servers() throws -> (first: Kamailio, failover: Kamailio) {
        let first = try Kamailio(), failover = try Kamailio()
        first.halt()
        return (first, failover)
    }

    @Test("over UDP and TCP: the first registrar down, the failover Kamailio takes the registration; a register: false port calls through it; the first back, the account returns within fallbackSeconds",
          arguments: ["udp", "tcp"])
    func failover(transport: String) throws {
        let (first, failover) = try servers()
        defer { first.stop(); failover.stop() }
        let d = try DaemonUnderTest(name: "failover-\(transport)")
        let base = transport == "udp" ? 19620 : 19640
        try """
        {
          accounts: [
            { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(first.port)", transport: "\(transport)",
              failoverServer: "127.0.0.1:\(failover.port)", fallbackSeconds: 10, sipPorts: [\(base), \(base + 9)], keepAlive: 0 },
            { port: 2, user: "1002", password: "secret2", domain: "127.0.0.1", registrar: "127.0.0.1:\(failover.port)", register: false,
              sipPorts: [\(base + 10), \(base + 19)], keepAlive: 0 },
          ],
          ports: [{ id: 1, dialPlan: "(100[1-9]|x.T)" }, { id: 2, dialPlan: "(100[1-9]|x.T)" }],
          rtpPorts: [\(base + 100), \(base + 119)],
          stateDirectory: "\(d.dir.path)",
        }
        """.write(toFile: d.config, atomically: true, encoding: .utf8)
        try d.start(inNamespace: nil)
        // UDP waits out Timer F (32 s) on the silent first server; TCP is refused at once.
        #expect(waitForPeer(45) { d.port(1).contains("\"state\": \"registered\"") }, "\(d.status())\n\(d.log().suffix(3000))")
        #expect(try failover.contacts(of: "1001").count == 1)
        #expect(d.port(2).contains("\"registration\": {\"state\": \"in-service\""), "\(d.port(2))")
        #expect(d.table().contains("in service, not registering (register: no)"), "\(d.table())")
        #expect(try failover.contacts(of: "1002").isEmpty, "port 2 registered")

        // The port that does not register calls the one on the failover server through it.
        try d.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(5) { d.port(2).contains("\"state\": \"dial-tone\"") }, "\(d.port(2))")
        try d.sim(["dial", "--port", "2", "1001"])
        #expect(waitForPeer(10) { d.port(1).contains("\"state\": \"ringing\"") }, "\(d.status())\n\(d.log().suffix(3000))")
        try d.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(10) { d.status().components(separatedBy: "\"line\": {\"state\": \"connected\"").count == 3 }, "\(d.status())")
        try d.sim(["say", "--port", "2", "--tone", "1004"])
        #expect(try d.sim(["listen", "--port", "1", "--seconds", "1"]).contains("audio 1004 Hz"))
        try d.sim(["onhook", "--port", "2"])
        try d.sim(["onhook", "--port", "1"])
        #expect(waitForPeer(10) { d.status().components(separatedBy: "\"line\": {\"state\": \"idle\"}").count == 3 })

        // The first server back: within the fallback interval the account registers there.
        try first.start()
        #expect(waitForPeer(40) { (try? first.contacts(of: "1001").count) == 1 }, "\(d.status())\n\(d.log().suffix(3000))")
        #expect(waitForPeer(10) { d.port(1).contains("\"state\": \"registered\"") }, "\(d.port(1))")
        #expect(d.log().contains(transport == "udp" ? "answers again; registering there" : "takes connections again; registering there"), "\(d.log().suffix(3000))")
        #expect(d.terminate(within: 8) == 0)
        #expect(try first.contacts(of: "1001").isEmpty, "the binding left behind on SIGTERM")
    }
}
