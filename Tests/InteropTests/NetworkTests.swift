import Foundation  // tests only: files, processes
import NIOCore
import NIOPosix
import SIPCore
import SIPAgent
import SIPTransport
import Testing
import TipRingCore
import SystemCalls

/// Registration statuses as they happen on the wall clock, with a bounded wait.
final class StatusLog: @unchecked Sendable {
    let lock = ConditionLock()
    var statuses: [RegistrationStatus] = []

    func append(_ s: RegistrationStatus) { lock.withLock { statuses.append(s); lock.broadcast() } }

    /// Waits (up to `seconds`) until `predicate` holds for the statuses so far.
    func wait(seconds: Double, _ predicate: ([RegistrationStatus]) -> Bool) -> Bool {
        let deadline = Instant.monotonicNow() + .milliseconds(Int64(seconds * 1000))
        return lock.withLock {
            while !predicate(statuses) && Instant.monotonicNow() < deadline { lock.wait(until: deadline) }
            return predicate(statuses)
        }
    }

    var all: [RegistrationStatus] { lock.withLock { statuses } }
}

func isRegistered(_ s: RegistrationStatus) -> Bool { if case .registered = s { true } else { false } }
func isRetrying(_ s: RegistrationStatus) -> Bool { if case .retrying = s { true } else { false } }

/// A dnsmasq on 127.0.0.1 serving fixed SRV and A records (Debian dnsmasq-base, installed by
/// `make test`); fails the test when it cannot start.
final class DNSServer {
    let port: Int
    var pid: pid_t = 0

    init(arguments: [String]) throws {
        port = Kamailio.freeUDPPort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-dnsmasq-\(UUID().uuidString.prefix(8)).log").path
        pid = try spawn("/usr/sbin/dnsmasq", ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                                               "--port=\(port)", "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
                                               "--log-facility=-", "--local=/tipring.test/"] + arguments, stdout: log, stderr: log)
        let resolver = SystemResolver(nameserver: "127.0.0.1", port: port, timeoutSeconds: 1, attempts: 1)
        if waitForPeer(10, { (try? resolver.addresses("ready.tipring.test")) != nil }) { return }
        stop()
        throw ToolError(description: "dnsmasq did not start (make test installs dnsmasq-base): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    func stop() {
        guard pid > 0 else { return }
        stopProcess(pid)
        pid = 0
    }

    deinit { stop() }
}

func accountSettings(domain: String, expires: Int = 3600) -> AccountSettings {
    var r = RegistrationSettings(registrar: "sip:\(domain)", addressOfRecord: "sip:1001@\(domain)", contact: "sip:1001@0.0.0.0",
                                 instanceID: "urn:uuid:00000000-0000-4000-8000-000000000101", authUser: "1001", password: "secret1")
    r.expires = expires
    r.retryBase = .seconds(1)
    r.retryMax = .seconds(2)
    r.refreshMargin = .seconds(3)
    var a = AccountSettings(registration: r, contactUser: "1001")
    a.timers = TransactionTimers(t1: .milliseconds(50))
    a.keepAlive = .off
    return a
}

