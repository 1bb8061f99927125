import TipRingCore
import TelephonyDSP

/// `tipring status` for people: one row per port, then a line for each port that dropped
/// anything from the network.
public enum StatusTable {
    public static func render(_ status: DaemonStatus) -> String {
        var rows: [[String]] = [["port", "enabled", "hook", "registration", "line", "call"]]
        var dropped: [String] = []
        for p in status.ports {
            let lineText = p.fault.map { "out of service (\($0))" } ?? line(p.line) + (p.features.map { "; \($0.summary)" } ?? "")
            rows.append(["\(p.port)", "\(p.enabled)", p.hook, registration(p.registration), lineText, call(p.call)].map(printable))
            let d = p.dropped
            let s = DropCounts.sentence(requests: Int(clamping: d.requests), responses: Int(clamping: d.responses),
                                        malformed: Int(clamping: d.malformed), media: Int(clamping: d.rtp))
            if !s.isEmpty { dropped.append("port \(p.port) dropped: \(s)") }
        }
        return TextTable.render(rows) + dropped.map { $0 + "\n" }.joined()
    }

    static func registration(_ r: PortStatus.Registration) -> String {
        switch r.state {
        case "registered": "registered, expires in \(r.expiresInSeconds ?? 0) s"
        case "retrying": "retrying in \(r.retryInSeconds ?? 0) s (\(r.reason ?? "no reason given"))"
        case "failed": "failed: \(r.reason ?? "no reason given")"
        case "in-service": "in service, not registering (\(r.reason ?? "register: no"))"
        default: r.state
        }
    }

    static func line(_ l: PortStatus.Line) -> String {
        var text = l.state
        if let tone = l.tone { text += " (\(tone))" }
        if let other = l.other { text += ", one call \(other)" }
        return text
    }

    static func call(_ c: PortStatus.Call?) -> String {
        guard let c else { return "-" }
        var text = (c.direction == "incoming" ? "from " : "to ") + c.peer
        if let m = c.media {
            text += ", \(m.codec)\(m.encryption == nil ? "" : " (SRTP)") \(m.seconds) s, lost \(m.lost), jitter \(m.jitterMs) ms"
            if m.packetsReceived + m.lost > 0 { text += ", MOS \(EModel.mos(codec: m.codec, received: m.packetsReceived, lost: m.lost))" }
        }
        return text
    }

    /// A cell as it may reach a terminal: control bytes (an ESC in a caller's name would
    /// drive the admin's terminal) are shown as `\u{1B}`, not sent.
    static func printable(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || (0x7F...0x9F).contains(u.value) {
                out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
