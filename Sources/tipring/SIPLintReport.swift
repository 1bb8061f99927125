public import SIPCore

/// The structure of a SIP message as `tipring sip lint` prints it: start line, each header
/// with what it parsed to, and the body's size. Credentials in Authorization headers are
/// shown without their response hash.
public enum SIPLintReport {
    public static func render(_ m: SIPMessage) -> String {
        var out = ""
        switch m.startLine {
        case .request(let method, let uri):
            out += "request  \(method) \(uri)\n"
            if let u = try? SIPURI(uri) { out += "  uri    \(describe(u))\n" }
        case .response(let status, let reason):
            out += "response \(status) \(reason)\n"
        }
        for h in m.headers {
            let name = SIPHeaderName.canonical(h.name)
            let values = SIPHeaderName.isList(name) ? SIPHeaderName.splitList(h.value) : [h.value]
            for v in values {
                out += "\(name): \(redacted(name, v))\n"
                if let detail = detail(name, v) { out += "  \(detail)\n" }
            }
        }
        out += "body     \(m.body.count) bytes\n"
        return out
    }

    static func describe(_ u: SIPURI) -> String {
        var s = "scheme=\(u.secure ? "sips" : "sip") host=\(u.host)"
        if let user = u.user { s += " user=\(user)" }
        if let p = u.port { s += " port=\(p)" }
        for p in u.parameters { s += " ;\(p.name)" + (p.value.map { "=\($0)" } ?? "") }
        return s
    }

    static func detail(_ name: String, _ v: String) -> String? {
        switch name {
        case "Via":
            guard let via = try? Via(v) else { return nil }
            return "transport=\(via.transport) host=\(via.host)" + (via.port.map { " port=\($0)" } ?? "") + (via.branch.map { " branch=\($0)" } ?? "")
        case "From", "To", "Contact", "Route", "Record-Route", "P-Asserted-Identity":
            guard let n = try? NameAddress(v) else { return nil }
            var s = "uri=\(n.uri)"
            if let d = n.displayName { s += " name=\"\(d)\"" }
            if let t = n.tag { s += " tag=\(t)" }
            return s
        case "CSeq":
            return (try? CSeq(v)).map { "sequence=\($0.sequence) method=\($0.method)" }
        default:
            return nil
        }
    }

    static func redacted(_ name: String, _ v: String) -> String {
        guard name == "Authorization" || name == "Proxy-Authorization" else { return v }
        var out = v
        if let r = out.firstRange(of: "response=\"") , let end = out[r.upperBound...].firstIndex(of: "\"") {
            out.replaceSubrange(r.upperBound..<end, with: "…")
        }
        return out
    }
}
