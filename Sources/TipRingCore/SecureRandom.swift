/// Identifiers a stranger must not guess — Call-IDs, tags, branches, cnonces, SSRCs,
/// initial RTP sequence numbers and timestamps — drawn from the system's cryptographic
/// random source (`SystemRandomNumberGenerator`: getrandom(2) on Linux), never from a
/// seeded generator, so that one observed identifier tells nothing about the next.
/// (Seeded generators stay for what the simulator must repeat: timing, loss, jitter.)
public enum SecureRandom {
    public static func next() -> UInt64 {
        var g = SystemRandomNumberGenerator()
        return g.next()
    }

    /// A token of 96 random bits in lower-case base 36 (RFC 3261 asks at least 32 bits for a
    /// tag; Call-IDs and branches want global uniqueness).
    public static func token() -> String {
        String(next(), radix: 36) + String(next() >> 32, radix: 36)
    }

    /// `count` random bytes (a key).
    public static func bytes(_ count: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    }

    /// A random value filling the integer type (an SSRC, a sequence number).
    public static func bits<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) -> T {
        T(truncatingIfNeeded: next())
    }
}
