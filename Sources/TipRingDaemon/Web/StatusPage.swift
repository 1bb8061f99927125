package import TipRingCore

/// The status page: plain HTML made on the server (it reads without JavaScript), kept live by
/// `LiveScript` swapping in the `live` part of a fresh copy; every value from the daemon
/// escaped — a caller's name is the network's to choose.
package enum StatusPage {
    package static func render(_ status: DaemonStatus, calls: [String], version: String) -> String {
        var html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <noscript><meta http-equiv="refresh" content="\(refreshSeconds)"></noscript>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>TipRing — \(escape(status.board))</title>
        <style>\(style)</style><script src="\(LiveScript.path)" defer></script></head><body>
        <div id="live">
        <h1>TipRing <small>board \(escape(status.board)) · up \(CallTable.duration(Double(status.uptimeSeconds)))</small></h1>
        <h2>Ports</h2>
        <table id="ports"><tr><th>port</th><th>account</th><th>registration</th><th>hook</th><th>line</th><th>call</th><th>messages</th><th>faults and drops</th></tr>

        """
        for p in status.ports {
            let registration = StatusTable.registration(p.registration)
            let state = ["registered", "in-service"].contains(p.registration.state) ? "ok" : (p.enabled ? "bad" : "off")
            var problems: [String] = []
            if let f = p.fault { problems.append("out of service: \(f)") }
            if let e = p.lastError { problems.append(e) }
            let d = p.dropped
            let dropped = DropCounts.sentence(requests: Int(clamping: d.requests), responses: Int(clamping: d.responses),
                                              malformed: Int(clamping: d.malformed), media: Int(clamping: d.rtp))
            if !dropped.isEmpty { problems.append("dropped: \(dropped)") }
            html += "<tr id=\"port-\(p.port)\"><td>\(p.port)</td><td>\(escape((p.account ?? "—") + (p.security.map { " over \($0)" } ?? "")))</td>"
            html += "<td class=\"\(state)\">\(escape(registration))</td><td>\(escape(p.hook))</td><td>\(escape(StatusTable.line(p.line) + (p.features.map { "; \($0.summary)" } ?? "")))</td>"
            html += "<td>\(escape(StatusTable.call(p.call)))</td><td>\(p.messagesWaiting ? "waiting" : "—")</td>"
            html += "<td>\(escape(problems.joined(separator: "; ")))</td></tr>\n"
        }
        html += "</table>\n<h2>Last calls</h2>\n"
        let table = (try? CallTable.render("[" + calls.joined(separator: ", ") + "]")) ?? "the call history could not be read\n"
        html += "<pre id=\"calls\">\(table.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0)) }.joined(separator: "\n"))</pre>\n</div>\n"
        html += "<footer>\(escape(version)) · <span id=\"freshness\">refreshed every \(refreshSeconds) s</span> · <a href=\"/status.json\">status.json</a> · <a href=\"/calls.json\">calls.json</a> · <a href=\"/metrics\">metrics</a> · <a href=\"/trace\">SIP trace</a></footer>\n</body></html>\n"
        return html
    }

    static let refreshSeconds = 2

    /// The SIP of the last minutes (credentials masked), as a page of its own.
    package static func trace(_ text: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>TipRing — SIP trace</title><style>\(style)</style></head><body>
        <h1>SIP trace <small>the last \(SIPTrace.window.components.seconds / 60) minutes, newest last, credentials masked</small></h1>
        <pre id="trace">\(text.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0)) }.joined(separator: "\n"))</pre>
        <footer><a href="/">back to the status</a></footer>
        </body></html>

        """
    }

    static let style = """
    body{font:15px system-ui,sans-serif;margin:1.5em;color:#222}h1 small{font-weight:normal;color:#666;font-size:60%}
    table{border-collapse:collapse}td,th{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
    .ok{color:#070}.bad{color:#b00}.off{color:#888}pre{background:#f6f6f6;padding:.7em}footer{color:#666;margin-top:2em}
    """

    /// Text as HTML: the five characters that could end an element or an attribute, and
    /// control bytes shown rather than sent.
    package static func escape(_ s: String) -> String {
        var out = ""
        for u in StatusTable.printable(s).unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
