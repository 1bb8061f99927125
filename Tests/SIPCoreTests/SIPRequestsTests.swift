import Testing
import SIPCore

@Suite("Requests derived from an INVITE (RFC 3261 §9.1, §17.1.1.3)")
struct SIPRequestsTests {
    let invite: SIPMessage = {
        var m = SIPRequests.new(.invite, uri: "sip:1002@example.com", via: "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc;rport")
        m.add("Route", "<sip:proxy.example.com;lr>")
        m.add("Route", "<sip:edge.example.com;lr>")
        m.add("From", "<sip:1001@example.com>;tag=f1")
        m.add("To", "<sip:1002@example.com>")
        m.add("Call-ID", "c1@192.0.2.10")
        m.add("CSeq", "42 INVITE")
        m.add("Contact", "<sip:1001@192.0.2.10>")
        return m
    }()

    @Test("a new request starts with its Via and Max-Forwards 70")
    func newRequest() {
        #expect(invite.headers.prefix(2).map(\.name) == ["Via", "Max-Forwards"])
        #expect(invite["Max-Forwards"] == "70")
    }

    @Test("CANCEL: the INVITE's Request-URI, top Via, Route set, From, To, Call-ID; CSeq number with CANCEL; no Contact")
    func cancel() throws {
        let c = try #require(SIPRequests.derived(.cancel, from: invite, to: invite["To"]))
        guard case .request(let method, let uri) = c.startLine else { Issue.record("not a request"); return }
        #expect(method == .cancel && uri == "sip:1002@example.com")
        #expect(c["Via"] == invite["Via"])
        #expect(c.values("Route") == invite.values("Route"))
        #expect(c["From"] == "<sip:1001@example.com>;tag=f1" && c["To"] == "<sip:1002@example.com>")
        #expect(c["Call-ID"] == "c1@192.0.2.10" && c["CSeq"] == "42 CANCEL")
        #expect(c["Contact"] == nil)
    }

    @Test("ACK of a non-2xx: To (with its tag) from the response, CSeq number with ACK")
    func ackOfAFailure() throws {
        var busy = SIPResponses.response(to: invite, status: 486, reason: "Busy Here", toTag: "t9")
        busy.add("Contact", "<sip:1002@198.51.100.7>")
        let a = try #require(SIPRequests.derived(.ack, from: invite, to: busy["To"]))
        #expect(a["To"] == "<sip:1002@example.com>;tag=t9")
        #expect(a["CSeq"] == "42 ACK" && a["Via"] == invite["Via"])
        #expect(SIPRequests.derived(.ack, from: busy, to: nil) == nil)
    }

    @Test("what we say we support is what we do: reliable provisionals, session timers, Replaces (an INVITE replacing a call of ours), REFER (being transferred)")
    func supported() {
        #expect(SIPRequests.supported == "100rel, timer, replaces")
        #expect(SIPRequests.allow.contains("REFER"))
    }
}
