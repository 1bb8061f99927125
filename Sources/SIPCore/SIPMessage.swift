/// A malformed SIP message (or part of one), with what was wrong. The text quotes parts of
/// what a peer sent: control bytes in it (a bare CR, an ESC) are shown escaped, never passed
/// on to a log, a terminal or a 400's reason phrase.
public struct SIPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) {
        var clean = ""
        for u in description.unicodeScalars {
            if u.value < 0x20 || (0x7F...0x9F).contains(u.value) {
                clean += "\\x" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16, uppercase: true)
            } else {
                clean.unicodeScalars.append(u)
            }
        }
        self.description = clean
    }
}

/// SIP request methods.
public struct SIPMethod: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ s: String) { rawValue = s }
    public var description: String { rawValue }

    public static let invite = SIPMethod("INVITE"), ack = SIPMethod("ACK"), bye = SIPMethod("BYE")
    public static let cancel = SIPMethod("CANCEL"), register = SIPMethod("REGISTER"), options = SIPMethod("OPTIONS")
    public static let info = SIPMethod("INFO"), prack = SIPMethod("PRACK"), update = SIPMethod("UPDATE")
    public static let subscribe = SIPMethod("SUBSCRIBE"), notify = SIPMethod("NOTIFY"), refer = SIPMethod("REFER")
    public static let message = SIPMethod("MESSAGE")
}

/// One header field as it appeared (name as written, value unfolded and trimmed), with
/// its canonical name worked out once.
public struct SIPHeader: Sendable, Hashable {
    public var name: String {
        didSet {
            canonical = SIPHeaderName.canonical(name)
            id = SIPHeaderName.id(of: canonical)
        }
    }
    public var value: String
    /// The canonical spelling of `name` (compact forms expanded).
    public private(set) var canonical: String
    /// The index of the canonical name among the known names (−1 for others): lookups
    /// compare numbers, not strings.
    var id: Int

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
        canonical = SIPHeaderName.canonical(name)
        id = SIPHeaderName.id(of: canonical)
    }

    init(name: String, value: String, canonical: String, id: Int) {
        self.name = name
        self.value = value
        self.canonical = canonical
        self.id = id
    }
}

/// A SIP request or response (RFC 3261 §7).
public struct SIPMessage: Sendable, Hashable {
    public enum StartLine: Sendable, Hashable {
        case request(method: SIPMethod, uri: String)
        case response(status: Int, reason: String)
    }

    public var startLine: StartLine
    /// Header fields in order (comma-joined fields stay as written).
    public var headers: [SIPHeader]
    public var body: [UInt8]

    public init(startLine: StartLine, headers: [SIPHeader] = [], body: [UInt8] = []) {
        self.startLine = startLine
        self.headers = headers
        self.body = body
    }

    public var isRequest: Bool { if case .request = startLine { true } else { false } }

    public var method: SIPMethod? { if case .request(let m, _) = startLine { m } else { nil } }
    public var status: Int? { if case .response(let s, _) = startLine { s } else { nil } }

    /// Every value of a header, by canonical or compact name (case-insensitive),
    /// comma-separated list headers split into their elements.
    public func values(_ name: String) -> [String] {
        let canonical = SIPHeaderName.canonical(name)
        let id = SIPHeaderName.id(of: canonical)
        var out: [String] = []
        for h in headers where id >= 0 ? h.id == id : h.canonical == canonical {
            if SIPHeaderName.isList(canonical) {
                out += SIPHeaderName.splitList(h.value)
            } else {
                out.append(h.value)
            }
        }
        return out
    }

    /// The first value of a header.
    public subscript(_ name: String) -> String? {
        let canonical = SIPHeaderName.canonical(name)
        let id = SIPHeaderName.id(of: canonical)
        guard let h = headers.first(where: { id >= 0 ? $0.id == id : $0.canonical == canonical }) else { return nil }
        return SIPHeaderName.isList(canonical) ? SIPHeaderName.firstListElement(h.value) : h.value
    }

    /// The first value of a known header by id (no name lookups).
    func first(id: Int) -> String? {
        guard let h = headers.first(where: { $0.id == id }) else { return nil }
        return SIPHeaderName.isList(h.canonical) ? SIPHeaderName.firstListElement(h.value) : h.value
    }

