import Testing
import TipRingCore
@testable import SIPCore

func bytes(_ s: String) -> [UInt8] { Array(s.replacing("\n", with: "\r\n").utf8) }

let invite = """
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice \\"A\\" Liddell" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com>
Content-Type: application/sdp
Content-Length: 4

v=0

"""

@Suite struct SIPParserTests {
    @Test func parsesARequestAndItsHeaders() throws {
        let m = try SIPParser.parse(bytes(invite))
        #expect(m.method == .invite)
        #expect(m["call-id"] == "a84b4c76e66710@pc33.atlanta.example.com")
        #expect(m.body == Array("v=0\r".utf8))
        let from = try NameAddress(m["From"]!)
        #expect(from.displayName == "Alice \"A\" Liddell")
        #expect(from.tag == "1928301774")
        let via = try Via(m["Via"]!)
        #expect(via.branch == "z9hG4bK776asdhds")
        #expect(via.parameters["rport"] == .some(nil))
        #expect(via.host == .domain("pc33.atlanta.example.com"))
        #expect(try CSeq(m["CSeq"]!) == CSeq(sequence: 314159, method: .invite))
    }

    @Test func compactNamesFoldingAndLists() throws {
        let text = """
        OPTIONS sip:carol@chicago.example.com SIP/2.0
        v: SIP/2.0/TCP 10.1.1.1:5061;branch=z9hG4bK1, SIP / 2.0 / UDP  [2001:db8::1]:5070 ;branch=z9hG4bK2
        Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK3
        f: sip:alice@example.com;tag=88
        t: sip:carol@chicago.example.com
        i: 123@host
        CSeq: 7 OPTIONS
        m: <sip:a@1.2.3.4>;expires=60, "Bob, Jr." <sip:b@5.6.7.8>;q=0.5
        Subject: a long
          folded
        \tsubject
        l: 0


        """
        let m = try SIPParser.parse(bytes(text))
        let vias = try m.values("Via").map { try Via($0) }
        #expect(vias.map(\.branch) == ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"])
        #expect(vias[1].host == .ipv6("2001:db8::1") && vias[1].port == 5070 && vias[1].transport == "UDP")
        #expect(m.values("Contact").count == 2)
        #expect(try NameAddress(m.values("Contact")[1]).displayName == "Bob, Jr.")
        #expect(m["Subject"] == "a long folded subject")
        #expect(m["To"] == "sip:carol@chicago.example.com")
    }

