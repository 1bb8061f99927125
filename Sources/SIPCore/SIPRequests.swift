/// Requests built one way: what RFC 3261 says every new request starts with, the two requests
/// an INVITE's transaction derives from it, and what we say we can do.
public enum SIPRequests {
    /// The methods a TipRing user agent accepts (`Allow`).
    public static let allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, NOTIFY, REFER"
    /// The extensions it supports (`Supported`): reliable provisionals (RFC 3262) and session
    /// timers (RFC 4028).
    public static let supported = "100rel, timer, replaces"

    /// A new request: the start line, its Via (a new transaction's: ``Transport/via(fromContact:)``)
    /// and Max-Forwards 70 (RFC 3261 §8.1.1.6). The caller adds Route, From, To, Call-ID, CSeq.
    public static func new(_ method: SIPMethod, uri: String, via: String) -> SIPMessage {
        var m = SIPMessage(startLine: .request(method: method, uri: uri))
        m.add("Via", via)
        m.add("Max-Forwards", "70")
        return m
    }

    /// A request that follows `invite` through its transaction: a CANCEL (RFC 3261 §9.1) or the
    /// ACK of a non-2xx final response (§17.1.1.3). Both keep the INVITE's Request-URI, top
    /// Via (so its branch), Route set, From, Call-ID and CSeq number; `to` is the INVITE's To
    /// for a CANCEL, the response's (with its tag) for an ACK. Nil when `invite` is no request.
    public static func derived(_ method: SIPMethod, from invite: SIPMessage, to: String?) -> SIPMessage? {
        guard case .request(_, let uri) = invite.startLine else { return nil }
        var m = SIPMessage(startLine: .request(method: method, uri: uri))
        if let v = invite["Via"] { m.add("Via", v) }
        for r in invite.values("Route") { m.add("Route", r) }
        m.add("Max-Forwards", "70")
        if let f = invite["From"] { m.add("From", f) }
        if let to { m.add("To", to) }
        if let c = invite["Call-ID"] { m.add("Call-ID", c) }
        if let cseq = try? CSeq(invite["CSeq"] ?? "") { m.add("CSeq", "\(cseq.sequence) \(method)") }
        return m
    }
}

extension SIPResponses {
    /// The 200 to OPTIONS (RFC 3261 §11.2): what we allow, accept and support.
    public static func capabilities(to request: SIPMessage) -> SIPMessage {
        var r = response(to: request, status: 200, reason: "OK")
        r.add("Allow", SIPRequests.allow)
        r.add("Accept", "application/sdp")
        r.add("Supported", SIPRequests.supported)
        return r
    }
}
