public import TipRingCore

/// The SDES crypto suites (RFC 4568 §6.2) TipRing offers and accepts, in the order it offers
/// them: AES-128 in Galois/counter mode (RFC 7714: one AEAD pass, a 128-bit tag), then AES in
/// counter mode with a 128-bit key and HMAC-SHA1 (RFC 3711 §4), the RTP tag 80 or 32 bits long
/// — what every deployed SDES peer has. An answerer skips a suite it does not know (RFC 4568
/// §7.1.1), so offering GCM first costs an older peer nothing.
public enum SRTPSuite: String, CaseIterable, Sendable, Hashable {
    case aeadAES128GCM = "AEAD_AES_128_GCM"
    case aesCM128HMACSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
    case aesCM128HMACSHA1_32 = "AES_CM_128_HMAC_SHA1_32"

    /// Bytes of authentication tag on each SRTP packet.
    public var rtpTagLength: Int {
        switch self {
        case .aeadAES128GCM: 16
        case .aesCM128HMACSHA1_80: 10
        case .aesCM128HMACSHA1_32: 4
        }
    }
    /// Bytes of authentication tag on each SRTCP packet (80 bits with both HMAC suites,
    /// RFC 4568 §6.2.2).
    public var rtcpTagLength: Int { self == .aeadAES128GCM ? 16 : 10 }
    /// Bytes of master key and master salt, together (the `inline:` key of SDES): a 128-bit
    /// key and a 112-bit salt, or with GCM a 96-bit salt (RFC 7714 §12).
    public var masterLength: Int { self == .aeadAES128GCM ? 28 : 30 }
    /// An AEAD suite (RFC 7714): the tag comes from the cipher, there is no HMAC key.
    public var isAEAD: Bool { self == .aeadAES128GCM }
}

/// A master key and salt (16 + 14 bytes, or 16 + 12 with GCM) as SDES carries them. Never
/// printed: its description names the suite only.
public struct SRTPMasterKey: Sendable, Hashable, CustomStringConvertible {
    public let suite: SRTPSuite
    /// Key (16 bytes) then salt.
    public let bytes: [UInt8]

    public init?(suite: SRTPSuite, bytes: [UInt8]) {
        guard bytes.count == suite.masterLength else { return nil }
        self.suite = suite
        self.bytes = bytes
    }

    /// A fresh key from the system's random source.
    public static func random(_ suite: SRTPSuite) -> SRTPMasterKey {
        SRTPMasterKey(suite: suite, bytes: SecureRandom.bytes(suite.masterLength))!
    }

    public var key: ArraySlice<UInt8> { bytes[0..<16] }
    public var salt: ArraySlice<UInt8> { bytes[16...] }

    public var description: String { "\(suite.rawValue) key (not shown)" }
}

/// Whether an account's calls are encrypted (SDES-SRTP; the keys travel in SDP, so only over
/// TLS): not at all, when the far end agrees (offered as `RTP/AVP` with crypto lines, as
/// deployed ATAs do), or always (`RTP/SAVP`; plain RTP refused with 488).
public enum SRTPMode: String, CaseIterable, Sendable, Hashable {
    case off, optional, mandatory
}

/// One SDES `a=crypto` line (RFC 4568 §9.1): `tag suite inline:key||salt`. Lifetimes are
/// ignored (the default, 2³¹ packets, is what a call needs); lines with an MKI or session
/// parameters we do not implement are skipped, as §6.3 asks of an answerer.
public struct SDESCrypto: Sendable, Hashable, CustomStringConvertible {
    public var tag: Int
    public var key: SRTPMasterKey
    public var suite: SRTPSuite { key.suite }

    public init(tag: Int, key: SRTPMasterKey) {
        self.tag = tag
        self.key = key
    }

    /// The attribute's value (after `a=crypto:`), key included — for the SDP body only.
    public var attribute: String { "\(tag) \(suite.rawValue) inline:\(Base64.encode(key.bytes))" }

    public var description: String { "crypto \(tag) \(suite.rawValue) (key not shown)" }

    /// The line's value, or nil when it is not one we can use (another suite or key method,
    /// an MKI, session parameters).
    public static func parse(_ value: Substring) -> SDESCrypto? {
        let fields = value.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 3, let tag = ASCIIDecimal.exact(fields[0], in: 0...999_999_999),
              let suite = SRTPSuite(rawValue: String(fields[1])), fields[2].hasPrefix("inline:") else { return nil }
        let params = fields[2].dropFirst(7).split(separator: "|", omittingEmptySubsequences: false)
        // key||salt, then an optional lifetime; an MKI (a third part, or "n:m") is not ours.
        guard let first = params.first, params.count <= 2, params.count < 2 || !params[1].contains(":"),
              let bytes = Base64.decode(first), let key = SRTPMasterKey(suite: suite, bytes: bytes) else { return nil }
        return SDESCrypto(tag: tag, key: key)
    }
}

/// The keys of an encrypted call: ours (what we send with) and the far end's.
public struct SRTPKeys: Sendable, Hashable, CustomStringConvertible {
    public var send: SRTPMasterKey
    public var receive: SRTPMasterKey
    public init(send: SRTPMasterKey, receive: SRTPMasterKey) {
        self.send = send
        self.receive = receive
    }
    public var description: String { "SRTP \(send.suite.rawValue)" }

    /// The keys two descriptions agree on: a crypto line of the far end's that answers one of
    /// ours (same tag, same suite) — in an offer of ours and its answer, or the reverse.
    public init?(local: SessionDescription, remote: SessionDescription) {
        for theirs in remote.crypto {
            if let ours = local.crypto.first(where: { $0.tag == theirs.tag && $0.suite == theirs.suite }) {
                self.init(send: ours.key, receive: theirs.key)
                return
            }
        }
        return nil
    }
}