    @Test(arguments: [
        ("INVITE sip:bob@example.com SIP/3.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\n\n", "unsupported SIP version"),
        ("INVITE bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\n\n", "has no scheme"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCSeq: 1 INVITE\n\n", "missing mandatory header Call-ID"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: one INVITE\n\n", "bad CSeq"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 BYE\n\n", "does not match request method"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\nMax-Forwards: lots\n\n", "Max-Forwards"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\nContent-Length: 50\n\nv=0\n", "Content-Length 50 but only"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: sip:a@e;tag=1\nCall-ID: x\nCSeq: 1 INVITE\nBroken header line\n\n", "header line without ':'"),
        ("SIP/2.0 99 Too Low\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\n\n", "bad status code"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: \"Alice <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\n\n", "unterminated display name"),
        ("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\n", "no blank line"),
        ("", "no blank line"),
    ])
    func rejectsMalformedMessagesWithAReason(text: String, fragment: String) {
        do {
            _ = try SIPParser.parse(bytes(text))
            Issue.record("parsed")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test func aBadRequestGetsA400WithTheReason() throws {
        let text = "INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\nMax-Forwards: lots\n\n"
        do {
            _ = try SIPParser.parse(bytes(text))
            Issue.record("Max-Forwards: lots was accepted")
        } catch {
            let r = try #require(SIPParser.badRequestResponse(to: bytes(text), error: error))
            #expect(r.status == 400)
            guard case .response(_, let reason) = r.startLine else { return }
            #expect(reason.hasPrefix("Bad Request (Max-Forwards"))
            #expect(r["Call-ID"] == "x" && r["Via"] == "SIP/2.0/UDP h;branch=z9hG4bK1")
        }
    }

    @Test func garbageNeverCrashes() {
        var r = UInt64(99)
        let base = bytes(invite)
        for _ in 0..<3000 {
            var b = base
            for _ in 0..<4 {
                r = r &* 6364136223846793005 &+ 1442695040888963407
                b[Int(r >> 33) % b.count] = UInt8(truncatingIfNeeded: r >> 17)
            }
            _ = try? SIPParser.parse(b)
            _ = try? SIPParser.parse(Array(b.prefix(Int(r >> 40) % b.count)))
        }
    }
}

/// The situations of RFC 5118 ("SIP Torture Test Messages for IPv6"), in our own messages.
@Suite struct IPv6Tests {
    func request(_ uri: String, via: String = "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1", contact: String = "<sip:a@[2001:db8::1]>") -> [UInt8] {
        bytes("REGISTER \(uri) SIP/2.0\nVia: \(via)\nTo: <sip:u@example.com>\nFrom: <sip:u@example.com>;tag=1\nCall-ID: c\nCSeq: 1 REGISTER\nContact: \(contact)\nMax-Forwards: 70\nContent-Length: 0\n\n")
    }

    @Test func validReferencesParse() throws {
        let m = try SIPParser.parse(request("sip:[2001:db8::10]"))
        #expect(try SIPURI(m.startLineURI!).host == .ipv6("2001:db8::10"))
        // IPv4-mapped and embedded-IPv4 forms.
        #expect(try SIPURI("sip:user@[::ffff:192.0.2.128]").host == .ipv6("::ffff:192.0.2.128"))
        #expect(try SIPURI("sip:[2001:db8::10]:5070").port == 5070)
        // A port after the bracket, and Via with a port.
        let v = try Via("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3")
        #expect(v.port == 6050)
    }

    @Test func aColonInsideTheBracketsIsPartOfTheAddressNotAPort() throws {
        // "[2001:db8::10:5070]" is legal and means the address 2001:db8::10:5070 with no
        // port: a UA must not read 5070 as a port (RFC 5118 §4.4).
        let u = try SIPURI("sip:[2001:db8::10:5070]")
        #expect(u.host == .ipv6("2001:db8::10:5070"))
        #expect(u.port == nil)
    }

    @Test func receivedParameterMayCarryAnIPv6AddressEitherWay() throws {
        #expect(try Via("SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bK1").parameters["received"] == .some("[2001:db8::9:255]"))
        #expect(try Via("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bK1").parameters["received"] == .some("2001:db8::9:255"))
    }

    @Test func multipleAddressesInHeadersAndBody() throws {
        let text = "BYE sip:user@host.example.net SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bK1\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2\nVia: SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK3;received=192.0.2.200\nCall-ID: c\nMax-Forwards: 70\nCSeq: 1 BYE\nTo: sip:user@example.net;tag=9\nFrom: sip:user@example.com;tag=8\nContent-Type: application/sdp\nContent-Length: 40\n\nv=0\nc=IN IP6 2001:db8::1\nc=IN IP4 1.2.3.4\n"
        let m = try SIPParser.parse(bytes(text))
        #expect(try m.values("Via").map { try Via($0).host } == [.ipv6("2001:db8::9:1"), .ipv4("192.0.2.1"), .ipv6("2001:db8::9:255")])
        #expect(m.body.count == 40)
    }

    @Test(arguments: [
        ("sip:2001:db8::10", "must be enclosed in brackets"),
        ("sip:user@[2001:db8:::192.0.2.1]", "is not a valid IPv6 address"),
        ("sip:user@[2001:db8::10", "no closing ']'"),
        ("sip:[1:2:3:4:5:6:7:8:9]", "is not a valid IPv6 address"),
    ])
    func invalidReferencesAreRejected(uri: String, fragment: String) {
        do {
            _ = try SIPParser.parse(request(uri))
            Issue.record("parsed \(uri)")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }
}

extension SIPMessage {
    var startLineURI: String? { if case .request(_, let u) = startLine { u } else { nil } }
}

@Suite struct SIPStreamTests {
    let two = bytes(invite) + Array("\r\n\r\n".utf8) + bytes("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:b@e>;tag=2\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 INVITE\nContent-Length: 0\n\n")

    @Test func dripFeedOneByteAtATime() throws {
        var f = SIPStreamFramer()
        var got: [SIPMessage] = []
        for b in two { got += try f.feed([b]) }
        #expect(got.count == 2)
        #expect(got[0].method == .invite && got[0].body.count == 4)
        #expect(got[1].status == 200)
    }

    @Test func randomSplitPoints() throws {
        var r: UInt64 = 7
        for _ in 0..<200 {
            var f = SIPStreamFramer()
            var got: [SIPMessage] = []
            var i = 0
            while i < two.count {
                r = r &* 6364136223846793005 &+ 1
                let n = min(two.count - i, 1 + Int(r >> 58))
                got += try f.feed(two[i..<(i + n)])
                i += n
            }
            #expect(got.map(\.isRequest) == [true, false])
            #expect(got[0] == (try SIPParser.parse(bytes(invite))))
        }
    }

    @Test func streamsNeedContentLength() {
        var f = SIPStreamFramer()
        let noLength = bytes("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nTo: <sip:b@e>\nFrom: <sip:a@e>;tag=1\nCall-ID: x\nCSeq: 1 OPTIONS\n\n")
        #expect(throws: SIPParseError.self) { try f.feed(noLength) }
    }
}

@Suite struct SIPSerializerTests {
    @Test func roundTripsKeepEverything() throws {
        let m = try SIPParser.parse(bytes(invite))
        let again = try SIPParser.parse(m.serialized())
        #expect(again == m)
        let text = String(decoding: m.serialized(), as: UTF8.self)
        #expect(text.hasPrefix("INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: "))
        #expect(text.contains("\r\nContent-Length: 4\r\n\r\nv=0\r"))
        // Compact names come back canonical.
        let compact = try SIPParser.parse(bytes("OPTIONS sip:a@b SIP/2.0\nv: SIP/2.0/UDP h;branch=z9hG4bK1\nt: <sip:b@e>\nf: <sip:a@e>;tag=1\ni: x\nCSeq: 1 OPTIONS\nl: 0\n\n"))
        #expect(String(decoding: compact.serialized(), as: UTF8.self).contains("\r\nCall-ID: x\r\n"))
    }

    @Test func uriAndNameAddressRoundTrip() throws {
        for s in ["sip:alice@atlanta.example.com", "sips:bob@[2001:db8::1]:5061;transport=tls", "sip:%61lice@h;lr?subject=x",
                  "sip:+1-555@gw.example.com;user=phone"] {
            let u = try SIPURI(s)
            #expect(try SIPURI(u.description) == u)
        }
        #expect(try SIPURI("sip:%61lice@h").user == "alice")
        let n = try NameAddress("\"Q \\\"Quote\\\"\" <sip:q@h>;tag=7")
        #expect(try NameAddress(n.description) == n)
        #expect(throws: SIPParseError.self) { try SIPURI("sip:a@h:99999") }
        #expect(throws: SIPParseError.self) { try SIPURI("mailto:a@h") }
    }
}

@Suite("IPv6 addresses in one text form (RFC 5952), wherever they come from")
struct IPv6TextFormTests {
    @Test(arguments: [
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),      // RFC 5952 §4.2.1: the longest run
        ("2001:db8::0:1", "2001:db8::1"),               // §4.1: no leading zeros
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), // §4.2.2: one zero group stays
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),        // §4.2.3: the longer run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // §4.2.3: the first of equal runs
        ("2001:DB8::AAAA", "2001:db8::aaaa"),           // §4.3: lower case
        ("0:0:0:0:0:0:0:0", "::"), ("::1", "::1"), ("1::", "1::"), ("fe80:0000::0001", "fe80::1"),
        ("::FFFF:c000:0207", "::ffff:192.0.2.7"), ("::ffff:192.0.2.7", "::ffff:192.0.2.7"),  // §5: IPv4-mapped, dotted
        ("2001:db8::192.0.2.7", "2001:db8::c000:207"),
    ])
    func canonical(written: String, canonical: String) {
        #expect(SIPHost.canonicalIPv6(written[...]) == canonical)
    }

