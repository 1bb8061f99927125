import TipRingCore

/// The numbers a peer can put in a header, each read on bytes and clamped to the range
/// its RFC gives (or the range we act on): a value from the network never traps, never
/// wraps a timer into the past, and never makes one fire in a storm.
public enum HeaderNumbers {
    /// RFC 3261 §8.1.1.5: a CSeq number is a 32-bit unsigned integer.
    public static let cseq: ClosedRange<Int> = 0...0xFFFF_FFFF
    /// RFC 3262 §7.1: RSeq (and RAck's first number) is 1 … 2³¹−1.
    public static let rseq: ClosedRange<Int> = 1...0x7FFF_FFFF
    /// Expires as we act on it: a registration or subscription is refreshed at least daily,
    /// whatever the server grants (RFC 3261 §20.19 allows up to 2³²−1 s).
    public static let expires: ClosedRange<Int> = 0...86_400
    /// Retry-After we honour: at most a day of waiting (RFC 3261 §20.33).
    public static let retryAfter: ClosedRange<Int> = 0...86_400
    /// RFC 4028 §4: Session-Expires and Min-SE are at least 90 s; we refresh at least daily.
    public static let sessionInterval: ClosedRange<Int> = 90...86_400
    /// Content-Length: a datagram holds at most 65,535 bytes; a stream's limit is the framer's.
    public static let contentLength: ClosedRange<Int> = 0...0x7FFF_FFFF

    /// The delta-seconds that starts a header value (`3600`, `1800;refresher=uac`,
    /// `120 (busy)`), clamped to `range`; nil when the value does not start with digits.
    public static func deltaSeconds(_ value: String?, in range: ClosedRange<Int>) -> Int? {
        guard let value else { return nil }
        let u = value.utf8
        var start = u.startIndex
        while start < u.endIndex, u[start] == 32 || u[start] == 9 { start = u.index(after: start) }
        var end = start
        while end < u.endIndex, ByteChecks.isDigit(u[end]) { end = u.index(after: end) }
        // Whatever follows the digits must be a separator: parameters, a comment, or spaces.
        if end < u.endIndex, !(u[end] == 59 || u[end] == 32 || u[end] == 9 || u[end] == 40) { return nil }
        return ASCIIDecimal.clamped(value[start..<end], to: range)
    }
}