    /// Replaces every occurrence of a header with one field (or removes it when nil).
    public mutating func set(_ name: String, _ value: String?) {
        let canonical = SIPHeaderName.canonical(name)
        let index = headers.firstIndex { $0.canonical == canonical }
        headers.removeAll { $0.canonical == canonical }
        guard let value else { return }
        headers.insert(SIPHeader(canonical, value), at: min(index ?? headers.count, headers.count))
    }

    /// Replaces the first value of a header (the top Via, say), keeping any that follow it in
    /// the same field.
    public mutating func replaceFirst(_ name: String, with value: String) {
        let canonical = SIPHeaderName.canonical(name)
        guard let i = headers.firstIndex(where: { $0.canonical == canonical }) else { return add(name, value) }
        var elements = SIPHeaderName.isList(canonical) ? SIPHeaderName.splitList(headers[i].value) : [headers[i].value]
        elements[0] = value
        headers[i] = SIPHeader(canonical, elements.joined(separator: ", "))
    }

    /// Adds a header field at the end (or at the top, for Via and Record-Route stacking).
    public mutating func add(_ name: String, _ value: String, atTop: Bool = false) {
        let h = SIPHeader(SIPHeaderName.canonical(name), value)
        if atTop, let i = headers.firstIndex(where: { $0.canonical == h.canonical }) {
            headers.insert(h, at: i)
        } else {
            headers.append(h)
        }
    }

    /// The wire form: start line, headers (canonical names), Content-Length, blank line, body.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        var size = 64 + body.count
        for h in headers { size += h.canonical.utf8.count + h.value.utf8.count + 4 }
        out.reserveCapacity(size)
        switch startLine {
        case .request(let m, let uri):
            out += Array("\(m.rawValue) \(uri) SIP/2.0\r\n".utf8)
        case .response(let s, let r):
            out += Array("SIP/2.0 \(s) \(r)\r\n".utf8)
        }
        for h in headers where h.canonical != "Content-Length" {
            out.append(contentsOf: h.canonical.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: h.value.utf8)
            out.append(13)
            out.append(10)
        }
        out.append(contentsOf: "Content-Length: ".utf8)
        out.append(contentsOf: String(body.count).utf8)
        out.append(contentsOf: [13, 10, 13, 10])
        out += body
        return out
    }
}

/// Header names: canonical spelling, compact forms (RFC 3261 §7.3.3 and extensions), and
/// which headers carry comma-separated lists.
public enum SIPHeaderName {
    static let compact: [String: String] = [
        "i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
        "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
        "o": "Event", "r": "Refer-To", "u": "Allow-Events", "x": "Session-Expires", "b": "Referred-By",
        "a": "Accept-Contact", "j": "Reject-Contact", "d": "Request-Disposition", "y": "Identity",
    ]
    static let known: [String] = [
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Content-Length", "Content-Type",
        "Expires", "Min-Expires", "Route", "Record-Route", "Allow", "Supported", "Require", "Proxy-Require",
        "Unsupported", "WWW-Authenticate", "Authorization", "Proxy-Authenticate", "Proxy-Authorization",
        "User-Agent", "Server", "Event", "Subscription-State", "Session-Expires", "Min-SE", "RSeq", "RAck",
        "P-Asserted-Identity", "Privacy", "Retry-After", "Accept", "Allow-Events", "Content-Encoding",
        "Subject", "Refer-To", "Referred-By", "Warning", "Timestamp", "Date", "Reason", "Path",
        "Service-Route", "Organization", "Accept-Encoding", "Accept-Language", "Content-Disposition",
    ]
    static let byLowercase: [String: String] = Dictionary(uniqueKeysWithValues: known.map { ($0.lowercased(), $0) })
    static let ids: [String: Int] = Dictionary(uniqueKeysWithValues: known.enumerated().map { ($1, $0) })
    /// Known names by length, lower-cased bytes, for matching raw header names.
    static let byLength: [[(lower: [UInt8], exact: [UInt8], name: String, id: Int)]] = {
        var t = [[(lower: [UInt8], exact: [UInt8], name: String, id: Int)]](repeating: [], count: 32)
        for (i, k) in known.enumerated() where k.utf8.count < 32 { t[k.utf8.count].append((Array(k.lowercased().utf8), Array(k.utf8), k, i)) }
        return t
    }()

