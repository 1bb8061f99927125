/// Hexadecimal digits in ASCII, read byte by byte (never a locale, never a Unicode digit): the
/// one reader for %-escapes, JSON5 escapes, IPv6 groups and digest nonce counts.
public enum ASCIIHex {
    /// The value of one hex digit (either case); nil for any other byte.
    @inline(__always) public static func digit(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The number `text` spells if it is 1…`maxDigits` (at most 16) hex digits and nothing else.
    public static func exact(_ text: some StringProtocol, maxDigits: Int = 16) -> UInt64? {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= min(maxDigits, 16) else { return nil }
        var value: UInt64 = 0
        for b in bytes {
            guard let d = digit(b) else { return nil }
            value = value << 4 | UInt64(d)
        }
        return value
    }
}