@Suite("Transport on real sockets: port range, DSCP, instance id", .serialized)
struct SocketTests {
    @Test("a port range hands out its ports in turn and says when it is full; DSCP CS3 is set on the socket")
    func portRangeAndDSCP() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        let base = Kamailio.freeUDPPort()
        let range = base...(base + 1)
        let a = try await UDPTransport.bind(host: "127.0.0.1", ports: range, dscp: 24, group: group, scheduler: scheduler) { _, _ in }
        let b = try await UDPTransport.bind(host: "127.0.0.1", ports: range, dscp: nil, group: group, scheduler: scheduler) { _, _ in }
        #expect(a.localAddress?.port == base)
        #expect(b.localAddress?.port == base + 1)
        #expect(try await a.dscp() == 24)
        #expect(try await b.dscp() == 0)
        do {
            _ = try await UDPTransport.bind(host: "127.0.0.1", ports: range, dscp: 24, group: group, scheduler: scheduler) { _, _ in }
            Issue.record("a third socket in a two-port range")
        } catch {
            #expect("\(error)".contains("no free UDP port in \(base)–\(base + 1) on 127.0.0.1"))
        }
        await a.close()
        await b.close()
    }

    @Test("a 10 kB INVITE over UDP arrives whole (RFC 3261 §18.3), a malformed one goes to onMalformed with its source, no 400 by itself")
    func largeDatagramsAndMalformed() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        final class Seen: @unchecked Sendable {
            let lock = ConditionLock()
            var messages: [SIPMessage] = []
            var malformed: [(String, Int?)] = []
        }
        let seen = Seen()
        let port = Kamailio.freeUDPPort()
        let receiver = try await UDPTransport.bind(host: "127.0.0.1", port: port, group: group, scheduler: scheduler,
                                                   onMalformed: { _, error, from in
                                                       seen.lock.withLock { seen.malformed.append(("\(error)", from.port)); seen.lock.broadcast() }
                                                   }) { m, _ in
            seen.lock.withLock { seen.messages.append(m); seen.lock.broadcast() }
        }
        let sender = try await UDPTransport.bind(host: "127.0.0.1", port: 0, group: group, scheduler: scheduler) { _, _ in }
        let body = String(repeating: "a=x-padding:0123456789abcdef0123456789abcdef0123456789abcdef\r\n", count: 160)
        var invite = SIPMessage(startLine: .request(method: .invite, uri: "sip:1001@127.0.0.1"))
        for (n, v) in [("Via", "SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbig"), ("Max-Forwards", "70"), ("From", "<sip:a@127.0.0.1>;tag=1"),
                       ("To", "<sip:1001@127.0.0.1>"), ("Call-ID", "big"), ("CSeq", "1 INVITE"), ("Content-Type", "application/sdp")] {
            invite.add(n, v)
        }
        invite.body = Array(body.utf8)
        #expect(invite.serialized().count > 10_000)
        let to = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        sender.send(invite, to: to)
        sender.send(bytes: Array("INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKm\r\n\r\n".utf8), to: to)
        let deadline = Instant.monotonicNow() + .seconds(10)
        let arrived = seen.lock.withLock { () -> Bool in
            while (seen.messages.isEmpty || seen.malformed.isEmpty) && Instant.monotonicNow() < deadline { seen.lock.wait(until: deadline) }
            return !seen.messages.isEmpty && !seen.malformed.isEmpty
        }
        #expect(arrived)
        seen.lock.withLock {
            #expect(seen.messages.first?.body.count == body.utf8.count)
            #expect(seen.malformed.first?.1 == sender.localAddress?.port)
        }
        #expect(receiver.malformed == 1)
        await sender.close()
        await receiver.close()
    }

    @Test("DNS answers: SRV and A records read from the bytes; truncated or hostile answers refused, never read past")
    func dnsAnswerParsing() throws {
        func name(_ n: String) -> [UInt8] { n.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0] }
        func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
        let question = name("_sip._udp.example.com") + be16(33) + be16(1)
        let rdata = be16(10) + be16(60) + be16(5060) + name("sip1.example.com")
        let answer = [0xC0, 0x0C] + be16(33) + be16(1) + [0, 0, 1, 44] + be16(rdata.count) + rdata
        let header = be16(0x1234) + be16(0x8180) + be16(1) + be16(1) + be16(0) + be16(0)
        let srv = header + question + answer
        let records = try SystemResolver.srvRecords(inAnswer: srv, name: "_sip._udp.example.com")
        #expect(records == [SRVRecord(priority: 10, weight: 60, port: 5060, target: "sip1.example.com", ttl: 300)])  // TTL 0x012C
        // Every truncation of the answer is refused or yields nothing; none reads past the end.
        for cut in 0..<srv.count {
            let r = try? SystemResolver.srvRecords(inAnswer: Array(srv.prefix(cut)), name: "x")
            #expect(r == nil || r!.isEmpty || cut == srv.count, "cut at \(cut)")
        }
        // A compression pointer that points at itself.
        var loop = srv
        loop[header.count + question.count + 12 + 6] = 0xC0
        loop[header.count + question.count + 12 + 7] = UInt8(header.count + question.count + 12 + 6)
        #expect(throws: DNSLookupError.self) { try SystemResolver.srvRecords(inAnswer: loop, name: "x") }
        let a = header + name("sip1.example.com") + be16(1) + be16(1) + [0xC0, 0x0C] + be16(1) + be16(1) + [0, 0, 1, 44] + be16(4) + [192, 0, 2, 1]
        #expect(try SystemResolver.addresses(inAnswer: a, family: .ipv4, name: "sip1.example.com") == ["192.0.2.1"])
    }

    @Test("the +sip.instance is made once and kept; a damaged file gets a fresh one")
    func instanceIDPersists() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-state-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("instance-1").path
        let first = try InstanceID.loadOrCreate(path: path)
        #expect(InstanceID.isValid(first))
        #expect(Array(first)[23] == "4")  // version 4
        #expect(try InstanceID.loadOrCreate(path: path) == first)
        #expect(try InstanceID.loadOrCreate(path: dir.appendingPathComponent("instance-2").path) != first)
        try "garbage".write(toFile: path, atomically: true, encoding: .utf8)
        let replaced = try InstanceID.loadOrCreate(path: path)
        #expect(replaced != first && InstanceID.isValid(replaced))
        // Replaced whole (no temporary left beside it); a missing state directory is made.
        #expect(!FileManager.default.fileExists(atPath: path + ".new"))
        let deeper = dir.appendingPathComponent("not/yet/there/instance-1").path
        #expect(InstanceID.isValid(try InstanceID.loadOrCreate(path: deeper)))
        #expect(try InstanceID.loadOrCreate(path: deeper) == (try String(contentsOfFile: deeper, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("an atomic replace leaves the old file or the new one: a temporary beside it never replaces a good file half-written")
    func atomicReplace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-replace-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f").path
        try FileIO.replace(path: path, bytes: Array("one\n".utf8))
        try FileIO.replace(path: path, bytes: Array("two\n".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two\n")
        // A directory where the file should go: the replace fails naming it; nothing is left over.
        let blocked = dir.appendingPathComponent("d").path
        try FileManager.default.createDirectory(atPath: blocked + "/x", withIntermediateDirectories: true)
        #expect(throws: SystemError.self) { try FileIO.replace(path: blocked, bytes: [1]) }
        #expect(!FileManager.default.fileExists(atPath: blocked + ".new"))
    }
}