    static func id(of canonical: String) -> Int { ids[canonical] ?? -1 }
    static let toID = id(of: "To"), fromID = id(of: "From"), callIDID = id(of: "Call-ID")
    static let cseqID = id(of: "CSeq"), viaID = id(of: "Via"), maxForwardsID = id(of: "Max-Forwards")
    static let contentLengthID = id(of: "Content-Length")

    /// The canonical name and id of a raw header name, matched on bytes, and whether it was
    /// spelled exactly so (then the canonical string serves as the name too).
    static func canonical(bytes: UnsafeBufferPointer<UInt8>) -> (String, Int, exact: Bool) {
        if bytes.count == 1, let full = compact[String(UnicodeScalar(bytes[0] | 0x20))] { return (full, id(of: full), false) }
        if bytes.count < 32 {
            outer: for c in byLength[bytes.count] {
                var exact = true
                for k in 0..<bytes.count {
                    let b = bytes[k]
                    if b != c.exact[k] {
                        exact = false
                        if (b | (b >= 65 && b <= 90 ? 0x20 : 0)) != c.lower[k] { continue outer }
                    }
                }
                return (c.name, c.id, exact)
            }
        }
        let name = String(decoding: bytes, as: UTF8.self)
        return (name, -1, true)
    }

    /// The first element of a list value, without splitting the rest.
    public static func firstListElement(_ value: String) -> String {
        var inQuotes = false, inAngle = false, escaped = false
        var end = value.utf8.endIndex
        for i in value.utf8.indices {
            let c = value.utf8[i]
            if escaped { escaped = false; continue }
            if c == 92 && inQuotes { escaped = true; continue }
            if c == 34 { inQuotes.toggle() } else if c == 60 && !inQuotes { inAngle = true } else if c == 62 && !inQuotes { inAngle = false } else if c == 44 && !inQuotes && !inAngle { end = i; break }
        }
        var a = value.utf8.startIndex, b = end
        while a < b, value.utf8[a] == 32 || value.utf8[a] == 9 { a = value.utf8.index(after: a) }
        while b > a, value.utf8[value.utf8.index(before: b)] == 32 || value.utf8[value.utf8.index(before: b)] == 9 { b = value.utf8.index(before: b) }
        return String(value[a..<b])
    }
    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1). Authentication
    /// headers are not: their parameters are comma-separated.
    static let lists: Set<String> = [
        "Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require", "Proxy-Require",
        "Unsupported", "Accept", "Allow-Events", "Content-Encoding", "Path", "Service-Route",
        "P-Asserted-Identity", "Accept-Encoding", "Accept-Language", "Privacy",
    ]

    /// Names already in canonical form, and their common lower-case forms, found without
    /// lower-casing anything.
    static let exact: [String: String] = {
        var d: [String: String] = [:]
        for k in known { d[k] = k; d[k.lowercased()] = k }
        for (c, full) in compact { d[c] = full; d[c.uppercased()] = full }
        d["Call-Id"] = "Call-ID"; d["Cseq"] = "CSeq"; d["Www-Authenticate"] = "WWW-Authenticate"
        return d
    }()

    /// The canonical spelling of a header name (unknown names keep theirs).
    public static func canonical(_ name: String) -> String {
        if let c = exact[name] { return c }
        let lower = name.lowercased()
        if lower.count == 1, let full = compact[lower] { return full }
        return byLowercase[lower] ?? name
    }

    public static func isList(_ canonical: String) -> Bool { lists.contains(canonical) }

    /// Splits a list value at commas outside quotes and angle brackets.
    public static func splitList(_ value: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inQuotes = false, inAngle = false, escaped = false
        for ch in value {
            if escaped { current.append(ch); escaped = false; continue }
            switch ch {
            case "\\" where inQuotes: escaped = true; current.append(ch)
            case "\"": inQuotes.toggle(); current.append(ch)
            case "<" where !inQuotes: inAngle = true; current.append(ch)
            case ">" where !inQuotes: inAngle = false; current.append(ch)
            case "," where !inQuotes && !inAngle:
                out.append(current.trimmingSpaces())
                current = ""
            default: current.append(ch)
            }
        }
        let last = current.trimmingSpaces()
        if !last.isEmpty || !out.isEmpty { out.append(last) }
        return out.filter { !$0.isEmpty }
    }
}

extension StringProtocol {
    package func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
