import TipRingCore

/// How SIP travels between an account and its server (RFC 3261 §18). TLS joins here with the
/// secure-calls work.
public enum Transport: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case udp, tcp
    /// TCP with TLS (RFC 3261 §26.2; `sip:` URIs with `;transport=tls`, as deployed ATAs
    /// write them, RFC 5630 §3.2).
    case tls

    /// As the Via header names it: `UDP`, `TCP`, `TLS`.
    public var description: String { rawValue.uppercased() }

    /// A reliable transport retransmits for us: no Timer A/E/G (RFC 3261 §17).
    public var isReliable: Bool { self != .udp }

    /// The DNS SRV service to look up for a host without a port (RFC 3263 §4.2): SIP over
    /// TLS is `_sips._tcp`.
    public var srvService: String { self == .tls ? "_sips._tcp." : "_sip._\(rawValue)." }

    /// The port a server listens on when neither the configuration nor DNS says (RFC 3261 §19.1.2).
    public var defaultPort: Int { self == .tls ? 5061 : 5060 }

    /// The Contact URI's `;transport=` parameter: none for UDP, the default (RFC 3261 §19.1.1).
    public var uriParameter: String { self == .udp ? "" : ";transport=\(rawValue)" }

    /// The Via of a new client transaction sent from the address in `contact`: a fresh branch
    /// with the RFC 3261 magic cookie from the cryptographic random source, and `rport`
    /// (RFC 3581) so the server answers to the port it saw.
    public func via(fromContact contact: String) -> String {
        let uri = try? SIPURI(contact)
        let sentBy = uri.map { "\($0.host)" + ($0.port.map { ":\($0)" } ?? "") } ?? "invalid"
        return "SIP/2.0/\(self) \(sentBy);branch=z9hG4bK\(SecureRandom.token());rport"
    }
}
