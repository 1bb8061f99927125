import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import SystemCalls
import TestSupport

/// The daemon when its registrar's name does not resolve (the router booted before its modem
/// attached) or DNS never answers. The daemon runs in a mount namespace of its own, where the
/// test's files stand in for /etc/hosts, /etc/nsswitch.conf and /etc/resolv.conf — the
/// system's real resolver (getaddrinfo) under the test's control.
@Suite("tipring run: an account that cannot attach yet is tried again", .serialized)
struct DaemonAttachTests {
    @Test("a registrar name unknown at start, or after a reload, is tried again with back-off until it resolves (/etc/hosts); the other port is never held up")
    func unknownNameIsRetried() throws {
        let rig = try SimDaemonRig(name: "attach")
        try rig.writeConfig(registrar1: "registrar.tipring.test:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)")
        try rig.start(nsswitch: "hosts: files\n")
        #expect(waitForPeer(10) { rig.port(2).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")
        // Port 1 says why and when: the name, and a retry within retryMax (2 s).
        #expect(waitForPeer(10) { rig.port(1).contains("\"state\": \"retrying\"") }, "\(rig.status())")
        let retrying = rig.port(1)
        #expect(retrying.contains("\"reason\": \"DNS: no such name registrar.tipring.test\""), "\(retrying)")
        let wait = Int(retrying.components(separatedBy: "\"retryInSeconds\": ").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? -1
        #expect((0...2).contains(wait), "\(retrying)")
        #expect(waitForPeer(10) { rig.table().contains("retrying in ") }, "\(rig.table())")  // between attempts (0.5–2 s each)
        // Still the operator's port: enabled, its account named (not "dead, no account").
        #expect(retrying.contains("\"enabled\": true") && retrying.contains("\"account\": \"1001@127.0.0.1\""), "\(retrying)")
        // Meanwhile the line is fed: a lifted handset hears the no-service tone, not silence.
        try rig.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { rig.port(1).contains("\"line\": {\"state\": \"no-service\"}") }, "\(rig.port(1))")
        let heard = try rig.sim(["listen", "--port", "1", "--seconds", "1"])
        #expect(heard.hasPrefix("tone ") && !heard.contains("tone dial"), "\(heard)")  // the region's no-service tone (SIT in the US plan)
        // It keeps trying (more than one attempt logged), and stops the moment the name exists —
        // taking over the line once the handset is down, never under someone's ear.
        #expect(waitForPeer(10) { rig.log().components(separatedBy: "cannot reach registrar.tipring.test").count >= 3 }, "\(rig.log())")
        try rig.addHost("registrar.tipring.test")
        #expect(waitForPeer(10) { rig.port(1).contains("waiting for the handset to be put down") }, "\(rig.port(1))")
        #expect(rig.port(1).contains("\"line\": {\"state\": \"no-service\"}"))
        try rig.sim(["onhook", "--port", "1"])
        #expect(waitForPeer(10) { rig.port(1).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")
        try rig.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { rig.port(1).contains("\"line\": {\"state\": \"dial-tone\"}") }, "\(rig.port(1))")
        try rig.sim(["onhook", "--port", "1"])
        #expect(rig.log().contains("registrar.tipring.test:\(rig.exchangePort) reached after "), "\(rig.log())")
        #expect(!rig.port(1).contains("\"lastError\": \""), "\(rig.port(1))")

        // A reload that moves port 2 to a name not known yet: retried the same way; port 1 untouched.
        try rig.writeConfig(registrar1: "registrar.tipring.test:\(rig.exchangePort)", registrar2: "moved.tipring.test:\(rig.exchangePort)")
        kill(rig.daemon, SIGHUP)
        #expect(waitForPeer(10) { rig.port(2).contains("\"reason\": \"DNS: no such name moved.tipring.test\"") }, "\(rig.status())\n\(rig.log())")
        #expect(rig.port(1).contains("\"registration\": {\"state\": \"registered\""))
        try rig.addHost("moved.tipring.test")
        #expect(waitForPeer(10) { rig.port(2).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")

        #expect(rig.terminate(within: 6) == 0, "\(rig.log())")
        #expect(!rig.log().contains("secret1") && !rig.log().contains("secret2"))
    }

    @Test("a DNS server that never answers holds up neither the other port, the status, nor SIGTERM")
    func silentDNSBlocksNothing() throws {
        // The name server: a socket that takes queries and never answers.
        let silent = try DatagramSocket(binding: #require(IPEndpoint(host: "127.77.0.1", port: 53)))
        defer { silent.close() }
        let rig = try SimDaemonRig(name: "silentdns")
        try rig.writeConfig(registrar1: "silent.tipring.test:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)")
        try rig.start(nsswitch: "hosts: files dns\n", resolvConf: "nameserver 127.77.0.1\noptions timeout:5 attempts:3\n")
        #expect(silent.waitReadable(timeout: .seconds(10)), "the daemon never asked the name server")
        #expect(waitForPeer(10) { rig.port(2).contains("\"registration\": {\"state\": \"registered\"") }, "\(rig.status())\n\(rig.log())")
        // Still waiting for DNS (15 s of timeouts), and saying so.
        #expect(rig.port(1).contains("\"state\": \"registering\", \"reason\": \"looking up the registrar\""), "\(rig.port(1))")
        let stopAt = Instant.monotonicNow()
        #expect(rig.terminate(within: 6) == 0, "\(rig.log())")
        #expect(Instant.monotonicNow() - stopAt < .seconds(5))
    }
}
