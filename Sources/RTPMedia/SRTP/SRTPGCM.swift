import CCryptoBoringSSL

/// AES-128-GCM as RFC 7714 uses it, on BoringSSL's AEAD: a context keyed once per call, each
/// packet sealed or opened in place (no allocation). The 12-byte nonce is the session salt
/// XOR the packet's identifiers (§8.1, §9.1); the tag is 16 bytes.
final class SRTPGCM: @unchecked Sendable {  // BoringSSL's context is read-only once keyed
    static let tagLength = 16
    private let context: UnsafeMutablePointer<EVP_AEAD_CTX>

    init?(key: [UInt8]) {
        guard key.count == 16,
              let c = key.withUnsafeBufferPointer({ CCryptoBoringSSL_EVP_AEAD_CTX_new(CCryptoBoringSSL_EVP_aead_aes_128_gcm(), $0.baseAddress, 16, Self.tagLength) })
        else { return nil }
        context = c
    }

    deinit { CCryptoBoringSSL_EVP_AEAD_CTX_free(context) }

    /// The nonce of an SRTP packet (§8.1): 00 00 ‖ SSRC ‖ ROC ‖ SEQ, XOR the salt.
    static func rtpNonce(salt: SRTPCounter, ssrc: UInt32, rollover: UInt32, sequence: UInt16) -> SRTPCounter {
        var n = salt
        for i in 0..<4 { n[2 + i] ^= UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i))) }
        for i in 0..<4 { n[6 + i] ^= UInt8(truncatingIfNeeded: rollover >> (24 - 8 * UInt32(i))) }
        n[10] ^= UInt8(truncatingIfNeeded: sequence >> 8)
        n[11] ^= UInt8(truncatingIfNeeded: sequence)
        return n
    }

    /// The nonce of an SRTCP packet (§9.1): 00 00 ‖ SSRC ‖ 00 00 ‖ 0 ‖ index (31 bits), XOR the salt.
    static func rtcpNonce(salt: SRTPCounter, ssrc: UInt32, index: UInt32) -> SRTPCounter {
        var n = salt
        for i in 0..<4 { n[2 + i] ^= UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i))) }
        for i in 0..<4 { n[8 + i] ^= UInt8(truncatingIfNeeded: (index & 0x7FFF_FFFF) >> (24 - 8 * UInt32(i))) }
        return n
    }

    /// Encrypts the first `length` bytes of `data` in place and writes the tag after them
    /// (`data` has room for it); false when BoringSSL refuses.
    func seal(_ data: UnsafeMutableRawBufferPointer, length: Int, nonce: SRTPCounter, associated: UnsafeRawBufferPointer) -> Bool {
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count >= length + Self.tagLength else { return false }
        var nonce = nonce, written = 0
        return withUnsafeBytes(of: &nonce) { n in
            CCryptoBoringSSL_EVP_AEAD_CTX_seal(context, base, &written, data.count, n.baseAddress?.assumingMemoryBound(to: UInt8.self), 12,
                                               base, length, associated.baseAddress?.assumingMemoryBound(to: UInt8.self), associated.count) == 1
        }
    }

    /// Checks the tag at the end of `data` and decrypts the rest in place; the plaintext's
    /// length, or nil when the packet is not authentic.
    func open(_ data: UnsafeMutableRawBufferPointer, nonce: SRTPCounter, associated: UnsafeRawBufferPointer) -> Int? {
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count >= Self.tagLength else { return nil }
        var nonce = nonce, written = 0
        let ok = withUnsafeBytes(of: &nonce) { n in
            CCryptoBoringSSL_EVP_AEAD_CTX_open(context, base, &written, data.count, n.baseAddress?.assumingMemoryBound(to: UInt8.self), 12,
                                               base, data.count, associated.baseAddress?.assumingMemoryBound(to: UInt8.self), associated.count) == 1
        }
        return ok ? written : nil
    }
}
