import SIPCore
import Crypto
import CryptoExtras

/// RFC 3711's two transforms, on top of swift-crypto's AES block and HMAC-SHA1: the AES
/// counter-mode keystream (§4.1.1) and the key derivation that makes session keys from the
/// master key (§4.3, key derivation rate 0 — what SDES uses unless it says otherwise).
enum SRTPCrypto {
    /// The key-derivation labels of RFC 3711 §4.3.2.
    enum Label: UInt8 {
        case rtpCipher = 0, rtpAuth = 1, rtpSalt = 2, rtcpCipher = 3, rtcpAuth = 4, rtcpSalt = 5
    }

    /// A session key of `length` bytes: the keystream of the master key from the block
    /// (master salt XOR label at octet 7) · 2¹⁶.
    static func derive(_ master: SRTPMasterKey, _ label: Label, length: Int) -> [UInt8] {
        var iv = [UInt8](repeating: 0, count: 16)
        for i in 0..<14 { iv[i] = master.salt[master.salt.startIndex + i] }
        iv[7] ^= label.rawValue
        var out = [UInt8](repeating: 0, count: length)
        let key = SymmetricKey(data: Array(master.key))
        out.withUnsafeMutableBytes { keystream(key: key, iv: iv, xorInto: $0) }
        return out
    }

    /// XORs the AES-CM keystream that starts at counter block `iv` (its last two bytes the
    /// block counter, 0) into `data`: encryption and decryption alike. One counter-mode pass
    /// (swift-crypto's AES-CTR on BoringSSL; the counter is the whole block, which is SRTP's
    /// 16-bit block counter as long as a packet has fewer than 2¹⁶ blocks).
    static func keystream(key: SymmetricKey, iv: [UInt8], xorInto data: UnsafeMutableRawBufferPointer) {
        guard !data.isEmpty,
              let nonce = try? AES._CTR.Nonce(nonceBytes: iv),
              let out = try? AES._CTR.encrypt(UnsafeRawBufferPointer(data), using: key, nonce: nonce) else { return }
        out.withUnsafeBytes { data.copyMemory(from: $0) }
    }

    /// The counter block of a packet (§4.1.1): salt · 2¹⁶ XOR SSRC · 2⁶⁴ XOR index · 2¹⁶.
    static func iv(salt: [UInt8], ssrc: UInt32, index: UInt64) -> [UInt8] {
        var iv = salt + [0, 0]
        for i in 0..<4 { iv[4 + i] ^= UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i))) }
        for i in 0..<6 { iv[8 + i] ^= UInt8(truncatingIfNeeded: index >> (40 - 8 * UInt64(i))) }
        return iv
    }
}

/// The keys of one direction of one stream kind (RTP or RTCP), derived once.
struct SRTPSessionKeys {
    let cipher: SymmetricKey
    let salt: [UInt8]
    /// HMAC-SHA1 keyed once; each packet's tag starts from a copy.
    let mac: HMAC<Insecure.SHA1>

    init(_ master: SRTPMasterKey, rtcp: Bool) {
        cipher = SymmetricKey(data: SRTPCrypto.derive(master, rtcp ? .rtcpCipher : .rtpCipher, length: 16))
        salt = SRTPCrypto.derive(master, rtcp ? .rtcpSalt : .rtpSalt, length: 14)
        mac = HMAC<Insecure.SHA1>(key: SymmetricKey(data: SRTPCrypto.derive(master, rtcp ? .rtcpAuth : .rtpAuth, length: 20)))
    }

    /// The tag over `authenticated` followed by `trailer` (the ROC for SRTP), cut to `length`.
    func tag(_ authenticated: UnsafeRawBufferPointer, trailer: [UInt8], length: Int, into out: UnsafeMutableRawBufferPointer) {
        var m = mac
        m.update(data: authenticated)
        m.update(data: trailer)
        let full = m.finalize()
        full.withUnsafeBytes { t in
            for i in 0..<length { out[i] = t[i] }
        }
    }
}