    @Test("not IPv6: nil (dotted quads, names, brackets)")
    func notIPv6() {
        for s in ["192.0.2.1", "example.com", "[::1]", "1:2:3:4:5:6:7:8:9", ""] { #expect(SIPHost.canonicalIPv6(s[...]) == nil, "\(s)") }
    }

    @Test("SDP's c=IN IP6 in another form compares equal to a packet's source; a literal registrar with or without brackets is one target")
    func sdpAndServers() throws {
        let sdp = "v=0\r\no=- 1 1 IN IP6 2001:DB8:0::7\r\ns=-\r\nc=IN IP6 2001:DB8:0:0::7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        #expect(try SessionDescription.parse(Array(sdp.utf8)).address == "2001:db8::7")
        #expect(String(decoding: try SessionDescription.parse(Array(sdp.utf8)).serialized(), as: UTF8.self).contains("c=IN IP6 2001:db8::7\r\n"))
        var random = SeededRandom(seed: 1)
        struct NoDNS: SIPResolver {
            func srv(_ name: String) throws(DNSLookupError) -> [SRVRecord] { throw .noAnswer(name) }
            func addresses(_ name: String) throws(DNSLookupError) -> [String] { throw .noAnswer(name) }
        }
        for host in ["[2001:DB8::7]", "2001:db8:0::7"] {
            let t = try ServerLocator.targets(host: host, port: nil, transport: .udp, resolver: NoDNS(), random: &random)
            #expect(t == [ServerTarget(address: "2001:db8::7", port: 5060, name: "2001:db8::7")])
        }
        #expect(SIPHost.ipv6("2001:db8::7").plain == "2001:db8::7" && SIPHost.ipv6("2001:db8::7").description == "[2001:db8::7]")
        #expect(SIPNetworkAddress("2001:db8::7", 5070).description == "[2001:db8::7]:5070")
    }
}
