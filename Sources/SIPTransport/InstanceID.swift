public import TipRingCore

/// The RFC 5626 `+sip.instance` of an account: a UUID URN made once and kept in a state
/// file, so that a restarted device is recognised as the same instance (its old binding is
/// replaced, not duplicated). A missing or damaged file gets a fresh id, written atomically
/// (``FileIO/replace(path:bytes:mode:)``: a power cut never leaves half an id); a missing
/// state directory is made.
public enum InstanceID {
    public static func loadOrCreate(path: String) throws(SystemError) -> String {
        if let bytes = try? FileIO.readAll(path: path, limit: 4096) {
            let text = String(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace })
            if isValid(text) { return text }
        }
        let id = fresh()
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { try FileIO.makeDirectories(String(path[..<slash])) }
        try FileIO.replace(path: path, bytes: Array((id + "\n").utf8), mode: 0o644)
        return id
    }

    /// A random (version 4) UUID URN from the system's cryptographic random source.
    public static func fresh() -> String {
        var b = withUnsafeBytes(of: (SecureRandom.next(), SecureRandom.next())) { Array($0) }
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let h = Array(hex)
        return "urn:uuid:" + String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }

    /// `urn:uuid:` and 8-4-4-4-12 hexadecimal digits.
    public static func isValid(_ s: String) -> Bool {
        guard s.hasPrefix("urn:uuid:") else { return false }
        let groups = s.dropFirst(9).split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
