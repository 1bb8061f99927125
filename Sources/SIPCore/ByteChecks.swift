/// Structural checks of the headers every message must carry, done on bytes so parsing
/// stays fast. The typed parsers (`Via`, `NameAddress`, `SIPURI`, `CSeq`) read the same
/// fields in full when someone asks for them.
enum ByteChecks {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static func withBytes<R>(_ s: String, _ body: (Bytes) throws(SIPParseError) -> R) throws(SIPParseError) -> R {
        var copy = s
        let r: Result<R, SIPParseError> = copy.withUTF8 { b in
            do throws(SIPParseError) { return .success(try body(b)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 }
    @inline(__always) static func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 97 && (b | 0x20) <= 102) }
    @inline(__always) static func isToken(_ b: UInt8) -> Bool {
        isAlpha(b) || isDigit(b) || b == 45 || b == 46 || b == 33 || b == 37 || b == 42 || b == 95 || b == 43 || b == 96 || b == 39 || b == 126
    }

    /// `1234 INVITE`; the method must match the request's.
    static func cseq(_ v: String, method: SIPMethod?) throws(SIPParseError) {
        try withBytes(v) { (b: Bytes) throws(SIPParseError) in
            var i = 0
            var n: UInt64 = 0
            while i < b.count, isDigit(b[i]) {
                n = n * 10 + UInt64(b[i] - 48)
                if n > UInt64(HeaderNumbers.cseq.upperBound) { throw SIPParseError("bad CSeq '\(v)' (a 32-bit number, RFC 3261 §8.1.1.5)") }
                i += 1
            }
            guard i > 0, i < b.count, isSpace(b[i]) else { throw SIPParseError("bad CSeq '\(v)'") }
            while i < b.count, isSpace(b[i]) { i += 1 }
            let start = i
            while i < b.count, isToken(b[i]) { i += 1 }
            guard i > start, i == b.count else { throw SIPParseError("bad CSeq '\(v)'") }
            if let method {
                let m = method.rawValue.utf8
                guard m.count == i - start, m.elementsEqual(b[start..<i]) else {
                    throw SIPParseError("CSeq method \(String(decoding: b[start..<i], as: UTF8.self)) does not match request method \(method)")
                }
            }
        }
    }

    /// The top Via: `SIP / 2.0 / transport host[:port]` then parameters.
    static func via(_ v: String) throws(SIPParseError) {
        try withBytes(v) { (b: Bytes) throws(SIPParseError) in
            var i = 0
            func skip() { while i < b.count, isSpace(b[i]) { i += 1 } }
            func expectToken() throws(SIPParseError) -> Range<Int> {
                skip()
                let s = i
                while i < b.count, isToken(b[i]) { i += 1 }
                guard i > s else { throw SIPParseError("bad Via '\(v)'") }
                return s..<i
            }
            let p = try expectToken()
            guard p.count == 3, b[p.lowerBound] | 0x20 == 115, b[p.lowerBound + 1] | 0x20 == 105, b[p.lowerBound + 2] | 0x20 == 112 else {
                throw SIPParseError("bad Via protocol in '\(v)'")
            }
            skip(); guard i < b.count, b[i] == 47 else { throw SIPParseError("bad Via '\(v)'") }; i += 1
            let ver = try expectToken()
            guard ver.count == 3, b[ver.lowerBound] == 50, b[ver.lowerBound + 1] == 46, b[ver.lowerBound + 2] == 48 else {
                throw SIPParseError("bad Via protocol version in '\(v)'")
            }
            skip(); guard i < b.count, b[i] == 47 else { throw SIPParseError("bad Via '\(v)'") }; i += 1
            _ = try expectToken()
            skip()
            let hostStart = i
            while i < b.count, b[i] != 59, !isSpace(b[i]), b[i] != 44 { i += 1 }
            try hostPort(UnsafeBufferPointer(rebasing: b[hostStart..<i]), whole: v)
            var end = i
            while end < b.count, b[end] != 44 { end += 1 }  // the first element of the list
            try parameters(UnsafeBufferPointer(rebasing: b[i..<end]), whole: v)
        }
    }

    /// `*( LWS ";" LWS param )`: no empty parameter (`;;`, a trailing `;`, RFC 4475 §3.1.2.1).
    static func parameters(_ b: Bytes, whole: String) throws(SIPParseError) {
        var i = 0
        while i < b.count, isSpace(b[i]) { i += 1 }
        guard i < b.count else { return }
        guard b[i] == 59 else { throw SIPParseError("unexpected text before the parameters of '\(whole)'") }
        var inQuotes = false
        var sawName = false
        i += 1
        while i <= b.count {
            let c: UInt8 = i < b.count ? b[i] : 59
            if inQuotes {
                if c == 92 { i += 2; continue }
                if c == 34 { inQuotes = false }
            } else if c == 34 {
                inQuotes = true
                sawName = true
            } else if c == 59 {
                guard sawName else { throw SIPParseError("empty parameter in '\(whole)'") }
                sawName = false
            } else if !isSpace(c) {
                sawName = true
            }
            i += 1
        }
        if inQuotes { throw SIPParseError("unterminated quoted parameter in '\(whole)'") }
    }

