import Testing
import TipRingCore
@testable import SIPCore
import SIPAgent

/// What a stranger on the LTE side can send must never trap, and every number it carries
/// is read as ASCII digits and clamped to its RFC range.
@Suite("Hostile input: no trap, numbers clamped (RFC ranges)")
struct HostileInputTests {
    /// Digits other than ASCII '0'…'9': `Character.isNumber` is true for all of them.
    static let foreignDigits = ["١", "٥", "²", "½", "७", "０"]

    @Test("a Request-URI host with a foreign digit is refused, not a trap", arguments: foreignDigits)
    func requestURIWithForeignDigit(digit: String) {
        for uri in ["sip:x@[::ffff:\(digit).1.1.1]", "sip:x@\(digit).1.1.1", "sip:x@1.1.1.1:50\(digit)0", "sip:x@\(digit)"] {
            let text = """
            OPTIONS \(uri) SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx
            To: <sip:x@192.0.2.1>
            From: <sip:y@192.0.2.9>;tag=1
            Call-ID: 1
            CSeq: 1 OPTIONS
            Content-Length: 0


            """
            #expect(throws: SIPParseError.self, "\(uri)") { try SIPParser.parse(bytes(text)) }
            #expect(throws: SIPParseError.self, "\(uri)") { try SIPURI(uri) }
        }
    }

    @Test("a user part with a space, a control character, a quote or angle brackets is refused: written back into a header it would split or end it")
    func userPartBytes() throws {
        for uri in ["sip:bob smith@example.com", "sip:bob\tsmith@example.com", "sip:a\u{7F}b@example.com", "sip:\"x@example.com",
                    "sip:a<b@example.com", "sip:a>b@example.com", "sip:a\r\nVia:x@example.com"] {
            #expect(throws: SIPParseError.self, "\(uri)") { try SIPURI(uri) }
        }
        // What RFC 3261 allows stays: escapes, user-unreserved marks, a telephone number.
        #expect(try SIPURI("sip:bob%20smith@example.com").user == "bob smith")
        #expect(try SIPURI("sip:+15551234;phone-context=x@example.com").user == "+15551234;phone-context=x")
        #expect(try SIPURI("sip:a&=+$,?/-_.!~*'()@example.com").user == "a&=+$,?/-_.!~*'()")
        // The escaped space goes back out escaped.
        #expect(try SIPURI("sip:bob%20smith@example.com").description == "sip:bob%20smith@example.com")
    }

    @Test("a response's Via received=/port with a foreign digit is refused", arguments: foreignDigits)
    func viaWithForeignDigit(digit: String) {
        #expect(throws: SIPParseError.self) { try Via("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1;received=\(digit).1.1.1") }
        #expect(throws: SIPParseError.self) { try Via("SIP/2.0/UDP 192.0.2.10:50\(digit)0;branch=z9hG4bK1") }
        #expect(throws: SIPParseError.self) { try Via("SIP/2.0/UDP [::ffff:\(digit).1.1.1];branch=z9hG4bK1") }
        #expect(!ServerLocator.isIPv4Literal("\(digit).1.1.1"))
    }

    @Test("ASCII decimal numbers: digits only, bounded, never overflowing")
    func asciiDecimal() {
        #expect(ASCIIDecimal.exact("5060", in: 1...65535) == 5060)
        #expect(ASCIIDecimal.exact("65536", in: 1...65535) == nil)
        #expect(ASCIIDecimal.exact("+5", in: 0...9) == nil)
        #expect(ASCIIDecimal.exact("-5", in: -9...9) == nil)
        #expect(ASCIIDecimal.exact("", in: 0...9) == nil)
        #expect(ASCIIDecimal.exact("٥", in: 0...9) == nil)
        #expect(ASCIIDecimal.exact(String(repeating: "9", count: 40), in: 0...Int.max) == nil)
        #expect(ASCIIDecimal.clamped("100000000000000000", to: 0...86_400) == 86_400)
        #expect(ASCIIDecimal.clamped(String(repeating: "9", count: 400), to: 0...86_400) == 86_400)
        #expect(ASCIIDecimal.clamped("30", to: 90...86_400) == 90)
        #expect(ASCIIDecimal.clamped("3x", to: 0...9) == nil)
    }

    @Test("delta-seconds in header values: parameters and comments after the number, nothing else")
    func deltaSeconds() {
        let r = HeaderNumbers.sessionInterval
        #expect(HeaderNumbers.deltaSeconds("1800;refresher=uac", in: r) == 1800)
        #expect(HeaderNumbers.deltaSeconds(" 120 (busy)", in: HeaderNumbers.retryAfter) == 120)
        #expect(HeaderNumbers.deltaSeconds("99999999999999999999999", in: r) == 86_400)
        #expect(HeaderNumbers.deltaSeconds("1", in: r) == 90)
        #expect(HeaderNumbers.deltaSeconds("12s", in: r) == nil)
        #expect(HeaderNumbers.deltaSeconds("-1", in: r) == nil)
        #expect(HeaderNumbers.deltaSeconds(nil, in: r) == nil)
    }

