import Testing
import TipRingCore
import SIPCore
import TipRingDaemon
import PortControl

@Suite("The status page's HTML")
struct StatusPageHTMLTests {
    @Test("every value escaped: a caller's name cannot open an element, end an attribute or reach the page as a control byte")
    func escaping() {
        #expect(StatusPage.escape(#"<script>alert("x")</script> & 'y'"#) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        #expect(StatusPage.escape("a\u{1B}[2Jb") == "a\\u{1B}[2Jb")
    }
}

@Suite("Who may see the status page")
struct WebAccessTests {
    static let credentials = WebAccess.Credentials(user: "admin", secretHash: WebAccess.secretHash(user: "admin", password: "pw"))
    static let t0 = Instant(nanoseconds: 5_000_000_000)

    /// An Authorization for `nonce` as a browser makes it (RFC 7616, SHA-256, qop=auth).
    static func authorization(nonce: String, nc: String, password: String = "pw", user: String = "admin", uri: String = "/") -> String {
        let response = DigestVerifier.response(algorithm: .sha256, username: user, realm: "TipRing", password: password, nonce: nonce,
                                               nc: nc, cnonce: "c0ffee", qop: "auth", method: "GET", uri: uri)
        return "Digest username=\"\(user)\", realm=\"TipRing\", nonce=\"\(nonce)\", uri=\"\(uri)\", algorithm=SHA-256, response=\"\(response)\", qop=auth, nc=\(nc), cnonce=\"c0ffee\""
    }

    @Test("a challenge first; the right answer passes; the same count again (a replay) does not; a nonce past five minutes is stale")
    func digest() {
        var access = WebAccess(credentials: Self.credentials)
        guard case .challenge(let header) = access.check(authorization: nil, method: "GET", uri: "/", client: "a", now: Self.t0, newNonce: { "n1" }) else {
            Issue.record("no challenge"); return
        }
        #expect(header == #"Digest realm="TipRing", qop="auth", algorithm=SHA-256, nonce="n1""#)
        #expect(access.check(authorization: Self.authorization(nonce: "n1", nc: "00000001"), method: "GET", uri: "/", client: "a", now: Self.t0, newNonce: { "x" }) == .allow)
        #expect(access.check(authorization: Self.authorization(nonce: "n1", nc: "00000002"), method: "GET", uri: "/", client: "a", now: Self.t0, newNonce: { "x" }) == .allow)
        #expect(access.check(authorization: Self.authorization(nonce: "n1", nc: "00000002"), method: "GET", uri: "/", client: "a", now: Self.t0, newNonce: { "r" })
                == .challenge(#"Digest realm="TipRing", qop="auth", algorithm=SHA-256, nonce="r""#))
        // Another path than the one answered for, another user, or an unknown nonce: no.
        #expect(access.check(authorization: Self.authorization(nonce: "n1", nc: "00000003", uri: "/status.json"), method: "GET", uri: "/", client: "a", now: Self.t0, newNonce: { "x" }) != .allow)
        #expect(access.check(authorization: Self.authorization(nonce: "n1", nc: "00000004", user: "root"), method: "GET", uri: "/", client: "b", now: Self.t0, newNonce: { "x" }) != .allow)
        let late = Self.t0 + .seconds(301)
        #expect(access.check(authorization: Self.authorization(nonce: "n1", nc: "00000005"), method: "GET", uri: "/", client: "c", now: late, newNonce: { "n2" })
                == .challenge(#"Digest realm="TipRing", qop="auth", algorithm=SHA-256, nonce="n2", stale=true"#))
    }

    @Test("five wrong answers in a minute from one address: 429 until the minute is over; other addresses are not held up")
    func rateLimit() {
        var access = WebAccess(credentials: Self.credentials)
        _ = access.check(authorization: nil, method: "GET", uri: "/", client: "a", now: Self.t0, newNonce: { "n" })
        for i in 0..<5 {
            let d = access.check(authorization: Self.authorization(nonce: "n", nc: "0000000\(i + 1)", password: "wrong"), method: "GET", uri: "/",
                                 client: "10.0.0.9", now: Self.t0 + .seconds(Int64(i)), newNonce: { "n" })
            #expect(d != .allow)
        }
        let blocked = access.check(authorization: Self.authorization(nonce: "n", nc: "00000009"), method: "GET", uri: "/", client: "10.0.0.9",
                                   now: Self.t0 + .seconds(10), newNonce: { "n" })
        #expect(blocked == .tooMany(retryAfterSeconds: 50))
        #expect(access.check(authorization: Self.authorization(nonce: "n", nc: "0000000a"), method: "GET", uri: "/", client: "10.0.0.8",
                             now: Self.t0 + .seconds(10), newNonce: { "n" }) == .allow)
        #expect(access.check(authorization: Self.authorization(nonce: "n", nc: "0000000b"), method: "GET", uri: "/", client: "10.0.0.9",
                             now: Self.t0 + .seconds(61), newNonce: { "n" }) == .allow)
    }
}

