import SIPCore
// swift-crypto's BoringSSL, called directly: its Swift API makes the AES key schedule and an
// HMAC context afresh on the heap for every packet, and a call's audio thread must not
// allocate. Here both are made once per call and each packet works on stack copies.
import CCryptoBoringSSL

/// A 128-bit counter block (RFC 3711 §4.1.1), kept on the stack.
typealias SRTPCounter = SIMD16<UInt8>

/// RFC 3711's two transforms: the AES counter-mode keystream (§4.1.1) and the key derivation
/// that makes session keys from the master key (§4.3, key derivation rate 0 — what SDES uses
/// unless it says otherwise).
enum SRTPCrypto {
    /// The key-derivation labels of RFC 3711 §4.3.2.
    enum Label: UInt8 {
        case rtpCipher = 0, rtpAuth = 1, rtpSalt = 2, rtcpCipher = 3, rtcpAuth = 4, rtcpSalt = 5
    }

    /// A session key of `length` bytes: the keystream of the master key from the block
    /// (master salt XOR label at octet 7) · 2¹⁶.
    static func derive(_ master: SRTPMasterKey, _ label: Label, length: Int) -> [UInt8] {
        var counter = counterBase(master.salt)
        counter[7] ^= label.rawValue
        var out = [UInt8](repeating: 0, count: length)
        out.withUnsafeMutableBytes { SRTPCipher(key: master.key).xorKeystream(from: counter, into: $0) }
        return out
    }

    /// A 14-byte salt as the top of a counter block (its last two bytes zero).
    static func counterBase(_ salt: some Collection<UInt8>) -> SRTPCounter {
        var block = SRTPCounter()
        for (i, byte) in salt.prefix(14).enumerated() { block[i] = byte }
        return block
    }

    /// The counter block of a packet (§4.1.1): salt · 2¹⁶ XOR SSRC · 2⁶⁴ XOR index · 2¹⁶.
    static func counter(salt: SRTPCounter, ssrc: UInt32, index: UInt64) -> SRTPCounter {
        var block = salt
        for i in 0..<4 { block[4 + i] ^= UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i))) }
        for i in 0..<6 { block[8 + i] ^= UInt8(truncatingIfNeeded: index >> (40 - 8 * UInt64(i))) }
        return block
    }
}

/// AES-128 with its key schedule expanded once.
struct SRTPCipher: @unchecked Sendable {  // a plain C value: round keys, no pointers
    private var schedule = AES_KEY()

    init(key: some Collection<UInt8>) {
        var bytes = SRTPCounter()
        for (i, byte) in key.prefix(16).enumerated() { bytes[i] = byte }
        _ = withUnsafeBytes(of: &bytes) { k in
            CCryptoBoringSSL_AES_set_encrypt_key(k.baseAddress?.assumingMemoryBound(to: UInt8.self), 128, &schedule)
        }
    }

    /// XORs the keystream that starts at `counter` (its low bits the block counter, 0) into
    /// `data`: encryption and decryption alike, in place. BoringSSL steps the whole block as a
    /// counter, which is SRTP's 16-bit block counter as long as a packet has fewer than 2¹⁶
    /// blocks (a datagram has at most 4,096).
    func xorKeystream(from counter: SRTPCounter, into data: UnsafeMutableRawBufferPointer) {
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self), !data.isEmpty else { return }
        var block = counter, spare = SRTPCounter(), used: UInt32 = 0
        withUnsafePointer(to: schedule) { key in
            withUnsafeMutableBytes(of: &block) { iv in
                withUnsafeMutableBytes(of: &spare) { ecount in
                    CCryptoBoringSSL_AES_ctr128_encrypt(base, base, data.count, key, iv.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                        ecount.baseAddress?.assumingMemoryBound(to: UInt8.self), &used)
                }
            }
        }
    }
}

/// HMAC-SHA1 (RFC 2104) for keys of at most one block (SRTP's are 20 bytes), with the key's
/// two padded blocks hashed once: a tag starts from copies of those two SHA-1 states, as
/// libsrtp does.
struct SRTPAuthenticator: @unchecked Sendable {  // two plain C hash states
    private var inner = SHA_CTX(), outer = SHA_CTX()

    init(key: [UInt8]) {
        var innerPad = [UInt8](repeating: 0x36, count: 64), outerPad = [UInt8](repeating: 0x5C, count: 64)
        for (i, byte) in key.prefix(64).enumerated() {
            innerPad[i] ^= byte
            outerPad[i] ^= byte
        }
        CCryptoBoringSSL_SHA1_Init(&inner)
        CCryptoBoringSSL_SHA1_Update(&inner, innerPad, 64)
        CCryptoBoringSSL_SHA1_Init(&outer)
        CCryptoBoringSSL_SHA1_Update(&outer, outerPad, 64)
    }

    /// The tag over `authenticated` followed by `rollover` big-endian (SRTP) or nothing
    /// (SRTCP), cut to `length` (at most 20) into `out`.
    func tag(_ authenticated: UnsafeRawBufferPointer, rollover: UInt32?, length: Int, into out: UnsafeMutableRawBufferPointer) {
        var state = inner, digest = SIMD32<UInt8>()
        CCryptoBoringSSL_SHA1_Update(&state, authenticated.baseAddress, authenticated.count)
        if var word = rollover?.bigEndian {
            withUnsafeBytes(of: &word) { _ = CCryptoBoringSSL_SHA1_Update(&state, $0.baseAddress, 4) }
        }
        withUnsafeMutableBytes(of: &digest) { d in
            let bytes = d.baseAddress?.assumingMemoryBound(to: UInt8.self)
            CCryptoBoringSSL_SHA1_Final(bytes, &state)
            state = outer
            CCryptoBoringSSL_SHA1_Update(&state, bytes, 20)
            CCryptoBoringSSL_SHA1_Final(bytes, &state)
            for i in 0..<min(length, 20, out.count) { out[i] = d[i] }
        }
    }
}

/// The keys of one direction of one stream kind (RTP or RTCP), derived once: AES-CM with
/// HMAC-SHA1, or AES-GCM (whose salt is 12 bytes and which has no HMAC key, RFC 7714 §11 —
/// the 96-bit master salt taken as the top of the KDF's 112, as its erratum 4938 says).
struct SRTPSessionKeys: Sendable, CustomStringConvertible {
    enum Transform: Sendable {
        case counterMode(SRTPCipher, SRTPAuthenticator)
        /// nil only if BoringSSL could not make the context (out of memory): nothing passes.
        case gcm(SRTPGCM?)
    }
    let transform: Transform
    let salt: SRTPCounter

    init(_ master: SRTPMasterKey, rtcp: Bool) {
        let cipherKey = SRTPCrypto.derive(master, rtcp ? .rtcpCipher : .rtpCipher, length: 16)
        if master.suite.isAEAD {
            transform = .gcm(SRTPGCM(key: cipherKey))
            salt = SRTPCrypto.counterBase(SRTPCrypto.derive(master, rtcp ? .rtcpSalt : .rtpSalt, length: 12))
        } else {
            transform = .counterMode(SRTPCipher(key: cipherKey), SRTPAuthenticator(key: SRTPCrypto.derive(master, rtcp ? .rtcpAuth : .rtpAuth, length: 20)))
            salt = SRTPCrypto.counterBase(SRTPCrypto.derive(master, rtcp ? .rtcpSalt : .rtpSalt, length: 14))
        }
    }

    var description: String { "SRTP session keys (not shown)" }
}