    /// `host`, `host:port`, `[v6]`, `[v6]:port`.
    static func hostPort(_ b: Bytes, whole: String) throws(SIPParseError) {
        guard !b.isEmpty else { throw SIPParseError("empty host in '\(whole)'") }
        var i = 0
        if b[0] == 91 {  // [
            guard let close = b.firstIndex(of: 93) else { throw SIPParseError("IPv6 reference in '\(whole)' has no closing ']'") }
            let inner = String(decoding: b[1..<close], as: UTF8.self)
            guard SIPHost.isIPv6(inner[...]) else { throw SIPParseError("'\(inner)' is not a valid IPv6 address") }
            i = close + 1
        } else {
            var colons = 0
            while i < b.count {
                let c = b[i]
                if c == 58 { colons += 1 } else if !(isAlpha(c) || isDigit(c) || c == 45 || c == 46) {
                    throw SIPParseError("'\(String(decoding: b, as: UTF8.self))' is not a valid host")
                }
                i += 1
            }
            if colons > 1 { throw SIPParseError("IPv6 address '\(String(decoding: b, as: UTF8.self))' must be enclosed in brackets (RFC 5118)") }
            guard colons == 1, let colon = b.firstIndex(of: 58) else { return }
            i = colon
            guard i > 0 else { throw SIPParseError("empty host in '\(whole)'") }
        }
        guard i < b.count else { return }
        guard b[i] == 58, i + 1 < b.count else { throw SIPParseError("bad port in '\(whole)'") }
        var port = 0
        for k in (i + 1)..<b.count {
            guard isDigit(b[k]) else { throw SIPParseError("bad port in '\(whole)'") }
            port = port * 10 + Int(b[k] - 48)
            if port > 65535 { throw SIPParseError("bad port in '\(whole)'") }
        }
        if port == 0 { throw SIPParseError("bad port in '\(whole)'") }
    }

    /// A URI: for sip/sips the host part is checked; other schemes need only a scheme
    /// (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`). A Request-URI carries no headers.
    static func uri(_ b: Bytes, whole: String, requestURI: Bool = false) throws(SIPParseError) {
        guard let colon = b.firstIndex(of: 58), colon > 0 else { throw SIPParseError("'\(whole)' is not a URI") }
        let scheme = b[0..<colon]
        guard isAlpha(b[0]), scheme.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == 43 || $0 == 45 || $0 == 46 }) else {
            throw SIPParseError("'\(whole)' does not start with a URI scheme")
        }
        let isSIP = (scheme.count == 3 || scheme.count == 4)
            && scheme[scheme.startIndex] | 0x20 == 115 && scheme[scheme.startIndex + 1] | 0x20 == 105 && scheme[scheme.startIndex + 2] | 0x20 == 112
            && (scheme.count == 3 || scheme[scheme.startIndex + 3] | 0x20 == 115)
        guard isSIP else { return }
        // The user part may hold '?' and ';'; headers ('?') start after the host, and the
        // host after the last '@' (headers cannot hold a bare '@').
        var hostStart = colon + 1
        if let at = b[hostStart...].lastIndex(of: 64) {  // @
            guard at > hostStart else { throw SIPParseError("empty user part in '\(whole)'") }
            hostStart = at + 1
        }
        var end = b.count
        if let q = b[hostStart...].firstIndex(of: 63) {  // ?
            if requestURI { throw SIPParseError("a Request-URI cannot carry headers ('\(whole)', RFC 3261 §19.1.5)") }
            end = q
        }
        var hostEnd = hostStart
        var inBracket = false
        while hostEnd < end {
            let c = b[hostEnd]
            if c == 91 { inBracket = true }
            if c == 93 { inBracket = false }
            if c == 59 && !inBracket { break }
            hostEnd += 1
        }
        try hostPort(UnsafeBufferPointer(rebasing: b[hostStart..<hostEnd]), whole: whole)
    }

    /// From / To: `"name" <uri>;params`, `name <uri>`, or `uri;params`.
    static func nameAddress(_ v: String) throws(SIPParseError) {
        try withBytes(v) { (b: Bytes) throws(SIPParseError) in
            var i = 0
            var inQuotes = false
            var lt: Int?
            while i < b.count {
                let c = b[i]
                if c == 92 && inQuotes { i += 2; continue }
                if c == 34 { inQuotes.toggle() }
                if c == 60 && !inQuotes { lt = i; break }
                i += 1
            }
            if inQuotes { throw SIPParseError("unterminated display name in '\(v)'") }
            if let lt {
                guard let gt = b[lt...].firstIndex(of: 62) else { throw SIPParseError("missing '>' in '\(v)'") }
                // A display name is a quoted string or tokens with LWS (RFC 4475 §3.1.2.15).
                if b.first != 34 {
                    for k in 0..<lt where !(isToken(b[k]) || isSpace(b[k])) {
                        throw SIPParseError("display name in '\(v)' is neither tokens nor a quoted string")
                    }
                }
                try uri(UnsafeBufferPointer(rebasing: b[(lt + 1)..<gt]), whole: v)
                try parameters(UnsafeBufferPointer(rebasing: b[(gt + 1)...]), whole: v)
            } else {
                var e = 0
                while e < b.count, b[e] != 59 { e += 1 }
                var u = e
                while u > 0, isSpace(b[u - 1]) { u -= 1 }  // "sip:a@b.example ;tag=1": LWS before ';'
                try uri(UnsafeBufferPointer(rebasing: b[0..<u]), whole: v)
                try parameters(UnsafeBufferPointer(rebasing: b[e...]), whole: v)
            }
        }
    }
}
