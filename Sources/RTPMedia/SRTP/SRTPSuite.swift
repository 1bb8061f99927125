import TipRingCore

/// The SDES crypto suites (RFC 4568 §6.2) TipRing offers and accepts: AES in counter mode
/// with a 128-bit key and HMAC-SHA1 (RFC 3711 §4), the RTP tag 80 or 32 bits long. SRTCP's
/// tag is 80 bits with both (RFC 4568 §6.2.2).
public enum SRTPSuite: String, CaseIterable, Sendable, Hashable {
    case aesCM128HMACSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
    case aesCM128HMACSHA1_32 = "AES_CM_128_HMAC_SHA1_32"

    /// Bytes of authentication tag on each SRTP packet.
    public var rtpTagLength: Int { self == .aesCM128HMACSHA1_80 ? 10 : 4 }
    /// Bytes of authentication tag on each SRTCP packet.
    public var rtcpTagLength: Int { 10 }
    /// Bytes of master key and master salt, together (the `inline:` key of SDES).
    public static let masterLength = 30
}

/// A master key and salt (16 + 14 bytes) as SDES carries them. Never printed: its description
/// names the suite only.
public struct SRTPMasterKey: Sendable, Hashable, CustomStringConvertible {
    public let suite: SRTPSuite
    /// Key (16 bytes) then salt (14 bytes).
    let bytes: [UInt8]

    public init?(suite: SRTPSuite, bytes: [UInt8]) {
        guard bytes.count == SRTPSuite.masterLength else { return nil }
        self.suite = suite
        self.bytes = bytes
    }

    /// A fresh key from the system's random source.
    public static func random(_ suite: SRTPSuite) -> SRTPMasterKey {
        SRTPMasterKey(suite: suite, bytes: SecureRandom.bytes(SRTPSuite.masterLength))!
    }

    var key: ArraySlice<UInt8> { bytes[0..<16] }
    var salt: ArraySlice<UInt8> { bytes[16..<30] }

    public var description: String { "\(suite.rawValue) key (not shown)" }
}
