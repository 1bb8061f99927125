import TipRingCore

/// A host in a SIP URI or Via: a domain name, an IPv4 address or an IPv6 reference.
public enum SIPHost: Sendable, Hashable, CustomStringConvertible {
    case domain(String)
    case ipv4(String)
    /// Without the brackets; written `[…]`.
    case ipv6(String)

    public var description: String {
        switch self {
        case .domain(let d): d
        case .ipv4(let a): a
        case .ipv6(let a): "[\(a)]"
        }
    }

    /// The host as written outside a URI (SDP, sockets): an IPv6 address without brackets.
    public var plain: String {
        switch self {
        case .domain(let d): d
        case .ipv4(let a), .ipv6(let a): a
        }
    }

    /// Parses `host` as it appears in a URI or Via (IPv6 in brackets).
    static func parse(_ s: Substring) throws(SIPParseError) -> SIPHost {
        guard !s.isEmpty else { throw SIPParseError("empty host") }
        if s.first == "[" {
            guard s.last == "]" else { throw SIPParseError("IPv6 reference '\(s)' has no closing ']'") }
            let inner = s.dropFirst().dropLast()
            guard isIPv6(inner) else { throw SIPParseError("'\(inner)' is not a valid IPv6 address") }
            return .ipv6(inner.lowercased())
        }
        if s.contains(":") { throw SIPParseError("IPv6 address '\(s)' must be enclosed in brackets (RFC 5118)") }
        // Grammar on bytes: `Character.isNumber` is true for '١' and '²', which no host holds.
        if s.utf8.allSatisfy({ ByteChecks.isDigit($0) || $0 == UInt8(ascii: ".") }) {
            guard isIPv4(s) else { throw SIPParseError("'\(s)' is not a valid IPv4 address") }
            return .ipv4(String(s))
        }
        guard s.utf8.allSatisfy({ ByteChecks.isAlpha($0) || ByteChecks.isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else {
            throw SIPParseError("'\(s)' is not a valid host name")
        }
        return .domain(s.lowercased())
    }

    /// Four dotted decimal octets, each 0–255 in 1–3 ASCII digits.
    public static func isIPv4(_ s: some StringProtocol) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { ASCIIDecimal.exact($0, in: 0...255, maxDigits: 3) != nil }
    }

    /// An IPv6 address in RFC 5952's one text form — lower case, no leading zeros, the
    /// longest run of two or more zero groups (the first of equals) as "::", an IPv4-mapped
    /// (and the old IPv4-compatible) address with its last 32 bits dotted (§5) — the form the
    /// kernel's `inet_ntop` writes, so an address from SDP or a configuration compares equal
    /// to the source of a packet. Nil when `s` is not an IPv6 address.
    public static func canonicalIPv6(_ s: Substring) -> String? {
        guard isIPv6(s) else { return nil }
        var text = Substring(s.lowercased())
        var tail: [UInt16] = []
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            // isIPv6 checked the tail: four decimal octets of 0–255.
            let octets = text[text.index(after: lastColon)...].split(separator: ".").map { UInt16(truncatingIfNeeded: ASCIIDecimal.exact($0, in: 0...255, maxDigits: 3) ?? 0) }
            tail = [octets[0] << 8 | octets[1], octets[2] << 8 | octets[3]]
            text = text[...lastColon]
            if !text.hasSuffix("::") { text = text.dropLast() }
        }
        let gap = text.firstRange(of: "::")
        // isIPv6 checked each group: one to four hex digits.
        func groups(_ part: Substring) -> [UInt16] {
            part.split(separator: ":").map { $0.utf8.reduce(0 as UInt16) { $0 &<< 4 | UInt16(truncatingIfNeeded: ASCIIHex.digit($1) ?? 0) } }
        }
        let head = groups(gap.map { text[..<$0.lowerBound] } ?? text)
        let rest = (gap.map { groups(text[$0.upperBound...]) } ?? []) + tail
        let all = head + [UInt16](repeating: 0, count: max(0, 8 - head.count - rest.count)) + rest
        // The longest run of zero groups (two at least), the first of equal runs.
        var best = (start: -1, length: 0), i = 0
        while i < 8 {
            guard all[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && all[j] == 0 { j += 1 }
            if j - i > best.length { best = (i, j - i) }
            i = j
        }
        func hex(_ g: ArraySlice<UInt16>) -> String { g.map { String($0, radix: 16) }.joined(separator: ":") }
        let dotted = "\(all[6] >> 8).\(all[6] & 0xFF).\(all[7] >> 8).\(all[7] & 0xFF)"
        if best.start == 0 && best.length == 6 { return "::" + dotted }
        if best.start == 0 && best.length == 5 && all[5] == 0xFFFF { return "::ffff:" + dotted }
        guard best.length >= 2 else { return hex(all[...]) }
        return hex(all[..<best.start]) + "::" + hex(all[(best.start + best.length)...])
    }

    /// RFC 4291 text forms, including an embedded IPv4 tail; at most one "::".
    static func isIPv6(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.count <= 45 else { return false }
        var text = s
        var groupsAllowed = 8
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard isIPv4(text[text.index(after: lastColon)...]) else { return false }
            text = text[...lastColon]
            if !text.hasSuffix("::") { text = text.dropLast() }
            groupsAllowed = 6
        }
        let doubles = text.ranges(of: "::").count
        if doubles > 1 { return false }
        if text.contains(":::") { return false }
        let groups = text.split(separator: ":", omittingEmptySubsequences: true)
        guard groups.allSatisfy({ $0.utf8.count <= 4 && $0.utf8.allSatisfy(ByteChecks.isHexDigit) }) else { return false }
        if doubles == 1 { return groups.count < groupsAllowed }
        if text.hasPrefix(":") || text.hasSuffix(":") { return false }
        return groups.count == groupsAllowed
    }
}

