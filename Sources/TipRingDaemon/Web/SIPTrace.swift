package import TipRingCore
package import SIPCore

/// The last minutes of SIP on every port, for the status page's trace (`/trace`): each message
/// as text, the credentials in it masked (a digest response is as good as a password to anyone
/// who can replay it within its nonce's life), at most ``capacity`` messages of at most
/// ``longest`` bytes — kept on the control plane as messages pass.
package final class SIPTrace {
    struct Entry {
        var at: Instant
        var port: Int
        var outgoing: Bool
        var peer: String
        var text: String
    }

    var entries: [Entry] = []
    package static let capacity = 100
    static let longest = 2000
    package static let window = Duration.seconds(300)

    package init() {}

    package func note(_ m: SIPMessage, outgoing: Bool, peer: SIPNetworkAddress, port: Int, at now: Instant) {
        var text = Self.masked(m)
        if text.utf8.count > Self.longest { text = String(decoding: text.utf8.prefix(Self.longest), as: UTF8.self) + "\n[… cut]" }
        entries.append(Entry(at: now, port: port, outgoing: outgoing, peer: "\(peer)", text: text))
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }

    /// The messages of the last ``window``, oldest first, each under a line saying when, which
    /// port and which way.
    package func render(now: Instant) -> String {
        entries.removeAll { now - $0.at > Self.window }
        guard !entries.isEmpty else { return "no SIP in the last \(Self.window.components.seconds / 60) minutes\n" }
        return entries.map { e in
            let ago = Double((now - e.at).nanoseconds / 100_000_000) / 10
            return "── \(ago) s ago, port \(e.port) \(e.outgoing ? "→" : "←") \(e.peer)\n\(e.text)\n"
        }.joined(separator: "\n")
    }

    /// The message as text without its credentials: an Authorization keeps who and where,
    /// never the response (nor the cnonce that goes with it); an SDES key (`inline:` of an
    /// `a=crypto` line) is the call's secret and shows as "masked".
    package static func masked(_ m: SIPMessage) -> String {
        var shown = m
        for i in shown.headers.indices where ["Authorization", "Proxy-Authorization"].contains(shown.headers[i].canonical) {
            let p = (try? DigestChallenge.parameters(String(shown.headers[i].value.drop { $0 != " " }))) ?? [:]
            shown.headers[i].value = "Digest username=\"\(p["username"] ?? "?")\", realm=\"\(p["realm"] ?? "?")\", response and cnonce masked"
        }
        return maskingKeys(String(decoding: shown.serialized(), as: UTF8.self).replacing("\r\n", with: "\n"))
    }

    /// Every `inline:` key up to the end of its word (or its `|` parameters) replaced.
    package static func maskingKeys(_ text: String) -> String {
        let parts = text.split(separator: "inline:", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return text }
        return String(parts[0]) + parts.dropFirst().map { "inline:masked" + $0.drop { !" |\n\r".contains($0) } }.joined()
    }
}
