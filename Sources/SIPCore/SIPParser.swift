import TipRingCore

/// Parses SIP messages from bytes (RFC 3261 §7, §25).
///
/// Tolerant where the RFC says so — compact header names, any case of names, folded
/// lines, LWS around colons, bare LF line ends — and strict where it says reject: a
/// malformed start line, a missing mandatory header, a Content-Length larger than what
/// arrived, CSeq or Max-Forwards that are not numbers.
public enum SIPParser {
    /// Parses one whole message (a datagram). A body longer than Content-Length is cut to
    /// it; a shorter one is an error.
    public static func parse(_ bytes: [UInt8]) throws(SIPParseError) -> SIPMessage {
        guard let (head, bodyStart) = splitHead(bytes[...]) else {
            throw SIPParseError("no blank line after the headers")
        }
        var message = try parseHead(head)
        let declared = try contentLength(message)
        let available = bytes.count - bodyStart
        if let declared {
            guard declared <= available else {
                throw SIPParseError("Content-Length \(declared) but only \(available) body bytes")
            }
            message.body = Array(bytes[bodyStart..<(bodyStart + declared)])
        } else {
            message.body = Array(bytes[bodyStart...])
        }
        return message
    }

    /// Finds the end of the header block: returns the header bytes and where the body starts.
    static func splitHead(_ bytes: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, Int)? {
        let found: (Int, Int, Int)? = bytes.withUnsafeBufferPointer { b in
            var i = 0
            // Leading CRLFs (keep-alives) are skipped (RFC 3261 §7.5).
            while i < b.count, b[i] == 13 || b[i] == 10 { i += 1 }
            let start = i
            while i < b.count {
                if b[i] == 10 {
                    // "\n\n" or "\n\r\n" ends the head.
                    if i + 1 < b.count, b[i + 1] == 10 { return (start, i, i + 2) }
                    if i + 2 < b.count, b[i + 1] == 13, b[i + 2] == 10 { return (start, i, i + 3) }
                }
                i += 1
            }
            return nil
        }
        guard let (s, e, body) = found else { return nil }
        let base = bytes.startIndex
        return (bytes[(base + s)..<(base + e)], base + body)
    }