    @Test("CSeq, Max-Forwards and Content-Length out of their ranges are refused")
    func scalarRanges() {
        func request(cseq: String = "1", maxForwards: String = "70", length: String = "0") -> String {
            """
            OPTIONS sip:x@192.0.2.1 SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx
            Max-Forwards: \(maxForwards)
            To: <sip:x@192.0.2.1>
            From: <sip:y@192.0.2.9>;tag=1
            Call-ID: 1
            CSeq: \(cseq) OPTIONS
            Content-Length: \(length)


            """
        }
        #expect((try? SIPParser.parse(bytes(request()))) != nil)
        #expect(throws: SIPParseError.self) { try SIPParser.parse(bytes(request(cseq: "4294967296"))) }
        #expect(throws: SIPParseError.self) { try SIPParser.parse(bytes(request(maxForwards: "256"))) }
        #expect(throws: SIPParseError.self) { try SIPParser.parse(bytes(request(maxForwards: "+7"))) }
        #expect(throws: SIPParseError.self) { try SIPParser.parse(bytes(request(length: "99999999999999999999"))) }
        #expect(throws: SIPParseError.self) { try SIPParser.parse(bytes(request(length: "-1"))) }
        #expect(throws: SIPParseError.self) { try CSeq("+1 INVITE") }
    }

    @Test("time never wraps: a deadline past the end of time stays there")
    func saturatingTime() {
        let late = Instant(nanoseconds: .max - 5)
        #expect(late + .seconds(10) == Instant(nanoseconds: .max))
        #expect(Instant(nanoseconds: .min + 5) - .seconds(10) == Instant(nanoseconds: .min))
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect(Duration.seconds(Int64.min).nanoseconds == .min)
        #expect((Instant(nanoseconds: .max) - Instant(nanoseconds: .min)).nanoseconds == .max)
        #expect(Int64(saturating: .nan) == 0)
        #expect(Int64(saturating: .infinity) == .max && Int64(saturating: -1e300) == .min)
        #expect(Int64(saturating: 1.9) == 1 && Int64(saturating: -1.9) == -1)
    }
}

/// The registration client against a registrar that lies.
@Suite("Registration against a hostile registrar")
struct HostileRegistrarTests {
    static let settings = RegistrationSettings(
        registrar: "sip:example.com", addressOfRecord: "sip:1001@example.com", contact: "sip:1001@192.0.2.10:5060",
        instanceID: "urn:uuid:00000000-0000-4000-8000-000000000001", authUser: "1001", password: "secret1")

    func answer(_ request: SIPMessage, _ status: Int, _ headers: [(String, String)] = []) -> SIPMessage {
        var r = SIPResponses.response(to: request, status: status, reason: "x", toTag: "t")
        for (n, v) in headers { r.add(n, v) }
        return r
    }

    func sent(_ actions: [RegistrationAction]) -> SIPMessage? {
        actions.lazy.compactMap { if case .send(let m) = $0 { m } else { nil } }.first
    }

    func wake(_ actions: [RegistrationAction]) -> Instant? {
        actions.lazy.compactMap { if case .wake(let t) = $0 { t } else { nil } }.first
    }

    @Test("a registrar granting 10^17 s is refreshed as if it granted a day — no wrap, no storm",
          arguments: ["100000000000000000", String(repeating: "9", count: 30)])
    func hugeExpires(granted: String) throws {
        var c = RegistrationClient(settings: Self.settings, seed: 1)
        let now = Instant.seconds(1000)
        let register = try #require(sent(c.start(now: now)))
        let actions = c.response(answer(register, 200, [("Expires", granted)]), now: now)
        let refresh = try #require(wake(actions))
        #expect(refresh > now + .seconds(3600))
        #expect(refresh <= now + .seconds(86_400))
        guard case .registered(let until) = c.state else { Issue.record("not registered: \(c.state)"); return }
        #expect(until == now + .seconds(86_400))
    }

    @Test("a Retry-After of 10^17 s waits a day at most")
    func hugeRetryAfter() throws {
        var c = RegistrationClient(settings: Self.settings, seed: 1)
        let now = Instant.seconds(5)
        let register = try #require(sent(c.start(now: now)))
        let at = try #require(wake(c.response(answer(register, 503, [("Retry-After", "100000000000000000")]), now: now)))
        #expect(at == now + .seconds(86_400))
    }

    @Test("a registrar calling every answer stale is left to back off, not answered for ever")
    func staleForever() throws {
        var c = RegistrationClient(settings: Self.settings, seed: 1)
        let now = Instant.seconds(5)
        var request = try #require(sent(c.start(now: now)))
        var answered = 0
        for round in 0..<10 {
            let challenge = "Digest realm=\"example.com\", nonce=\"n\(round)\", algorithm=MD5, qop=\"auth\"" + (round > 0 ? ", stale=true" : "")
            let actions = c.response(answer(request, 401, [("WWW-Authenticate", challenge)]), now: now)
            guard let next = sent(actions) else {
                #expect(wake(actions) != nil, "a retry is scheduled")
                break
            }
            answered += 1
            request = next
        }
        #expect(answered <= RegistrationClient.maximumStaleAnswers + 1)
        guard case .retrying = c.state else { Issue.record("expected a back-off, got \(c.state)"); return }
    }