@Suite("Metrics: what happened, counted with few labels")
struct DaemonMetricsTests {
    @Test("registration failures by kind, calls by result, drops that only grow; the page is Prometheus text")
    func counts() {
        let m = DaemonMetrics()
        m.registration(.registered(untilSeconds: 600), port: 1)
        m.registration(.retrying(atSeconds: 30, reason: "DNS: no such name x.test"), port: 1)
        m.registration(.failed(reason: "403 Forbidden"), port: 2)
        m.registration(.retrying(atSeconds: 30, reason: "no answer (timeout)"), port: 2)
        m.call(CallRecord(handle: CallHandle(id: 1), startedAt: 0, direction: .incoming, peer: "1", peerName: nil, answered: false,
                          ringSeconds: 9, talkSeconds: 0, end: "missed"), port: 1, quality: nil)
        var status = DaemonStatus(board: "sim", uptimeSeconds: 12, ports: [])
        let before = m.scrape(status, xruns: [:])
        #expect(before.contains("tipring_registrations_total{port=\"1\"} 1"), "\(before)")
        #expect(before.contains("tipring_registration_failures_total{port=\"1\",reason=\"dns\"} 1"))
        #expect(before.contains("tipring_registration_failures_total{port=\"2\",reason=\"credentials\"} 1"))
        #expect(before.contains("tipring_registration_failures_total{port=\"2\",reason=\"no-answer\"} 1"))
        #expect(before.contains("tipring_calls_total{port=\"1\",direction=\"incoming\",result=\"missed\"} 1"))
        #expect(before.contains("# TYPE tipring_calls_total counter") && before.contains("tipring_uptime_seconds 12"))
        status.uptimeSeconds = 13
        _ = m.scrape(status, xruns: [:])
        m.advance("tipring_x_total", labels: [("port", "1")], to: 5, help: "x")
        m.advance("tipring_x_total", labels: [("port", "1")], to: 3, help: "x")  // a restarted count never goes back
        m.advance("tipring_x_total", labels: [("port", "1")], to: 7, help: "x")
        #expect(m.registry.emitToString().contains("tipring_x_total{port=\"1\"} 7"))
    }
}

@Suite("The page's SIP trace")
struct SIPTraceTests {
    static let register = """
    REGISTER sip:x.test SIP/2.0\r
    Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r
    From: <sip:1001@x.test>;tag=a\r
    To: <sip:1001@x.test>\r
    Call-ID: c1\r
    CSeq: 2 REGISTER\r
    Authorization: Digest username="1001", realm="x.test", nonce="n", uri="sip:x.test", response="0123456789abcdef0123456789abcdef", cnonce="cc", nc=00000001, qop=auth\r
    Content-Length: 0\r
    \r

    """

    @Test("a digest response and cnonce never shown; who and where are")
    func masked() throws {
        let m = try SIPParser.parse(Array(Self.register.utf8))
        let text = SIPTrace.masked(m)
        #expect(text.contains("Authorization: Digest username=\"1001\", realm=\"x.test\", response and cnonce masked"), "\(text)")
        #expect(!text.contains("0123456789abcdef") && !text.contains("cc\"") && text.hasPrefix("REGISTER sip:x.test SIP/2.0\n"))
    }

    @Test("an SDES key in an SDP body never shown; its suite and tag are")
    func keysMasked() throws {
        var m = SIPRequests.new(.invite, uri: "sip:1002@x.test", via: "SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKx")
        var sdp = SessionDescription(address: "192.0.2.10", port: 4000, formats: [.pcmu])
        let key = SRTPMasterKey.random(.aesCM128HMACSHA1_80), other = SRTPMasterKey.random(.aesCM128HMACSHA1_32)
        sdp.crypto = [SDESCrypto(tag: 1, key: key), SDESCrypto(tag: 2, key: other)]
        m.body = sdp.serialized()
        let text = SIPTrace.masked(m)
        #expect(text.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:masked\n") && text.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:masked\n"), "\(text)")
        #expect(!text.contains(Base64.encode(key.bytes)) && !text.contains(Base64.encode(other.bytes)))
        #expect(SIPTrace.maskingKeys("a=crypto:1 S inline:QUJD|2^20 x") == "a=crypto:1 S inline:masked|2^20 x")
    }

    @Test("the last five minutes, a hundred messages at most, oldest first")
    func bounded() throws {
        let trace = SIPTrace(), m = try SIPParser.parse(Array(Self.register.utf8))
        let t0 = Instant(nanoseconds: 1_000_000_000)
        for i in 0..<(SIPTrace.capacity + 20) {
            trace.note(m, outgoing: i % 2 == 0, peer: SIPNetworkAddress("192.0.2.1"), port: 1, at: t0 + .seconds(Int64(i)))
        }
        let now = t0 + .seconds(Int64(SIPTrace.capacity + 19))
        let text = trace.render(now: now)
        #expect(text.components(separatedBy: "── ").count - 1 == SIPTrace.capacity)
        #expect(text.hasPrefix("── \(Double(SIPTrace.capacity - 1)) s ago, port 1 → 192.0.2.1:5060\nREGISTER"), "\(text.prefix(120))")
        #expect(trace.render(now: now + SIPTrace.window + .seconds(200)) == "no SIP in the last 5 minutes\n")
    }
}
