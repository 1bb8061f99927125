#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import TipRingCore
import SIPCore
import SystemCalls

/// The one room for system calls, against the real kernel: every failure names the call,
/// what it was about and errno's text.
@Suite("System calls")
struct SystemCallsTests {
    /// A per-test folder under /tmp.
    static func folder() -> String {
        var template = Array("/tmp/tipring-sys-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    /// A socket on a free loopback port (tests run in parallel: try ports until one binds).
    static func boundSocket(_ host: String = "127.0.0.1", dscp: Int? = nil) throws -> DatagramSocket {
        var last: SystemError?
        for _ in 0..<200 {
            let port = 40000 + Int(SecureRandom.next() % 20000)
            do { return try DatagramSocket(binding: IPEndpoint(host: host, port: port)!, dscp: dscp) } catch { last = error }
        }
        throw last!
    }

    @Test("a datagram crosses loopback with its source; a busy port fails as bind(127.0.0.1:port): Address already in use")
    func datagrams() throws {
        let a = try Self.boundSocket(), b = try Self.boundSocket()
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(buffer.withUnsafeMutableBytes { b.receive(into: $0) } == nil)  // nothing waits yet
        let sent = [UInt8]("hello".utf8)
        #expect(sent.withUnsafeBytes { a.send($0, to: b.local) })
        #expect(b.waitReadable(timeout: .seconds(5)))
        let got = buffer.withUnsafeMutableBytes { b.receive(into: $0) }
        let (count, source) = try #require(got)
        #expect(Array(buffer[0..<count]) == sent)
        #expect(source == a.local)
        do {
            _ = try DatagramSocket(binding: a.local)
            Issue.record("a second socket bound the same port")
        } catch {
            #expect(error.call == "bind")
            #expect(error.errno == EADDRINUSE)
            #expect(error.description.contains("bind(127.0.0.1:\(a.local.port))"))
            #expect(error.description.contains(String(cString: strerror(EADDRINUSE))))
        }
    }

    @Test("IPv6: a datagram crosses ::1 with its source; the socket is IPv6 only (no IPv4 through it); its traffic class carries the DSCP")
    func ipv6Datagrams() throws {
        let a = try Self.boundSocket("::1"), b = try Self.boundSocket("::1", dscp: 46)
        #expect(b.dscp == 46)
        var buffer = [UInt8](repeating: 0, count: 64)
        let sent = [UInt8]("hello over IPv6".utf8)
        #expect(sent.withUnsafeBytes { a.send($0, to: b.local) })
        #expect(b.waitReadable(timeout: .seconds(5)))
        let (count, source) = try #require(buffer.withUnsafeMutableBytes { b.receive(into: $0) })
        #expect(Array(buffer[0..<count]) == sent)
        #expect(source == a.local && source.family == .ipv6 && source.description == "[::1]:\(a.local.port)")
        // An IPv4 destination cannot be reached from it (V6ONLY: no v4-mapped traffic).
        #expect(!sent.withUnsafeBytes { a.send($0, to: IPEndpoint(host: "127.0.0.1", port: Int(b.local.port))!) })
        let any = try DatagramSocket(binding: .any(.ipv6, port: 0))
        #expect(any.local.host == "::")
    }

    @Test("DSCP marks are set and read back from the socket (EF = 46)")
    func dscp() throws {
        var s: DatagramSocket?
        for _ in 0..<200 where s == nil {
            s = try? DatagramSocket(binding: IPEndpoint(host: "127.0.0.1", port: 40000 + Int(SecureRandom.next() % 20000))!, dscp: 46)
        }
        #expect(try #require(s).dscp == 46)
    }

    @Test("IP endpoints: dotted quads and IPv6 addresses (bracketed when written with a port), ports 1…65535")
    func endpoints() {
        #expect(IPEndpoint(host: "192.0.2.7", port: 5060)?.description == "192.0.2.7:5060")
        #expect(IPEndpoint(host: "2001:db8::7", port: 5060)?.description == "[2001:db8::7]:5060")
        #expect(IPEndpoint(host: "::ffff:192.0.2.7", port: 5060)?.family == .ipv6)
        #expect(IPEndpoint(host: "[2001:db8::7]", port: 5060) == nil)  // brackets belong to URIs, not addresses
        #expect(IPEndpoint(host: "2001:db8::7", port: 5060) != IPEndpoint(host: "2001:db8::8", port: 5060))
        #expect(IPEndpoint(host: "2001:db8::7", port: 5060) == IPEndpoint(host: "2001:DB8:0::7", port: 5060))
        #expect(IPEndpoint(host: "192.0.2.7", port: 0) == nil)
        #expect(IPEndpoint(host: "192.0.2.7", port: 65536) == nil)
        #expect(IPEndpoint(host: "١.1.1.1", port: 5060) == nil)
        #expect(IPEndpoint(host: "example.com", port: 5060) == nil)
    }

    @Test("IPv6 text: SIPCore's RFC 5952 form is the one glibc's inet_ntop writes, for 2,000 random addresses written every which way (IPv4-mapped ones dotted)")
    func ipv6TextMatchesTheKernel() throws {
        var random = SeededRandom(seed: 5952)
        for _ in 0..<2000 {
            // Groups that are often zero (runs to compress), written with random case and zeros.
            var groups = (0..<8).map { _ in random.next() % 3 == 0 ? UInt16(truncatingIfNeeded: random.next()) : 0 }
            if random.next() % 8 == 0 { groups[0..<5] = [0, 0, 0, 0, 0]; groups[5] = 0xFFFF }  // IPv4-mapped
            let written = groups.map { g -> String in
                var t = String(g, radix: 16, uppercase: random.next() % 2 == 0)
                if random.next() % 2 == 0 { t = String(repeating: "0", count: 4 - t.count) + t }
                return t
            }.joined(separator: ":")
            // Sometimes the last 32 bits dotted, as an IPv4-mapped address is usually written.
            let mixed = groups[0..<6].map { String($0, radix: 16) }.joined(separator: ":") + ":\(groups[6] >> 8).\(groups[6] & 0xFF).\(groups[7] >> 8).\(groups[7] & 0xFF)"
            for text in [written, mixed] {
                let kernel = try #require(IPEndpoint(host: text, port: 1)).host
                #expect(SIPHost.canonicalIPv6(text[...]) == kernel, "\(text)")
            }
        }
    }

    @Test("the route toward loopback leaves from loopback; the resolver reads /etc/hosts and names getaddrinfo when it fails")
    func routeAndResolver() throws {
        #expect(try Route.sourceAddress(toward: IPEndpoint(host: "127.0.0.1", port: 5060)!) == "127.0.0.1")
        #expect(try Route.sourceAddress(toward: IPEndpoint(host: "::1", port: 5060)!) == "::1")
        #expect(try Resolver.addresses("localhost", family: .ipv4).map(\.host) == ["127.0.0.1"])  // each address once (getaddrinfo gives one per socket type)
        #expect(try Resolver.addresses("::1").map(\.host) == ["::1"])
        #expect(try Resolver.addresses("2001:DB8:0:0::7").map(\.host) == ["2001:db8::7"])  // numeric, in its compressed form
        #expect(throws: SystemError.self) { try Resolver.addresses("no-such-host.invalid") }
    }

    @Test("a Unix stream socket: a line asked, a line answered; a shut-down listener stops accepting; its path goes on close")
    func unixStream() throws {
        let path = Self.folder() + "/control.sock"
        let listener = try UnixStreamListener(path: path, mode: 0o600)
        #expect(try FileInfo.mode(of: path) & 0o777 == 0o600)
        let server = try SystemThread.start {
            while let c = try? listener.accept() {
                let line = (try? c.readLine()) ?? ""
                try? c.write(Array("you said \(line)\n".utf8))
            }
        }
        let client = try UnixStream(connectingTo: path)
        try client.write(Array("status\n".utf8))
        #expect(try client.readLine() == "you said status")
        listener.shutdown()
        server.join()  // accept threw: the loop ended
        listener.close()
        #expect(throws: SystemError.self) { try FileInfo.mode(of: path) }
        do {
            _ = try UnixStream(connectingTo: path)
            Issue.record("connected to a closed listener")
        } catch {
            #expect(error.call == "connect" && error.errno == ENOENT)
        }
    }

    @Test("a socket path longer than sun_path is refused by name, not truncated")
    func longPath() {
        let path = "/tmp/" + String(repeating: "x", count: 200)
        do {
            _ = try UnixStreamListener(path: path)
            Issue.record("listened on a truncated path")
        } catch {
            #expect(error.call == "listen" && error.errno == ENAMETOOLONG)
        }
    }

    @Test("file modes and link targets")
    func files() throws {
        let file = Self.folder() + "/secret"
        try FileIO.writeAll(path: file, bytes: [1, 2, 3], mode: 0o600)
        #expect(try FileInfo.mode(of: file) == 0o600)
        #expect(try FileInfo.linkTarget("/proc/self/exe").hasPrefix("/"))
        #expect(throws: SystemError.self) { try FileInfo.linkTarget(file) }  // not a link: EINVAL
    }
}
