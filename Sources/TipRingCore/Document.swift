/// An error in a user's file (board file, configuration), saying where and what to fix:
/// `boards/x.json5:12:9: ports[0].signals.hookSense.line: 70000 is out of range 0…1023`.
public struct DocumentError: Error, Sendable, CustomStringConvertible, Hashable {
    public var file: String
    public var position: SourcePosition?
    /// The key path inside the document (`ports[0].audio.periodMs`); empty for the root.
    public var path: String
    public var message: String

    public init(file: String, position: SourcePosition?, path: String, message: String) {
        self.file = file
        self.position = position
        self.path = path
        self.message = message
    }

    public var description: String {
        var s = file
        if let position { s += ":\(position)" }
        s += ": "
        if !path.isEmpty { s += "\(path): " }
        return s + message
    }
}

/// A value of a parsed document together with its file and key path.
///
/// Decoding code walks a document with these: each accessor checks the value's type and
/// range and throws a ``DocumentError`` naming file, line, column and key path. Objects are
/// opened with the complete list of keys they may hold, so a misspelt key is reported
/// (with the closest valid key) instead of being silently ignored.
public struct DocumentValue: Sendable {
    public let node: JSON5Node
    public let file: String
    public let path: String

    public init(node: JSON5Node, file: String, path: String = "") {
        self.node = node
        self.file = file
        self.path = path
    }

    /// Parses a whole document; syntax errors become ``DocumentError``s.
    public static func parse(_ bytes: [UInt8], file: String) throws(DocumentError) -> DocumentValue {
        do {
            return DocumentValue(node: try JSON5Parser.parse(bytes), file: file)
        } catch {
            throw DocumentError(file: file, position: error.position, path: "", message: error.message)
        }
    }

    /// Reads and parses a file; an unreadable file is a ``DocumentError`` too.
    public static func load(path: String) throws(DocumentError) -> DocumentValue {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path: path)
        } catch {
            throw DocumentError(file: path, position: nil, path: "", message: error.description)
        }
        return try parse(bytes, file: path)
    }

    public func error(_ message: String) -> DocumentError {
        DocumentError(file: file, position: node.position, path: path, message: message)
    }

    private func typeError(_ expected: String) -> DocumentError {
        error("expected \(expected), found \(node.kindName)")
    }

    public func string() throws(DocumentError) -> String {
        guard case .string(let s) = node.kind else { throw typeError("a string") }
        return s
    }

    /// A non-empty string.
    public func nonEmptyString() throws(DocumentError) -> String {
        let s = try string()
        if s.isEmpty { throw error("must not be empty") }
        return s
    }

    public func bool() throws(DocumentError) -> Bool {
        guard case .bool(let b) = node.kind else { throw typeError("true or false") }
        return b
    }

    public func integer(in range: ClosedRange<Int64>) throws(DocumentError) -> Int64 {
        let v: Int64
        switch node.kind {
        case .integer(let i): v = i
        case .number(let d) where d.rounded() == d && abs(d) < 9e15: v = Int64(d)
        case .number: throw error("expected a whole number, found \(numberText)")
        default: throw typeError("a whole number")
        }
        guard range.contains(v) else { throw error("\(v) is out of range \(range.lowerBound)…\(range.upperBound)") }
        return v
    }

    public func int(in range: ClosedRange<Int>) throws(DocumentError) -> Int {
        Int(try integer(in: Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    public func number(in range: ClosedRange<Double>) throws(DocumentError) -> Double {
        let v: Double
        switch node.kind {
        case .integer(let i): v = Double(i)
        case .number(let d): v = d
        default: throw typeError("a number")
        }
        guard v.isFinite, range.contains(v) else {
            throw error("\(numberText) is out of range \(Self.format(range.lowerBound))…\(Self.format(range.upperBound))")
        }
        return v
    }

    /// One of a fixed set of words; the error lists them.
    public func oneOf(_ choices: [String]) throws(DocumentError) -> String {
        let s = try string()
        guard choices.contains(s) else {
            var m = "'\(s)' is not one of: \(choices.joined(separator: ", "))"
            if let near = Self.suggestion(for: s, among: choices) { m += " (did you mean '\(near)'?)" }
            throw error(m)
        }
        return s
    }

    public func array() throws(DocumentError) -> [DocumentValue] {
        guard case .array(let items) = node.kind else { throw typeError("an array") }
        return items.enumerated().map { DocumentValue(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    /// Opens an object whose keys must all be among `allowed`.
    public func object(allowed: [String]) throws(DocumentError) -> DocumentObject {
        var unknown: [DocumentError] = []
        let o = try object(allowed: allowed, unknown: &unknown)
        if let first = unknown.first { throw first }
        return o
    }

    /// Opens an object; each key not among `allowed` goes to `unknown` (with the nearest valid
    /// key when one is close), and the object opens all the same.
    public func object(allowed: [String], unknown: inout [DocumentError]) throws(DocumentError) -> DocumentObject {
        guard case .object(let members) = node.kind else { throw typeError("an object") }
        for m in members where !allowed.contains(m.key) {
            var message = "unknown key '\(m.key)'"
            if let near = Self.suggestion(for: m.key, among: allowed) {
                message += " (did you mean '\(near)'?)"
            } else {
                message += " (valid keys: \(allowed.joined(separator: ", ")))"
            }
            unknown.append(DocumentError(file: file, position: m.keyPosition, path: child(m.key), message: message))
        }
        return DocumentObject(value: self, members: members)
    }

    public func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private var numberText: String {
        switch node.kind {
        case .integer(let i): "\(i)"
        case .number(let d): Self.format(d)
        default: node.kindName
        }
    }

    static func format(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? "\(Int64(d))" : "\(d)"
    }

    /// The closest candidate by edit distance (case-insensitive), if it is close enough to
    /// be a likely typo.
    public static func suggestion(for word: String, among candidates: [String]) -> String? {
        let w = Array(word.lowercased().utf8)
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(w, Array(c.lowercased().utf8))
            if best == nil || d < best!.1 { best = (c, d) }
        }
        guard let (c, d) = best else { return nil }
        return d <= max(1, w.count / 3) && d < w.count ? c : nil
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and
    /// transpositions of neighbours each cost one (typos swap letters).
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}

/// An object of a document, opened with its allowed keys.
public struct DocumentObject: Sendable {
    public let value: DocumentValue
    let members: [JSON5Node.Member]

    public var keys: [String] { members.map(\.key) }

    public func contains(_ key: String) -> Bool { members.contains { $0.key == key } }

    /// The value at `key`, or nil when the key is absent.
    public func optional(_ key: String) -> DocumentValue? {
        guard let m = members.first(where: { $0.key == key }) else { return nil }
        return DocumentValue(node: m.value, file: value.file, path: value.child(key))
    }

    /// The value at `key`; its absence is an error naming the key.
    public func required(_ key: String) throws(DocumentError) -> DocumentValue {
        guard let v = optional(key) else { throw value.error("missing required key '\(key)'") }
        return v
    }
}