    @Test("Call-ID, tags, branches and cnonces come from the system's random source, not the seed")
    func identifiersAreNotSeeded() throws {
        var a = RegistrationClient(settings: Self.settings, seed: 42)
        var b = RegistrationClient(settings: Self.settings, seed: 42)
        let ra = try #require(sent(a.start(now: .zero))), rb = try #require(sent(b.start(now: .zero)))
        #expect(ra["Call-ID"] != rb["Call-ID"])
        #expect(ra["Via"] != rb["Via"])
        #expect(try NameAddress(ra["From"] ?? "").tag != NameAddress(rb["From"] ?? "").tag)
        // 96 bits in base 36: at least 17 characters (a seeded 64-bit counter gave 13 or fewer).
        #expect((ra["Call-ID"] ?? "").count >= 17)
        var d1 = DigestClient(username: "u", password: "p"), d2 = DigestClient(username: "u", password: "p")
        let ch = try #require(DigestChallenge.preferred(["Digest realm=\"r\", nonce=\"n\", qop=\"auth\""]))
        func cnonce(_ v: String) -> Substring? { v.split(separator: ",").first { $0.contains("cnonce") } }
        #expect(cnonce(d1.authorization(for: ch, method: .register, uri: "sip:r")) != cnonce(d2.authorization(for: ch, method: .register, uri: "sip:r")))
    }
}

@Suite("Secrets and echoes")
struct SecretsAndEchoesTests {
    @Test("passwords never appear in a description, debug description or dump of the settings and digest structs")
    func passwordsRedacted() {
        var settings = HostileRegistrarTests.settings
        settings.password = Secret("hunter2")
        let client = RegistrationClient(settings: settings, seed: 1)
        let digest = DigestClient(username: "1001", password: "hunter2")
        let account = AccountSettings(registration: settings, contactUser: "1001")
        func dumped(_ v: Any) -> String { var s = ""; dump(v, to: &s); return s }
        for text in ["\(settings)", String(reflecting: settings), dumped(settings), "\(client)", dumped(client),
                     "\(digest)", String(reflecting: digest), dumped(digest), dumped(account), "\(account)"] {
            #expect(!text.contains("hunter2"), "\(text)")
        }
        #expect(settings.password.value == "hunter2")
    }

    @Test("a parse error never echoes a bare CR or another control byte back")
    func noControlBytesInErrors() {
        let text = "OPTIONS sip:x@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9\rINJECTED;branch=z9hG4bK1\r\nTo: <sip:x@192.0.2.1>\r\nFrom: <sip:y@192.0.2.9>;tag=1\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"
        do {
            _ = try SIPParser.parse(Array(text.utf8))
            Issue.record("parsed")
        } catch {
            #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 }, "\(error)")
            #expect(error.description.contains("\\x0D"), "\(error)")
            let reply = SIPParser.badRequestResponse(to: Array(text.utf8), error: error)
            if case .response(_, let reason)? = reply?.startLine { #expect(!reason.unicodeScalars.contains { $0.value < 0x20 }) }
        }
        #expect(SIPParseError("a\u{1B}[2Jb").description == "a\\x1B[2Jb")
    }

    @Test("minimumDigest sha-256: an MD5-only registrar is refused with a reason, SHA-256 is answered")
    func minimumDigest() throws {
        var settings = HostileRegistrarTests.settings
        settings.minimumDigest = .sha256
        var c = RegistrationClient(settings: settings, seed: 1)
        let register = try #require(c.start(now: .zero).lazy.compactMap { if case .send(let m) = $0 { m } else { nil } }.first)
        var md5 = SIPResponses.response(to: register, status: 401, reason: "Unauthorized", toTag: "t")
        md5.add("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n\", algorithm=MD5, qop=\"auth\"")
        _ = c.response(md5, now: .zero)
        guard case .failed(let reason, _) = c.state else { Issue.record("\(c.state)"); return }
        #expect(reason.contains("weaker than SHA-256"))
        var d = RegistrationClient(settings: settings, seed: 1)
        let r2 = try #require(d.start(now: .zero).lazy.compactMap { if case .send(let m) = $0 { m } else { nil } }.first)
        var both = SIPResponses.response(to: r2, status: 401, reason: "Unauthorized", toTag: "t")
        both.add("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n\", algorithm=MD5, qop=\"auth\"")
        both.add("WWW-Authenticate", "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"")
        let answer = try #require(d.response(both, now: .zero).lazy.compactMap { if case .send(let m) = $0 { m } else { nil } }.first)
        #expect(answer["Authorization"]?.contains("algorithm=SHA-256") == true)
    }
}
