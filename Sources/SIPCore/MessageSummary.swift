import TipRingCore

/// An `application/simple-message-summary` body (RFC 3842).
public struct MessageSummary: Sendable, Hashable {
    public var waiting: Bool
    public var new: Int?
    public var old: Int?

    public static func parse(_ body: [UInt8]) -> MessageSummary {
        var out = MessageSummary(waiting: false, new: nil, old: nil)
        for line in String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingSpaces().lowercased(), value = parts[1].trimmingSpaces()
            if name == "messages-waiting" { out.waiting = value.lowercased() == "yes" }
            if name == "voice-message" {
                let counts = value.split(separator: " ").first?.split(separator: "/") ?? []
                if counts.count == 2 {
                    out.new = ASCIIDecimal.clamped(counts[0], to: 0...99_999)
                    out.old = ASCIIDecimal.clamped(counts[1], to: 0...99_999)
                }
            }
        }
        return out
    }
}
