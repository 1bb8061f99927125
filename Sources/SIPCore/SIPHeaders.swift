import TipRingCore

/// CSeq: sequence number and method.
public struct CSeq: Sendable, Hashable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: SIPMethod
    public init(sequence: UInt32, method: SIPMethod) {
        self.sequence = sequence
        self.method = method
    }
    public init(_ text: String) throws(SIPParseError) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, let n = ASCIIDecimal.exact(parts[0], in: HeaderNumbers.cseq) else { throw SIPParseError("bad CSeq '\(text)'") }
        sequence = UInt32(truncatingIfNeeded: n)  // n is within HeaderNumbers.cseq
        method = SIPMethod(String(parts[1]))
    }
    public var description: String { "\(sequence) \(method)" }
}

/// Parameters `;name=value` as they follow a URI, Via or name-addr; values may be quoted.
public struct SIPParameters: Sendable, Hashable, CustomStringConvertible {
    public var items: [(name: String, value: String?)]

    public init(_ items: [(name: String, value: String?)] = []) { self.items = items }

    public static func == (a: SIPParameters, b: SIPParameters) -> Bool { a.description == b.description }
    public func hash(into h: inout Hasher) { h.combine(description) }

    public subscript(_ name: String) -> String?? {
        get { items.first { $0.name.lowercased() == name.lowercased() }.map { $0.value } }
        set {
            items.removeAll { $0.name.lowercased() == name.lowercased() }
            if let v = newValue { items.append((name, v)) }
        }
    }

    static func parse(_ text: Substring) throws(SIPParseError) -> SIPParameters {
        var out: [(String, String?)] = []
        for p in splitOutsideQuotes(text, ";") {
            let t = p.trimmingSpaces()
            if t.isEmpty { continue }
            if let eq = t.firstIndex(of: "=") {
                let name = t[..<eq].trimmingSpaces(), value = t[t.index(after: eq)...].trimmingSpaces()
                guard !name.isEmpty else { throw SIPParseError("parameter without a name in '\(text)'") }
                out.append((name, value))
            } else {
                out.append((t, nil))
            }
        }
        return SIPParameters(out)
    }

    public var description: String { items.map { ";" + $0.name + ($0.value.map { "=" + $0 } ?? "") }.joined() }
}

func splitOutsideQuotes(_ s: Substring, _ separator: Character) -> [Substring] {
    var out: [Substring] = []
    var start = s.startIndex
    var inQuotes = false, inBrackets = false
    var i = s.startIndex
    while i < s.endIndex {
        let c = s[i]
        if c == "\"" { inQuotes.toggle() }
        if c == "[" && !inQuotes { inBrackets = true }
        if c == "]" && !inQuotes { inBrackets = false }
        if c == separator && !inQuotes && !inBrackets {
            out.append(s[start..<i])
            start = s.index(after: i)
        }
        i = s.index(after: i)
    }
    out.append(s[start...])
    return out
}

/// One Via value: `SIP/2.0/UDP host:port;branch=…;rport;received=…`.
public struct Via: Sendable, Hashable, CustomStringConvertible {
    public var transport: String
    public var host: SIPHost
    public var port: Int?
    public var parameters: SIPParameters

    public init(transport: String, host: SIPHost, port: Int?, parameters: SIPParameters) {
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
    }

    public var branch: String? { parameters["branch"] ?? nil }

