/// A line and column in a text file, both counted from 1 (columns in UTF-8 bytes).
public struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// A parsed JSON5 value that remembers where it stood in its file.
///
/// Board and configuration files are JSON5 (comments, trailing commas, unquoted keys,
/// single-quoted strings, hex numbers). This parser keeps positions so that an error can
/// name the file, line, column and key path; it rejects duplicate keys, which JSON5
/// allows but which in a configuration file are always a mistake.
public struct JSON5Node: Sendable {
    public struct Member: Sendable {
        public var key: String
        public var keyPosition: SourcePosition
        public var value: JSON5Node
    }

    public enum Kind: Sendable {
        case null
        case bool(Bool)
        /// A number written without fraction or exponent that fits in 64 bits.
        case integer(Int64)
        case number(Double)
        case string(String)
        case array([JSON5Node])
        /// Members in file order.
        case object([Member])
    }

    public var kind: Kind
    public var position: SourcePosition

    /// What a person would call this kind of value, for error messages.
    public var kindName: String {
        switch kind {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A syntax error in a JSON5 text.
public struct JSON5SyntaxError: Error, Sendable, CustomStringConvertible {
    public var position: SourcePosition
    public var message: String
    public var description: String { "\(position): \(message)" }
}

/// Parses JSON5 text (UTF-8 bytes) into a ``JSON5Node`` tree.
public struct JSON5Parser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    /// Nesting deeper than this is refused rather than risking the stack.
    public static let maximumDepth = 64

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    public static func parse(_ bytes: [UInt8]) throws(JSON5SyntaxError) -> JSON5Node {
        var p = JSON5Parser(bytes)
        // A UTF-8 byte order mark is allowed at the start.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { p.index = 3; p.lineStart = 3 }
        try p.skipSpace()
        guard p.index < bytes.count else { throw p.error("the file is empty; expected a value") }
        let value = try p.parseValue()
        try p.skipSpace()
        if p.index < bytes.count {
            throw p.error("unexpected \(p.describe(p.bytes[p.index])) after the end of the value")
        }
        return value
    }

    public static func parse(_ text: String) throws(JSON5SyntaxError) -> JSON5Node {
        try parse(Array(text.utf8))
    }

    private var position: SourcePosition { SourcePosition(line: line, column: index - lineStart + 1) }

    private func error(_ message: String, at pos: SourcePosition? = nil) -> JSON5SyntaxError {
        JSON5SyntaxError(position: pos ?? position, message: message)
    }

    private func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        if b == 0x0A { return "end of line" }
        return "byte 0x\(String(b, radix: 16))"
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func advance() {
        if bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    private mutating func skipSpace() throws(JSON5SyntaxError) {
        while let b = peek {
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
                advance()
            case 0xC2 where index + 1 < bytes.count && bytes[index + 1] == 0xA0:  // NBSP
                index += 2
            case 0x2F:  // '/'
                guard index + 1 < bytes.count else { throw error("unexpected '/'") }
                if bytes[index + 1] == 0x2F {
                    while let c = peek, c != 0x0A { advance() }
                } else if bytes[index + 1] == 0x2A {
                    let start = position
                    index += 2
                    var closed = false
                    while index < bytes.count {
                        if bytes[index] == 0x2A, index + 1 < bytes.count, bytes[index + 1] == 0x2F {
                            index += 2
                            closed = true
                            break
                        }
                        advance()
                    }
                    if !closed { throw error("comment opened here is never closed with */", at: start) }
                } else {
                    throw error("unexpected '/' (comments start with // or /*)")
                }
            default:
                return
            }
        }
    }

    private mutating func parseValue() throws(JSON5SyntaxError) -> JSON5Node {
        let pos = position
        guard let b = peek else { throw error("unexpected end of file; expected a value") }
        switch b {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return JSON5Node(kind: .string(try parseString()), position: pos)
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            let word = identifier()
            switch word {
            case "null": return JSON5Node(kind: .null, position: pos)
            case "true": return JSON5Node(kind: .bool(true), position: pos)
            case "false": return JSON5Node(kind: .bool(false), position: pos)
            case "Infinity": return JSON5Node(kind: .number(.infinity), position: pos)
            case "NaN": return JSON5Node(kind: .number(.nan), position: pos)
            case "":
                throw error("unexpected \(describe(b)); expected a value")
            default:
                // The word itself is not repeated: it may be an unquoted password.
                throw error("unexpected word of \(word.count) character\(word.count == 1 ? "" : "s"); strings need quotes", at: pos)
            }
        }
    }

    private static func isIdentifierByte(_ b: UInt8, first: Bool) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "_"), UInt8(ascii: "$"), 0x80...0xFF:
            return true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return !first
        default:
            return false
        }
    }

    private mutating func identifier() -> String {
        let start = index
        while let b = peek, JSON5Parser.isIdentifierByte(b, first: index == start) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func enter() throws(JSON5SyntaxError) {
        depth += 1
        if depth > JSON5Parser.maximumDepth {
            throw error("values nested deeper than \(JSON5Parser.maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws(JSON5SyntaxError) -> JSON5Node {
        let pos = position
        try enter()
        index += 1
        var members: [JSON5Node.Member] = []
        var seen: [String: SourcePosition] = [:]
        while true {
            try skipSpace()
            guard let b = peek else { throw error("object opened at \(pos) is never closed with }") }
            if b == UInt8(ascii: "}") { index += 1; break }
            let keyPos = position
            let key: String
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                key = try parseString()
            } else {
                key = identifier()
                if key.isEmpty { throw error("unexpected \(describe(b)); expected a key or }") }
            }
            if let first = seen[key] {
                throw error("duplicate key '\(key)' (first given at \(first))", at: keyPos)
            }
            seen[key] = keyPos
            try skipSpace()
            guard peek == UInt8(ascii: ":") else {
                throw error("expected ':' after key '\(key)'")
            }
            index += 1
            try skipSpace()
            let value = try parseValue()
            members.append(.init(key: key, keyPosition: keyPos, value: value))
            try skipSpace()
            guard let c = peek else { throw error("object opened at \(pos) is never closed with }") }
            if c == UInt8(ascii: ",") { index += 1; continue }
            if c == UInt8(ascii: "}") { index += 1; break }
            throw error("unexpected \(describe(c)); expected ',' or '}' after the value of '\(key)'")
        }
        depth -= 1
        return JSON5Node(kind: .object(members), position: pos)
    }

    private mutating func parseArray() throws(JSON5SyntaxError) -> JSON5Node {
        let pos = position
        try enter()
        index += 1
        var items: [JSON5Node] = []
        while true {
            try skipSpace()
            guard let b = peek else { throw error("array opened at \(pos) is never closed with ]") }
            if b == UInt8(ascii: "]") { index += 1; break }
            items.append(try parseValue())
            try skipSpace()
            guard let c = peek else { throw error("array opened at \(pos) is never closed with ]") }
            if c == UInt8(ascii: ",") { index += 1; continue }
            if c == UInt8(ascii: "]") { index += 1; break }
            throw error("unexpected \(describe(c)); expected ',' or ']'")
        }
        depth -= 1
        return JSON5Node(kind: .array(items), position: pos)
    }

    private mutating func parseString() throws(JSON5SyntaxError) -> String {
        let start = position
        let quote = bytes[index]
        index += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw error("string opened at \(start) is never closed", at: start) }
            if b == quote { index += 1; break }
            if b == 0x0A || b == 0x0D { throw error("line break inside a string (end it with \\ to continue)") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                index += 1
                continue
            }
            index += 1
            guard let e = peek else { throw error("string opened at \(start) is never closed", at: start) }
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0"): out.append(0x00)
            case 0x0A:  // line continuation
                advance()
                continue
            case 0x0D:
                index += 1
                if peek == 0x0A { advance() }
                continue
            case UInt8(ascii: "x"):
                index += 1
                let v = try hexDigits(2)
                out.append(contentsOf: Array(String(Unicode.Scalar(UInt8(truncatingIfNeeded: v))).utf8))
                continue
            case UInt8(ascii: "u"):
                index += 1
                var v = try hexDigits(4)
                if (0xD800..<0xDC00).contains(v), index + 1 < bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    index += 2
                    let low = try hexDigits(4)
                    guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(v) else { throw error("\\u escape is not a character") }
                out.append(contentsOf: Array(String(scalar).utf8))
                continue
            default:
                out.append(e)  // \' \" \\ \/ and any other character stand for themselves
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hexDigits(_ n: Int) throws(JSON5SyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<n {
            guard let b = peek, let d = ASCIIHex.digit(b) else { throw error("expected \(n) hex digits") }
            v = v << 4 | UInt32(truncatingIfNeeded: d)
            index += 1
        }
        return v
    }

    private mutating func parseNumber() throws(JSON5SyntaxError) -> JSON5Node {
        let pos = position
        var negative = false
        if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") {
            negative = peek == UInt8(ascii: "-")
            index += 1
        }
        if peek == UInt8(ascii: "I") || peek == UInt8(ascii: "N") {
            let word = identifier()
            if word == "Infinity" { return JSON5Node(kind: .number(negative ? -.infinity : .infinity), position: pos) }
            if word == "NaN" { return JSON5Node(kind: .number(.nan), position: pos) }
            throw error("malformed number", at: pos)
        }
        if peek == UInt8(ascii: "0"), index + 1 < bytes.count, bytes[index + 1] | 0x20 == UInt8(ascii: "x") {
            index += 2
            var v: UInt64 = 0
            var digits = 0
            while let b = peek, let d = ASCIIHex.digit(b) {
                let (m, o1) = v.multipliedReportingOverflow(by: 16)
                guard !o1, m <= UInt64(Int64.max) else { throw error("hex number too large", at: pos) }
                v = m + UInt64(d)
                digits += 1
                index += 1
            }
            guard digits > 0 else { throw error("malformed hex number", at: pos) }
            let iv = Int64(v)
            return JSON5Node(kind: .integer(negative ? -iv : iv), position: pos)
        }
        let start = index
        var isInteger = true
        var sawDigit = false
        while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { index += 1; sawDigit = true }
        if peek == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { index += 1; sawDigit = true }
        }
        guard sawDigit else { throw error("malformed number", at: pos) }
        if let b = peek, b | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            var expDigits = 0
            while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { index += 1; expDigits += 1 }
            guard expDigits > 0 else { throw error("malformed number exponent", at: pos) }
        }
        if let b = peek, JSON5Parser.isIdentifierByte(b, first: false) {
            throw error("malformed number", at: pos)
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let v = Int64(text) {
            return JSON5Node(kind: .integer(negative ? -v : v), position: pos)
        }
        guard let d = Double(text.hasSuffix(".") ? text + "0" : (text.hasPrefix(".") ? "0" + text : text)) else {
            throw error("malformed number", at: pos)
        }
        return JSON5Node(kind: .number(negative ? -d : d), position: pos)
    }
}
