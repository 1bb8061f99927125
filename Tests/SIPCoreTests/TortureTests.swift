import Testing
@testable import SIPCore

/// RFC 4475 (SIP torture test messages), §3.1: the parser accepts every kind of message the
/// RFC calls valid and refuses, with a reason, every kind it calls invalid. The messages are
/// written here for this project, each exercising the feature its RFC section describes.
@Suite("RFC 4475 torture messages")
struct TortureTests {
    static func message(_ lines: [String], body: String = "") -> [UInt8] {
        Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    static let valid: [(String, [UInt8])] = [
        // §3.1.1.1: odd case, LWS around colons and slashes, folding, compact forms, LWS around
        // '=' and before ';' in an addr-spec To, escaped quotes, unknown headers.
        ("short tortuous INVITE", message([
            "INVITE sip:ada@engine.example.com;unknownparam SIP/2.0",
            "TO :",
            " sip:ada@engine.example.com ;   tag    = 1918181833n",
            "from   : \"Charles \\\"Analytical\\\" Babbage\" <sip:charles@engine.example.com>",
            "  ;",
            "  tag = 98asjd8",
            "MaX-fOrWaRdS: 0068",
            "Call-ID: wsinv.ndaksdj@192.0.2.1",
            "Content-Length   : 0",
            "cseq: 0009",
            "  INVITE",
            "Via  : SIP  /   2.0",
            " /UDP",
            "    192.0.2.2;branch=390skdjuw",
            "s :",
            "NewFangledHeader:   newfangled value",
            " continued newfangled value",
            "UnknownHeaderWithUnusualValue: ;;,,;;,;",
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
            "m:\"Quoted string \\\"\\\"\" <sip:ada@192.0.2.4> ; newparam =",
            "      newvalue ;",
            "  secondparam ; q = 0.33",
        ])),
        // §3.1.1.2: every token character in a method and header name, an unusual user part.
        ("wide range of valid characters", message([
            "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
            "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
            "To: \"BEL:\\\u{07} NUL:\\\u{00} DEL:\\\u{7F}\" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>",
            "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
            "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
            "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
            "Max-Forwards: 255",
            "extensionHeader-!.%*+_`'~: 大停電",
            "Content-Length: 0",
        ])),
        // §3.1.1.5: '%' that is not an escape, in a method and a header name.
        ("percent that is not an escape", message([
            "RE%47IST%45R sip:registrar.example.com SIP/2.0",
            "To: \"%Z%45\" <sip:resource@example.com>",
            "From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23",
            "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
            "Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234",
            "CSeq: 29344 RE%47IST%45R",
            "Max-Forwards: 70",
            "Contact: <sip:alias1@host1.example.com>",
            "C%6Fntact: <sip:alias2@host2.example.com>",
            "Content-Length: 0",
        ])),
        // §3.1.1.6: no LWS between a display name and '<'.
        ("display name without LWS before <", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: caller<sip:caller@example.com>;tag=323",
            "Max-Forwards: 70",
            "Call-ID: lwsdisp.1234abcd@funky.example.com",
            "CSeq: 60 OPTIONS",
            "Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw",
            "l: 0",
        ])),
        // §3.1.1.10: transports nobody here speaks are still valid Vias.
        ("unknown transports in Via", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: <sip:caller@example.com>;tag=323",
            "Max-Forwards: 70",
            "Call-ID: transports.kijh4akdnaqjkwendsasfdj",
            "Accept: application/sdp",
            "CSeq: 60 OPTIONS",
            "Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw",
            "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
            "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
            "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
            "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee",
            "l: 0",
        ])),
        // §3.1.1.12, §3.1.1.13: unusual and empty reason phrases.
        ("unusual reason phrase", message([
            "SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое",
            "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923",
            "Call-ID: unreason.1234ksdfak3j2erwedfsASdf",
            "CSeq: 35 INVITE",
            "From: sip:user@example.com;tag=11141343",
            "To: sip:user@example.com;tag=2229",
            "Content-Length: 0",
        ])),
        ("empty reason phrase", message([
            "SIP/2.0 100 ",
            "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe",
            "Call-ID: noreason.asndj203insdf99223ndf",
            "CSeq: 35 INVITE",
            "From: <sip:user@example.com>;tag=39ansfi3",
            "To: <sip:user@example.com>;tag=902jndnke3",
            "Content-Length: 0",
        ])),
        // §3.1.1.11-like: a ';' parameter in the user part of a URI.
        ("semicolon in the user part", message([
            "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0",
            "To: sip:j_user@example.com",
            "From: sip:caller@example.org;tag=33242",
            "Max-Forwards: 3",
            "Call-ID: semiuri.0ha0isndaksdj",
            "CSeq: 8 OPTIONS",
            "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw",
            "l: 0",
        ])),
    ]

    static let invalid: [(String, [UInt8], String)] = [
        // §3.1.2.1-like: extraneous ';' separators (empty header parameters).
        ("empty parameters in Via", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.15;;branch=z9hG4bK1",
            "To: <sip:user@example.com>",
            "From: <sip:caller@example.com>;tag=1",
            "Call-ID: sep1", "CSeq: 1 OPTIONS", "Max-Forwards: 70", "l: 0",
        ]), "empty parameter"),
        ("empty parameter after To", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1",
            "To: <sip:user@example.com>;",
            "From: <sip:caller@example.com>;tag=1",
            "Call-ID: sep2", "CSeq: 1 OPTIONS", "Max-Forwards: 70", "l: 0",
        ]), "empty parameter"),
        // §3.1.2.4-like: several values where one is required.
        ("two Call-IDs", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1",
            "To: <sip:user@example.com>", "From: <sip:caller@example.com>;tag=1",
            "Call-ID: multi01.98asdh@192.0.2.1", "Call-ID: multi01.98asdh@192.0.2.2",
            "CSeq: 1 OPTIONS", "Max-Forwards: 70", "l: 0",
        ]), "more than one Call-ID"),
        ("two Content-Lengths", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1",
            "To: <sip:user@example.com>", "From: <sip:caller@example.com>;tag=1",
            "Call-ID: cl2", "CSeq: 1 OPTIONS", "Max-Forwards: 70", "Content-Length: 0", "l: 0",
        ]), "more than one Content-Length"),
        ("two From fields", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1",
            "To: <sip:user@example.com>", "From: <sip:caller@example.com>;tag=1", "f: <sip:other@example.com>;tag=2",
            "Call-ID: from2", "CSeq: 1 OPTIONS", "Max-Forwards: 70", "l: 0",
        ]), "more than one From"),
        ("a Content-Length list", message([
            "OPTIONS sip:user@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1",
            "To: <sip:user@example.com>", "From: <sip:caller@example.com>;tag=1",
            "Call-ID: cl3", "CSeq: 1 OPTIONS", "Max-Forwards: 70", "Content-Length: 0, 0",
        ]), "Content-Length"),
        // §3.1.2.9: '<' '>' around the Request-URI.
        ("angle brackets around the Request-URI", message([
            "INVITE <sip:user@example.com> SIP/2.0",
            "To: sip:user@example.com", "From: sip:caller@example.net;tag=39291",
            "Max-Forwards: 23", "Call-ID: ltgtruri.1@192.0.2.5", "CSeq: 1 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKkdjuw", "l: 0",
        ]), "scheme"),
        // §3.1.2.11: SP after the SIP version.
        ("white space after the SIP version", message([
            "OPTIONS sip:remote-target@example.com SIP/2.0  ",
            "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093",
            "To: <sip:remote-target@example.com>", "From: <sip:local-resource@example.com>;tag=329429089",
            "Call-ID: trws.oicu34958239neffasdhr2345r", "Accept: application/sdp", "CSeq: 238923 OPTIONS",
            "Max-Forwards: 70", "Content-Length: 0",
        ]), "request line"),
        // §3.1.2.12: headers in a Request-URI.
        ("escaped headers in the Request-URI", message([
            "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0",
            "To: sip:user@example.com", "From: sip:caller@example.net;tag=341518",
            "Max-Forwards: 7", "Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5",
            "CSeq: 149209342 INVITE", "Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw", "l: 0",
        ]), "headers"),
        // §3.1.2.15: a display name that is neither tokens nor quoted.
        ("non-token characters in a display name", message([
            "OPTIONS sip:t.watson@example.org SIP/2.0",
            "Via: SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "To: Watson, Thomas <sip:t.watson@example.org>",
            "Call-ID: baddn.31415@c.example.com", "CSeq: 3923239 OPTIONS", "l: 0",
        ]), "display name"),
        // §3.1.2.2-like: overlarge scalars.
        ("overlarge CSeq and Max-Forwards", message([
            "REGISTER sip:example.com SIP/2.0",
            "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3",
            "To: <sip:user@example.com>", "From: <sip:user@example.com>;tag=239232jh3",
            "CSeq: 36893488147419103232 REGISTER", "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32",
            "Max-Forwards: 300", "Expires: 1000000000000000000000000000000", "l: 0",
        ]), "Max-Forwards"),
    ]

    @Test("every message the RFC calls valid is accepted", arguments: valid.map(\.0))
    func acceptsValid(name: String) throws {
        let bytes = try #require(Self.valid.first { $0.0 == name }?.1)
        let m = try SIPParser.parse(bytes)
        // And its typed headers read, as a user agent would.
        if case .request(_, let uri) = m.startLine, uri.hasPrefix("sip:") { _ = try SIPURI(uri) }
        _ = try NameAddress(m["From"] ?? "")
        _ = try NameAddress(m["To"] ?? "")
        for v in m.values("Via") { _ = try Via(v) }
    }

    @Test("the short tortuous INVITE reads as the RFC says")
    func tortuousDetails() throws {
        let m = try SIPParser.parse(try #require(Self.valid.first?.1))
        #expect(try NameAddress(m["To"] ?? "").tag == "1918181833n")
        #expect(try NameAddress(m["From"] ?? "").displayName == "Charles \"Analytical\" Babbage")
        #expect(try NameAddress(m["From"] ?? "").tag == "98asjd8")
        #expect(try CSeq(m["CSeq"] ?? "") == CSeq(sequence: 9, method: .invite))
        let vias = try m.values("Via").map { try Via($0) }
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(vias.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        #expect(m["NewFangledHeader"] == "newfangled value continued newfangled value")
    }

    @Test("every message the RFC calls invalid is refused, saying why", arguments: invalid.map(\.0))
    func refusesInvalid(name: String) throws {
        let (_, bytes, reason) = try #require(Self.invalid.first { $0.0 == name })
        do {
            let m = try SIPParser.parse(bytes)
            Issue.record("accepted: \(m.startLine)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}