    public init(_ text: String) throws(SIPParseError) {
        let t = Substring(text.trimmingSpaces())
        let pieces = splitOutsideQuotes(t, ";")
        let sentPart = pieces[0].trimmingSpaces()
        // "SIP / 2.0 / UDP host" — LWS around the slashes is allowed.
        let compacted = sentPart.replacingSlashSpaces()
        let fields = compacted.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 2 else { throw SIPParseError("bad Via '\(text)'") }
        let proto = fields[0].split(separator: "/")
        guard proto.count == 3, proto[0].uppercased() == "SIP", proto[1] == "2.0" else { throw SIPParseError("bad Via protocol '\(fields[0])'") }
        transport = proto[2].uppercased()
        let hp = fields[1]
        if hp.hasPrefix("[") {
            guard let close = hp.firstIndex(of: "]") else { throw SIPParseError("bad Via host '\(hp)'") }
            host = try SIPHost.parse(hp[...close])
            let rest = hp[hp.index(after: close)...]
            if rest.isEmpty { port = nil } else {
                guard rest.first == ":", let p = ASCIIDecimal.exact(rest.dropFirst(), in: 1...65535) else { throw SIPParseError("bad Via port in '\(hp)'") }
                port = p
            }
        } else if let c = hp.firstIndex(of: ":") {
            host = try SIPHost.parse(hp[..<c])
            guard let p = ASCIIDecimal.exact(hp[hp.index(after: c)...], in: 1...65535) else { throw SIPParseError("bad Via port in '\(hp)'") }
            port = p
        } else {
            host = try SIPHost.parse(hp)
            port = nil
        }
        parameters = try SIPParameters.parse(pieces.dropFirst().map { ";" + $0 }.joined()[...])
        if case let .some(.some(received)) = parameters["received"] {
            // received= may hold an IPv6 address with or without brackets (RFC 5118 §4.5).
            let r = received.hasPrefix("[") ? Substring(received) : Substring(received.contains(":") ? "[\(received)]" : received)
            _ = try SIPHost.parse(r)
        }
    }

    public var description: String {
        "SIP/2.0/\(transport) \(host)" + (port.map { ":\($0)" } ?? "") + parameters.description
    }
}

/// A name-addr or addr-spec with parameters: `"Alice" <sip:alice@example.com>;tag=1`.
public struct NameAddress: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    /// The URI as written (sip:, sips:, tel:, …).
    public var uri: String
    public var parameters: SIPParameters

    public init(displayName: String? = nil, uri: String, parameters: SIPParameters = SIPParameters()) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public var tag: String? { parameters["tag"] ?? nil }

    public var sipURI: SIPURI? { try? SIPURI(uri) }

    public init(_ text: String) throws(SIPParseError) {
        var s = Substring(text.trimmingSpaces())
        if s == "*" { displayName = nil; uri = "*"; parameters = SIPParameters(); return }
        if let lt = s.firstIndex(of: "<") {
            var name = s[..<lt].trimmingSpaces()
            if name.hasPrefix("\"") {
                guard name.count >= 2, name.hasSuffix("\"") else { throw SIPParseError("unterminated display name in '\(text)'") }
                name = String(name.dropFirst().dropLast())
                var unescaped = ""
                var escape = false
                for c in name {
                    if escape { unescaped.append(c); escape = false } else if c == "\\" { escape = true } else { unescaped.append(c) }
                }
                name = unescaped
            }
            displayName = name.isEmpty ? nil : name
            guard let gt = s[lt...].firstIndex(of: ">") else { throw SIPParseError("missing '>' in '\(text)'") }
            uri = String(s[s.index(after: lt)..<gt])
            s = s[s.index(after: gt)...]
            parameters = try SIPParameters.parse(s)
        } else {
            // addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10).
            displayName = nil
            let pieces = splitOutsideQuotes(s, ";")
            uri = pieces[0].trimmingSpaces()
            parameters = try SIPParameters.parse(pieces.dropFirst().map { ";" + $0 }.joined()[...])
        }
        guard uri.contains(":") else { throw SIPParseError("'\(uri)' is not a URI") }
        if uri.lowercased().hasPrefix("sip:") || uri.lowercased().hasPrefix("sips:") { _ = try SIPURI(uri) }
    }

    public var description: String {
        var s = ""
        if let displayName {
            let escaped = displayName.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            s += "\"\(escaped)\" "
        }
        return s + "<\(uri)>" + parameters.description
    }
}

extension String {
    /// "SIP / 2.0 / UDP host" → "SIP/2.0/UDP host".
    func replacingSlashSpaces() -> String {
        var out = ""
        var pendingSpace = false
        for c in self {
            if c == " " || c == "\t" { pendingSpace = true; continue }
            if pendingSpace && c != "/" && out.last != "/" { out.append(" ") }
            pendingSpace = false
            out.append(c)
        }
        return out
    }
}
