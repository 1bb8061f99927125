import Testing
import TipRingCore
import SIPCore
import TestSupport
@testable import SIPTransport

@Suite("DNS answers age: the servers are looked up again")
struct ServerRefreshTests {
    func rig(_ resolver: ChangingResolver, name: ServerName = ServerName(host: "example.com")) -> (VirtualScheduler, ServerRefresh, Box) {
        let s = VirtualScheduler(seed: 1)
        let refresh = ServerRefresh(name: name, transport: .udp, resolver: resolver, scheduler: s, seed: 7, runLookup: { $0() })
        let box = Box()
        refresh.onTargets = { box.lists.append($0.map(\.description)) }
        refresh.onFailure = { box.failures.append("\($0)") }
        return (s, refresh, box)
    }

    final class Box: @unchecked Sendable {
        var lists: [[String]] = []
        var failures: [String] = []
    }

    @Test("kept for the SRV records' shortest TTL, within a minute and an hour; five minutes when DNS does not say")
    func lifetime() {
        func target(_ ttl: UInt32?) -> ServerTarget { ServerTarget(address: "192.0.2.1", port: 5060, name: "x", ttl: ttl) }
        #expect(ServerRefresh.lifetime(of: [target(600), target(120)]) == .seconds(120))
        #expect(ServerRefresh.lifetime(of: [target(5)]) == .seconds(60))
        #expect(ServerRefresh.lifetime(of: [target(86_400)]) == .seconds(3600))
        #expect(ServerRefresh.lifetime(of: [target(nil)]) == .seconds(300))
        #expect(ServerRefresh.lifetime(of: []) == .seconds(300))
    }

    @Test("a moved registrar is found when the TTL runs out; a failed look-up keeps the old list and tries again a minute later")
    func followsTheAnswer() {
        let dns = ChangingResolver()
        dns.srvs = ["_sip._udp.example.com": [SRVRecord(priority: 1, weight: 0, port: 5060, target: "sip.example.com", ttl: 120)]]
        dns.hosts = ["sip.example.com": ["192.0.2.1"]]
        let (s, refresh, box) = rig(dns)
        refresh.start(after: .seconds(120))
        s.run(until: .seconds(119))
        #expect(dns.lookups == 0)
        dns.hosts = ["sip.example.com": ["192.0.2.2"]]
        s.run(until: .seconds(120))
        #expect(box.lists == [["sip.example.com (192.0.2.2:5060)"]])
        // DNS gone at the next expiry: nothing replaced, a failure reported, a retry a minute on.
        dns.failing = true
        s.run(until: .seconds(240))
        #expect(box.failures.count == 1 && box.lists.count == 1)
        dns.failing = false
        s.run(until: .seconds(300))
        #expect(box.lists.count == 2 && box.failures.count == 1)
        #expect(dns.lookups == 3)
    }

    @Test("asked at once (every server failed): one look-up, the timer starts over from its answer; stopped, nothing more")
    func refreshNowAndStop() {
        let dns = ChangingResolver()
        dns.hosts = ["example.com": ["192.0.2.1"]]
        let (s, refresh, box) = rig(dns, name: ServerName(host: "example.com", port: 5070))
        refresh.start(after: .seconds(300))
        s.run(until: .seconds(100))
        refresh.refreshNow()
        s.run(until: .seconds(100))
        #expect(box.lists == [["example.com (192.0.2.1:5070)"]])
        s.run(until: .seconds(399))
        #expect(box.lists.count == 1)  // the next one is 300 s after the answer, not the start
        s.run(until: .seconds(400))
        #expect(box.lists.count == 2)
        refresh.stop()
        refresh.refreshNow()
        s.run(until: .seconds(10_000))
        #expect(box.lists.count == 2)
    }
}
