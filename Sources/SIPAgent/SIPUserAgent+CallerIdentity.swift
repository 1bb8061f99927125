import TipRingCore
public import SIPCore

extension SIPUserAgent {
    /// Who is calling: P-Asserted-Identity first, then From; anonymous or `Privacy: id` →
    /// withheld; "unavailable" → out of area.
    public static func callerIdentity(_ m: SIPMessage) -> CallerIdentity {
        let privacy = (m["Privacy"] ?? "").lowercased()
        let pai = m.values("P-Asserted-Identity").compactMap { try? NameAddress($0) }.first
        guard let who = pai ?? (try? NameAddress(m["From"] ?? "")) else {
            return CallerIdentity(number: nil, name: nil, availability: .unavailable)
        }
        let user: String?
        if who.uri.hasPrefix("tel:") {
            user = String(who.uri.dropFirst(4).split(separator: ";").first ?? "")
        } else {
            user = who.sipURI?.user
        }
        let name = who.displayName
        let lowered = (user ?? "").lowercased()
        if lowered == "anonymous" || privacy.contains("id") && pai == nil || (name ?? "").lowercased() == "anonymous" && user == nil {
            return CallerIdentity(number: nil, name: nil, availability: .withheld)
        }
        if privacy.split(separator: ";").contains(where: { $0.trimmingSpaces() == "id" || $0.trimmingSpaces() == "user" }) {
            return CallerIdentity(number: nil, name: nil, availability: .withheld)
        }
        if lowered == "unavailable" || lowered == "unknown" {
            return CallerIdentity(number: nil, name: nil, availability: .unavailable)
        }
        return CallerIdentity(number: user, name: name?.isEmpty == true ? nil : name, availability: .available)
    }
}
