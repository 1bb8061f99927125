import Testing
import TipRingCore
@testable import SIPTransport

@Suite("The cipher suite read from the server's ServerHello, whatever the network sends")
struct TLSServerHelloTests {
    /// A handshake record holding a ServerHello (RFC 8446 §4.1.3): legacy version 3.3, a
    /// random, a session id of `sessionID` bytes, the suite, compression 0, extensions.
    static func serverHello(suite: UInt16, sessionID: Int = 32) -> [UInt8] {
        var body: [UInt8] = [3, 3] + (0..<32).map { UInt8($0) } + [UInt8(sessionID)] + [UInt8](repeating: 0xAA, count: sessionID)
        body += [UInt8(suite >> 8), UInt8(suite & 0xFF), 0]
        body += [0, 6, 0, 0x2B, 0, 2, 3, 4]  // supported_versions: TLS 1.3
        let message: [UInt8] = [2, 0, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        return [22, 3, 3, UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    @Test("in one piece, a byte at a time, and split across two records: the same suite and its IANA name")
    func pieces() {
        let hello = Self.serverHello(suite: 0x1302)
        var whole = TLSServerHelloReader()
        #expect(whole.feed(hello + [23, 3, 3, 0, 1, 0]) == .cipherSuite(0x1302))
        var bytewise = TLSServerHelloReader()
        let outcomes = hello.map { bytewise.feed([$0]) }
        #expect(outcomes.dropLast().allSatisfy { $0 == .needMore } && outcomes.last == .cipherSuite(0x1302))
        // The handshake message cut after 20 bytes into two records.
        let message = Array(hello[5...])
        let split = [22, 3, 3, 0, 20] + message[0..<20] + [22, 3, 3, UInt8((message.count - 20) >> 8), UInt8((message.count - 20) & 0xFF)] + message[20...]
        var twoRecords = TLSServerHelloReader()
        #expect(twoRecords.feed(split) == .cipherSuite(0x1302))
        #expect(TLSServerHelloReader.name(0x1302) == "TLS_AES_256_GCM_SHA384")
        #expect(TLSServerHelloReader.name(0xC02F) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        #expect(TLSServerHelloReader.name(0x0A0A) == "cipher suite 0xA0A")
    }

    @Test("an alert, plain text, another handshake message first, a session id running past the end, a record longer than the limit: no suite, nothing traps")
    func hostile() {
        var alert = TLSServerHelloReader()
        #expect(alert.feed([21, 3, 3, 0, 2, 2, 40]) == .none)
        var text = TLSServerHelloReader()
        #expect(text.feed(Array("SIP/2.0 200 OK\r\n".utf8)) == .none)
        var certificateFirst = TLSServerHelloReader()
        #expect(certificateFirst.feed([22, 3, 3, 0, 4, 11, 0, 0, 0]) == .none)
        // A session id length of 255 with nothing after it: waits, never reads past the end.
        var longID = TLSServerHelloReader()
        let truncated = Array(Self.serverHello(suite: 0x1301, sessionID: 0).prefix(5 + 4 + 2 + 32)) + [255]
        var patched = truncated
        patched[3] = 0; patched[4] = UInt8(truncated.count - 5)
        #expect(longID.feed(patched) == .needMore)
        var huge = TLSServerHelloReader()
        #expect(huge.feed([22, 3, 3, 0xFF, 0xFF]) == .needMore)
        #expect(huge.feed([UInt8](repeating: 0, count: TLSServerHelloReader.limit)) == .none)
        // Once decided, later bytes change nothing.
        #expect(huge.feed(Self.serverHello(suite: 0x1301)) == .none)
        for cut in 0..<60 {
            var r = TLSServerHelloReader()
            _ = r.feed(Self.serverHello(suite: 0x1301).prefix(cut))
            #expect(r.outcome == .needMore, "cut at \(cut)")
        }
    }

    @Test("20,000 mutated ServerHellos fed in random pieces: every outcome reached, nothing traps")
    func mutations() {
        var random = SeededRandom(seed: 2026)
        var seen: Set<String> = []
        for _ in 0..<20_000 {
            var bytes = Self.serverHello(suite: 0x1301, sessionID: Int.random(in: 0...32, using: &random))
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            var reader = TLSServerHelloReader()
            var rest = bytes[...]
            while !rest.isEmpty {
                let n = Int.random(in: 1...rest.count, using: &random)
                _ = reader.feed(rest.prefix(n))
                rest = rest.dropFirst(n)
            }
            seen.insert("\(reader.outcome)".components(separatedBy: "(").first ?? "")
        }
        #expect(seen == ["needMore", "cipherSuite", "none"], "\(seen)")
    }
}