@Suite("DNS SRV with dnsmasq; failover and recovery against Kamailio and sipp", .serialized)
struct DNSAndRecoveryTests {
    @Test("SRV records come back in priority order through the system resolver library; names that do not exist say so")
    func srvThroughLibresolv() throws {
        let dns = try DNSServer(arguments: [
            "--srv-host=_sip._udp.tipring.test,sip-b.tipring.test,5062,20,10",
            "--srv-host=_sip._udp.tipring.test,sip-a.tipring.test,5061,10,10",
            "--host-record=sip-a.tipring.test,127.0.0.11", "--host-record=sip-b.tipring.test,127.0.0.12",
            "--host-record=ready.tipring.test,127.0.0.1",
        ])
        defer { dns.stop() }
        let resolver = SystemResolver(nameserver: "127.0.0.1", port: dns.port, timeoutSeconds: 1, attempts: 1)
        let records = try resolver.srv("_sip._udp.tipring.test")
        #expect(Set(records) == [SRVRecord(priority: 10, weight: 10, port: 5061, target: "sip-a.tipring.test"),
                                 SRVRecord(priority: 20, weight: 10, port: 5062, target: "sip-b.tipring.test")])
        var random = SeededRandom(seed: 9)
        let targets = try ServerLocator.targets(host: "tipring.test", port: nil, transport: .udp, resolver: resolver, random: &random)
        #expect(targets.map(\.description) == ["sip-a.tipring.test (127.0.0.11:5061)", "sip-b.tipring.test (127.0.0.12:5062)"])
        #expect(throws: DNSLookupError.noSuchName("nothing.tipring.test")) { try resolver.addresses("nothing.tipring.test") }
        // A server that does not answer at all.
        let silent = SystemResolver(nameserver: "127.0.0.1", port: Kamailio.freeUDPPort(), timeoutSeconds: 1, attempts: 1)
        #expect(throws: DNSLookupError.noAnswer("_sip._udp.tipring.test")) { try silent.srv("_sip._udp.tipring.test") }
    }

    @Test("IPv6 names: A and AAAA both come back; an SRV target with only an AAAA record registers at Kamailio on [::1] over IPv6; a mixed answer keeps the first address's family")
    func ipv6ThroughDNS() async throws {
        let k = try Kamailio(address: "[::1]")
        defer { k.stop() }
        let dns = try DNSServer(arguments: [
            "--srv-host=_sip._udp.tipring.test,six.tipring.test,\(k.port),10,0",
            "--host-record=six.tipring.test,::1", "--host-record=both.tipring.test,127.0.0.1,::1",
            "--host-record=ready.tipring.test,127.0.0.1",
        ])
        defer { dns.stop() }
        let resolver = SystemResolver(nameserver: "127.0.0.1", port: dns.port, timeoutSeconds: 1, attempts: 1)
        #expect(try resolver.addresses("both.tipring.test") == ["127.0.0.1", "::1"])
        #expect(try resolver.addresses("six.tipring.test") == ["::1"])
        let group = MultiThreadedEventLoopGroup.singleton
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        // Both families for one name: the socket is IPv4 (first), the IPv6 address left out.
        var mixed = UDPAccountEndpoint.Options(registrar: ServerName(host: "both.tipring.test", port: k.port))
        mixed.localPorts = 21000...21999
        let both = try await UDPAccountEndpoint.make(settings: accountSettings(domain: "tipring.test"), options: mixed, resolver: resolver,
                                                     group: group, scheduler: scheduler, seed: 5)
        #expect(both.agent.servers == [SIPNetworkAddress("127.0.0.1", k.port)])
        await both.close()
        // Only an AAAA record: an IPv6 socket, an IPv6 Contact, registered.
        var options = UDPAccountEndpoint.Options(registrar: ServerName(host: "tipring.test"))
        options.localPorts = 21000...21999
        let endpoint = try await UDPAccountEndpoint.make(settings: accountSettings(domain: "tipring.test"), options: options, resolver: resolver,
                                                         group: group, scheduler: scheduler, seed: 6)
        #expect(endpoint.agent.servers == [SIPNetworkAddress("::1", k.port)])
        #expect(endpoint.agent.localAddress.host == "::1")
        let log = StatusLog()
        scheduler.execute { endpoint.agent.onStatus = { log.append($0) } }
        endpoint.start()
        #expect(log.wait(seconds: 15) { $0.contains(where: isRegistered) }, "\(log.all)")
        let contacts = try k.contacts(of: "1001")
        #expect(contacts.count == 1 && contacts[0].hasPrefix("sip:1001@[::1]:"), "\(contacts)")
        endpoint.stop()
        #expect(log.wait(seconds: 10) { $0.last == .unregistered })
        #expect(try k.contacts(of: "1001").isEmpty)
        await endpoint.close()
    }

    @Test("SRV failover: a dead first target (timeout), a 503 second (sipp), Kamailio third — registered, no backoff")
    func srvFailover() async throws {
        let k = try Kamailio()
        defer { k.stop() }
        let sippRun = try SippRegistrarTests().sipp("registrar-503")
        defer { kill(sippRun.0, SIGKILL); var st: Int32 = 0; waitpid(sippRun.0, &st, 0) }
        let deadPort = Kamailio.freeUDPPort()
        let dns = try DNSServer(arguments: [
            "--srv-host=_sip._udp.tipring.test,dead.tipring.test,\(deadPort),10,0",
            "--srv-host=_sip._udp.tipring.test,busy.tipring.test,\(sippRun.1),20,0",
            "--srv-host=_sip._udp.tipring.test,good.tipring.test,\(k.port),30,0",
            "--host-record=dead.tipring.test,127.0.0.1", "--host-record=busy.tipring.test,127.0.0.1",
            "--host-record=good.tipring.test,127.0.0.1", "--host-record=ready.tipring.test,127.0.0.1",
        ])
        defer { dns.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        let log = StatusLog()
        var options = UDPAccountEndpoint.Options(registrar: ServerName(host: "tipring.test"))
        options.localPorts = 20000...20999
        let endpoint = try await UDPAccountEndpoint.make(
            settings: accountSettings(domain: "tipring.test"), options: options,
            resolver: SystemResolver(nameserver: "127.0.0.1", port: dns.port, timeoutSeconds: 1, attempts: 1),
            group: group, scheduler: scheduler, seed: 4)
        #expect(endpoint.agent.servers.map(\.port) == [deadPort, sippRun.1, k.port])
        scheduler.execute { endpoint.agent.onStatus = { log.append($0) } }
        endpoint.start()
        #expect(log.wait(seconds: 15) { $0.contains(where: isRegistered) }, "\(log.all)")
        #expect(!log.all.contains(where: isRetrying))
        #expect(try k.contacts(of: "1001").count == 1)
        endpoint.stop()
        #expect(log.wait(seconds: 10) { $0.last == .unregistered })
        #expect(try k.contacts(of: "1001").isEmpty)
        await endpoint.close()
    }

    @Test("Kamailio: refreshes run; stopped → backoff; started again → registered again; unregister leaves no binding")
    func recoversAfterServerRestart() async throws {
        let k = try Kamailio()
        defer { k.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        let log = StatusLog()
        var options = UDPAccountEndpoint.Options(registrar: ServerName(host: "127.0.0.1", port: k.port))
        options.localPorts = 21000...21999
        let endpoint = try await UDPAccountEndpoint.make(
            settings: accountSettings(domain: "127.0.0.1", expires: 8), options: options,
            resolver: SystemResolver(), group: group, scheduler: scheduler, seed: 5)
        scheduler.execute { endpoint.agent.onStatus = { log.append($0) } }
        endpoint.start()
        // First registration and one refresh (8 s grant, refreshed ≥ 3 s early).
        #expect(log.wait(seconds: 15) { $0.filter(isRegistered).count >= 2 }, "\(log.all)")
        #expect(try k.contacts(of: "1001").count == 1)
        k.halt()
        #expect(log.wait(seconds: 20) { $0.last.map(isRetrying) == true }, "\(log.all)")
        let before = log.all.filter(isRegistered).count
        try k.start()
        #expect(log.wait(seconds: 20) { $0.filter(isRegistered).count > before }, "\(log.all)")
        #expect(try k.contacts(of: "1001").count == 1)
        endpoint.stop()
        #expect(log.wait(seconds: 10) { $0.last == .unregistered })
        #expect(try k.contacts(of: "1001").isEmpty)
        await endpoint.close()
    }

    @Test("sipp as a registrar that never answers: retransmissions, then a timeout and a backoff status")
    func silentRegistrar() async throws {
        let (pid, port, _) = try SippRegistrarTests().sipp("registrar-silent")
        defer { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0) }
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        let log = StatusLog()
        var options = UDPAccountEndpoint.Options(registrar: ServerName(host: "127.0.0.1", port: port))
        options.localPorts = 22000...22999
        let endpoint = try await UDPAccountEndpoint.make(
            settings: accountSettings(domain: "127.0.0.1"), options: options, resolver: SystemResolver(),
            group: MultiThreadedEventLoopGroup.singleton, scheduler: scheduler, seed: 6)
        final class Count: @unchecked Sendable {
            let lock = ConditionLock()
            var value = 0
            var registers: Int { lock.withLock { value } }
            func add() { lock.withLock { value += 1 } }
        }
        let count = Count()
        scheduler.execute {
            endpoint.agent.onStatus = { log.append($0) }
            endpoint.agent.onTrace = { m, out, _ in if out && m.method == .register { count.add() } }
        }
        endpoint.start()
        #expect(log.wait(seconds: 10) { $0.contains(where: isRetrying) }, "\(log.all)")
        guard case .retrying(_, let reason) = log.all.last(where: isRetrying) else { return }
        #expect(reason == "no answer from the registrar")
        // Timer E retransmissions (T1 = 50 ms) before Timer F gave up at 3.2 s.
        let sent = count.registers
        #expect(sent >= 6, "\(sent) REGISTERs")
        endpoint.stop()
        await endpoint.close()
    }
}