/// A `sip:` or `sips:` URI (RFC 3261 §19.1): user, password-free, host, port, parameters
/// and headers. Parameters keep their order; names compare case-insensitively.
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    public var secure: Bool
    /// The user part, with %-escapes decoded.
    public var user: String?
    public var host: SIPHost
    public var port: Int?
    public var parameters: [(name: String, value: String?)]
    public var headers: String?

    public init(secure: Bool = false, user: String? = nil, host: SIPHost, port: Int? = nil, parameters: [(name: String, value: String?)] = [], headers: String? = nil) {
        self.secure = secure
        self.user = user
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    public static func == (a: SIPURI, b: SIPURI) -> Bool {
        a.secure == b.secure && a.user == b.user && a.host == b.host && a.port == b.port
            && a.parameters.map { "\($0.name.lowercased())=\($0.value ?? "")" } == b.parameters.map { "\($0.name.lowercased())=\($0.value ?? "")" }
            && a.headers == b.headers
    }

    public func hash(into h: inout Hasher) {
        h.combine(secure); h.combine(user); h.combine(host); h.combine(port)
    }

    public func parameter(_ name: String) -> String?? {
        parameters.first { $0.name.lowercased() == name.lowercased() }.map { $0.value }
    }

    /// Parses `sip:user@host:port;params?headers`.
    public init(_ text: some StringProtocol) throws(SIPParseError) {
        var s = Substring(text)
        if s.lowercased().hasPrefix("sips:") {
            secure = true
            s = s.dropFirst(5)
        } else if s.lowercased().hasPrefix("sip:") {
            secure = false
            s = s.dropFirst(4)
        } else {
            throw SIPParseError("'\(text)' is not a sip: or sips: URI")
        }
        // The user part may hold '?' and ';': the host follows the last '@', and headers ('?')
        // and parameters (';') come after the host.
        var userPart: Substring?
        if let at = s.lastIndex(of: "@") {
            userPart = s[..<at]
            s = s[s.index(after: at)...]
        }
        if let q = s.firstIndex(of: "?") {
            headers = String(s[s.index(after: q)...])
            s = s[..<q]
        } else {
            headers = nil
        }
        var paramText: Substring = ""
        if let semi = s.firstIndex(of: ";") {
            paramText = s[s.index(after: semi)...]
            s = s[..<semi]
        }
        if let u = userPart {
            // A password (user:password) is not allowed to stay in a URI we keep.
            let name = u.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard !name.isEmpty else { throw SIPParseError("empty user part in '\(text)'") }
            // RFC 3261 §25.1 allows none of these raw: a space or a quote would split or end
            // the header line the URI is written back into.
            guard !name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\"") }) else {
                throw SIPParseError("the user part of '\(text.prefix(80))' holds a space, a control character or one of < > \"")
            }
            user = try SIPURI.unescape(name)
        } else {
            user = nil
        }
        // Host and port: "[v6]:port", "[v6]", "host:port", "host".
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw SIPParseError("IPv6 reference in '\(text)' has no closing ']'") }
            host = try SIPHost.parse(s[...close])
            let rest = s[s.index(after: close)...]
            if rest.isEmpty {
                port = nil
            } else {
                guard rest.first == ":", let p = ASCIIDecimal.exact(rest.dropFirst(), in: 1...65535) else {
                    throw SIPParseError("bad port in '\(text)'")
                }
                port = p
            }
        } else {
            let colons = s.filter { $0 == ":" }.count
            if colons == 1, let c = s.firstIndex(of: ":") {
                guard let p = ASCIIDecimal.exact(s[s.index(after: c)...], in: 1...65535) else { throw SIPParseError("bad port in '\(text)'") }
                host = try SIPHost.parse(s[..<c])
                port = p
            } else {
                host = try SIPHost.parse(s)
                port = nil
            }
        }
        var params: [(String, String?)] = []
        if !paramText.isEmpty {
            for p in paramText.split(separator: ";", omittingEmptySubsequences: false) {
                guard !p.isEmpty else { throw SIPParseError("empty URI parameter in '\(text)'") }
                let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                params.append((String(kv[0]), kv.count > 1 ? String(kv[1]) : nil))
            }
        }
        parameters = params
    }

    static func unescape(_ s: Substring) throws(SIPParseError) -> String {
        guard s.contains("%") else { return String(s) }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = ASCIIHex.digit(bytes[bytes.startIndex]), let lo = ASCIIHex.digit(bytes[bytes.startIndex + 1]) else {
                    throw SIPParseError("bad %-escape in '\(s)'")
                }
                out.append(hi << 4 | lo)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A URI header's value (RFC 3261 §25.1 `hvalue`: unreserved and `[]/?:+$` as they are,
    /// everything else %-escaped — a Replaces value's `;`, `=` and `@` among them).
    package static func escapeHeaderValue(_ s: String) -> String { escape(s, keeping: "-_.!~*'()[]/?:+$") }

    static func escapeUser(_ s: String) -> String { escape(s, keeping: "-_.!~*'()&=+$,;?/") }

    /// `s` with every byte but letters, digits and `keeping` %-escaped.
    static func escape(_ s: String, keeping: String) -> String {
        var out = ""
        for b in s.utf8 {
            if ByteChecks.isAlpha(b) || ByteChecks.isDigit(b) || keeping.utf8.contains(b) {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                let h = String(b, radix: 16, uppercase: true)
                out += "%" + (h.count == 1 ? "0" + h : h)
            }
        }
        return out
    }

    public var description: String {
        var s = secure ? "sips:" : "sip:"
        if let user { s += SIPURI.escapeUser(user) + "@" }
        s += host.description
        if let port { s += ":\(port)" }
        for p in parameters { s += ";" + p.name + (p.value.map { "=" + $0 } ?? "") }
        if let headers { s += "?" + headers }
        return s
    }
}