    static func parseHead(_ head: ArraySlice<UInt8>) throws(SIPParseError) -> SIPMessage {
        let r: Result<SIPMessage, SIPParseError> = head.withUnsafeBufferPointer { buf in
            do throws(SIPParseError) { return .success(try parseHead(buf)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// Walks the header block line by line on bytes; folded lines (rare) are joined.
    static func parseHead(_ head: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> SIPMessage {
        var startLine: SIPMessage.StartLine?
        var headers: [SIPHeader] = []
        headers.reserveCapacity(16)
        let end = head.count
        var i = 0
        // The header being read: its bytes in `head`, or (after folding) a copy.
        var current: (Int, Int)?
        var folded: [UInt8]?
        func finish() throws(SIPParseError) {
            if let f = folded {
                try f.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(SIPParseError) in try header(b) }
            } else if let (a, b) = current {
                try header(UnsafeBufferPointer(rebasing: head[a..<b]))
            }
            current = nil
            folded = nil
        }
        func header(_ bytes: UnsafeBufferPointer<UInt8>) throws(SIPParseError) {
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
                throw SIPParseError("header line without ':': '\(String(decoding: bytes.prefix(60), as: UTF8.self))'")
            }
            var a = 0, b = colon
            while a < b, bytes[a] == 32 || bytes[a] == 9 { a += 1 }
            while b > a, bytes[b - 1] == 32 || bytes[b - 1] == 9 { b -= 1 }
            guard a < b else { throw SIPParseError("header without a name") }
            for k in a..<b where bytes[k] <= 32 || bytes[k] >= 127 || bytes[k] == UInt8(ascii: "\"") {
                throw SIPParseError("bad header name '\(String(decoding: bytes[a..<b], as: UTF8.self))'")
            }
            var c = colon + 1, d = bytes.count
            while c < d, bytes[c] == 32 || bytes[c] == 9 { c += 1 }
            while d > c, bytes[d - 1] == 32 || bytes[d - 1] == 9 { d -= 1 }
            let nameBytes = UnsafeBufferPointer(rebasing: bytes[a..<b])
            let (canonical, id, exact) = SIPHeaderName.canonical(bytes: nameBytes)
            let name = exact ? canonical : String(decoding: nameBytes, as: UTF8.self)
            headers.append(SIPHeader(name: name, value: String(decoding: bytes[c..<d], as: UTF8.self), canonical: canonical, id: id))
        }
        while i < end {
            var le = i
            while le < end && head[le] != 10 {
                // A NUL only as a quoted-pair ("\\" NUL inside a quoted string, RFC 3261 §25.1).
                if head[le] == 0, !(le > i && head[le - 1] == 92) { throw SIPParseError("NUL byte in the header section") }
                le += 1
            }
            var a = i
            var b = le
            if startLine == nil {
                // The start line keeps its spaces: "SIP/2.0 " at the end of a request line is an
                // error (RFC 4475 §3.1.2.11); an empty reason phrase after "100 " is not.
                if b > a, head[b - 1] == 13 { b -= 1 }
                guard a < b else { throw SIPParseError("empty message") }
                startLine = try parseStartLine(UnsafeBufferPointer(rebasing: head[a..<b]))
                i = le + 1
                continue
            }
            while b > a, head[b - 1] == 13 || head[b - 1] == 32 || head[b - 1] == 9 { b -= 1 }
            let continuation = head[i] == 32 || head[i] == 9
            while a < b, head[a] == 32 || head[a] == 9 { a += 1 }
            if continuation && i < le {
                // Continuation: the line break and the white space around it are one space.
                guard current != nil || folded != nil else { throw SIPParseError("continuation line without a header") }
                var f = folded ?? current.map { Array(head[$0.0..<$0.1]) } ?? []
                while let l = f.last, l == 32 || l == 9 { f.removeLast() }
                f.append(32)
                f.append(contentsOf: head[a..<b])
                folded = f
            } else if a < b {
                try finish()
                current = (a, b)
            }
            i = le + 1
        }
        try finish()
        guard let startLine else { throw SIPParseError("empty message") }
        let message = SIPMessage(startLine: startLine, headers: headers)
        try validate(message)
        return message
    }

    static func parseStartLine(_ line: String) throws(SIPParseError) -> SIPMessage.StartLine {
        let bytes = Array(line.utf8)
        let r: Result<SIPMessage.StartLine, SIPParseError> = bytes.withUnsafeBufferPointer { b in
            do throws(SIPParseError) { return .success(try parseStartLine(b)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    static func parseStartLine(_ b: UnsafeBufferPointer<UInt8>) throws(SIPParseError) -> SIPMessage.StartLine {
        var line: String { String(decoding: b, as: UTF8.self) }
        // Three fields separated by single spaces (the reason phrase may hold spaces).
        guard let s1 = b.firstIndex(of: 32) else { throw SIPParseError("bad start line '\(line.prefix(60))'") }
        let rest = s1 + 1
        let s2 = b[rest...].firstIndex(of: 32)
        func text(_ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }
        if b.count >= 4, b[0] == 83, b[1] == 73, b[2] == 80, b[3] == 47 {
            guard text(0..<s1) == "SIP/2.0" else { throw SIPParseError("bad status line '\(line.prefix(60))'") }
            let codeEnd = s2 ?? b.count
            guard codeEnd - rest == 3, b[rest..<codeEnd].allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw SIPParseError("bad status code '\(text(rest..<codeEnd))'")
            }
            let code = Int(b[rest] - 48) * 100 + Int(b[rest + 1] - 48) * 10 + Int(b[rest + 2] - 48)
            guard (100...699).contains(code) else { throw SIPParseError("bad status code '\(code)'") }
            return .response(status: code, reason: s2.map { text(($0 + 1)..<b.count) } ?? "")
        }
        guard let s2, s2 > rest, !b[(s2 + 1)...].contains(32) else { throw SIPParseError("bad request line '\(line.prefix(60))'") }
        guard text((s2 + 1)..<b.count) == "SIP/2.0" else { throw SIPParseError("unsupported SIP version '\(text((s2 + 1)..<b.count))'") }
        // A method is any token (RFC 3261 §25.1: `!interesting-Method` and `RE%47IST%45R` are methods).
        guard s1 > 0, b[0..<s1].allSatisfy(ByteChecks.isToken) else {
            throw SIPParseError("bad method '\(text(0..<s1))'")
        }
        let uri = text(rest..<s2)
        guard b[rest..<s2].contains(58) else { throw SIPParseError("Request-URI '\(uri)' has no scheme") }
        try ByteChecks.uri(UnsafeBufferPointer(rebasing: b[rest..<s2]), whole: uri, requestURI: true)
        return .request(method: SIPMethod(text(0..<s1)), uri: uri)
    }

    static func validate(_ m: SIPMessage) throws(SIPParseError) {
        var seen = 0, twice = 0
        let to = SIPHeaderName.toID, from = SIPHeaderName.fromID, callID = SIPHeaderName.callIDID
        let cseq = SIPHeaderName.cseqID, via = SIPHeaderName.viaID
        let maxForwards = SIPHeaderName.maxForwardsID, contentLength = SIPHeaderName.contentLengthID
        for h in m.headers {
            let bit: Int
            switch h.id {
            case to: bit = 1
            case from: bit = 2
            case callID: bit = 4
            case cseq: bit = 8
            case via: bit = 16
            case maxForwards: bit = 32
            case contentLength: bit = 64
            default: continue
            }
            if seen & bit != 0 { twice |= bit }
            seen |= bit
        }
        for (bit, name) in [(1, "To"), (2, "From"), (4, "Call-ID"), (8, "CSeq"), (16, "Via")] where seen & bit == 0 {
            throw SIPParseError("missing mandatory header \(name)")
        }
        // One value only (RFC 4475 §3.1.2.4): which of two Call-IDs would be the dialog's?
        for (bit, name) in [(1, "To"), (2, "From"), (4, "Call-ID"), (8, "CSeq"), (32, "Max-Forwards"), (64, "Content-Length")] where twice & bit != 0 {
            throw SIPParseError("more than one \(name) header")
        }
        if m.isRequest, let mf = m.first(id: SIPHeaderName.maxForwardsID) {
            guard ASCIIDecimal.exact(mf, in: 0...255) != nil else { throw SIPParseError("Max-Forwards '\(mf)' is not a number 0–255") }
        }
        guard let cseqValue = m.first(id: cseq), let topVia = m.headers.first(where: { $0.id == via }),
              let fromValue = m.first(id: from), let toValue = m.first(id: to) else { throw SIPParseError("missing mandatory header") }
        try ByteChecks.cseq(cseqValue, method: m.method)
        // The top Via is the one a UA acts on; the others are checked when read.
        // (The byte check stops at the first element's end, so the list needs no splitting.)
        try ByteChecks.via(topVia.value)
        try ByteChecks.nameAddress(fromValue)
        try ByteChecks.nameAddress(toValue)
    }

    static func contentLength(_ m: SIPMessage) throws(SIPParseError) -> Int? {
        guard let v = m.first(id: SIPHeaderName.contentLengthID) else { return nil }
        guard let n = ASCIIDecimal.exact(v, in: HeaderNumbers.contentLength, maxDigits: 10) else { throw SIPParseError("Content-Length '\(v)' is not a number") }
        return n
    }

    /// A 400 response to a request that could not be parsed, when enough of it is
    /// readable to answer (Via, From, To, Call-ID, CSeq copied as found).
    public static func badRequestResponse(to bytes: [UInt8], error: SIPParseError) -> SIPMessage? {
        guard let (head, _) = splitHead(bytes[...]) else { return nil }
        let text = String(decoding: head, as: UTF8.self)
        var headers: [SIPHeader] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = SIPHeaderName.canonical(line[..<colon].trimmingSpaces())
            if ["Via", "From", "To", "Call-ID", "CSeq"].contains(name) {
                headers.append(SIPHeader(name, line[line.index(after: colon)...].trimmingSpaces()))
            }
        }
        guard text.hasPrefix("SIP/") == false, headers.contains(where: { $0.name == "Via" }) else { return nil }
        let reason = "Bad Request (" + error.description.filter { $0 != "\r" && $0 != "\n" }.prefix(80) + ")"
        return SIPMessage(startLine: .response(status: 400, reason: reason), headers: headers)
    }
}

/// Frames messages on a stream transport (TCP/TLS) by Content-Length, whatever the
/// segmentation: feed bytes as they arrive, take whole messages out.
public struct SIPStreamFramer: Sendable {
    var buffer: [UInt8] = []
    /// Refuse to buffer more than this without a complete message (a broken peer).
    public var maximumMessageSize = 65_536

    public init() {}

    /// Adds bytes; returns each complete message (or the error that ends the stream).
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(SIPParseError) -> [SIPMessage] {
        buffer.append(contentsOf: bytes)
        var out: [SIPMessage] = []
        while true {
            // Keep-alive CRLFs between messages.
            var skip = 0
            while skip < buffer.count, buffer[skip] == 13 || buffer[skip] == 10 { skip += 1 }
            if skip > 0 { buffer.removeFirst(skip) }
            guard let (head, bodyStart) = SIPParser.splitHead(buffer[...]) else {
                if buffer.count > maximumMessageSize { throw SIPParseError("header section larger than \(maximumMessageSize) bytes") }
                return out
            }
            let message = try SIPParser.parseHead(head)
            guard let length = try SIPParser.contentLength(message) else {
                throw SIPParseError("Content-Length is required on stream transports")
            }
            guard length <= maximumMessageSize else { throw SIPParseError("Content-Length \(length) is too large") }
            guard buffer.count >= bodyStart + length else { return out }
            var m = message
            m.body = Array(buffer[bodyStart..<(bodyStart + length)])
            buffer.removeFirst(bodyStart + length)
            out.append(m)
        }
    }
}