@Suite("An account over TCP against Kamailio", .serialized)
struct TCPAccountTests {
    @Test("a registrar that accepts the connection but never answers: the REGISTER times out, the connection is made again and the REGISTER goes out on the new one")
    func silentConnectionIsReplaced() async throws {
        final class Listener: ChannelInboundHandler, @unchecked Sendable {
            typealias InboundIn = ByteBuffer
            let lock = ConditionLock()
            var connections = 0, registers = 0
            func channelActive(context: ChannelHandlerContext) { lock.withLock { connections += 1; lock.broadcast() } }
            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                let b = unwrapInboundIn(data)
                if String(decoding: b.readableBytesView, as: UTF8.self).contains("REGISTER sip:") { lock.withLock { registers += 1; lock.broadcast() } }
            }
            func wait(seconds: Double, _ ok: (Int, Int) -> Bool) -> Bool {
                let deadline = Instant.monotonicNow() + .milliseconds(Int64(seconds * 1000))
                return lock.withLock {
                    while !ok(connections, registers) && Instant.monotonicNow() < deadline { lock.wait(until: deadline) }
                    return ok(connections, registers)
                }
            }
        }
        let listener = Listener()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { $0.pipeline.addHandler(listener) }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        let log = StatusLog()
        let endpoint = try await TCPAccountEndpoint.make(settings: accountSettings(domain: "127.0.0.1"),
                                                         options: UDPAccountEndpoint.Options(registrar: ServerName(host: "127.0.0.1", port: port)),
                                                         resolver: SystemResolver(), group: MultiThreadedEventLoopGroup.singleton,
                                                         scheduler: scheduler, seed: 21)
        scheduler.execute {
            endpoint.agent.onStatus = { log.append($0) }
            endpoint.agent.start()
        }
        #expect(listener.wait(seconds: 5) { c, r in c == 1 && r >= 1 }, "the first REGISTER on the first connection")
        // Timer F (64 × T1 = 3.2 s), then the reconnect (1 s) and a REGISTER on it.
        #expect(listener.wait(seconds: 15) { c, r in c >= 2 && r >= 2 }, "no second connection with a REGISTER")
        #expect(log.all.contains(where: isRetrying), "\(log.all)")
        scheduler.execute { endpoint.agent.stop() }
        await endpoint.close()
    }

    @Test("registers over TCP (Contact transport=tcp); Kamailio restarted → the connection is made again and the account registers again; unregister leaves no binding")
    func tcpAccount() async throws {
        let k = try Kamailio()
        defer { k.stop() }
        let scheduler = WallClockScheduler()
        try scheduler.start()
        defer { scheduler.shutdown() }
        let log = StatusLog()
        let options = UDPAccountEndpoint.Options(registrar: ServerName(host: "127.0.0.1", port: k.port))
        let endpoint = try await TCPAccountEndpoint.make(settings: accountSettings(domain: "127.0.0.1", expires: 600), options: options,
                                                         resolver: SystemResolver(), group: MultiThreadedEventLoopGroup.singleton,
                                                         scheduler: scheduler, seed: 12)
        scheduler.execute {
            endpoint.agent.onStatus = { log.append($0) }
            endpoint.agent.start()
        }
        #expect(log.wait(seconds: 10) { $0.contains(where: isRegistered) }, "\(log.all)")
        let contacts = try k.contacts(of: "1001")
        #expect(contacts.count == 1 && contacts[0].contains("transport=tcp"), "\(contacts)")
        let before = log.all.filter(isRegistered).count
        k.halt()
        try k.start()
        // Reconnect attempts back off 1, 2, 4, 8, 8 … s; under a loaded CI Kamailio takes a while too.
        #expect(log.wait(seconds: 45) { $0.filter(isRegistered).count > before }, "\(log.all)")
        #expect(try k.contacts(of: "1001").count == 1)
        scheduler.execute { endpoint.agent.stop() }
        #expect(log.wait(seconds: 10) { $0.last == .unregistered })
        #expect(try k.contacts(of: "1001").isEmpty)
        await endpoint.close()
    }
}
