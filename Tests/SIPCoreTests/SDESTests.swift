import Testing
import TipRingCore
@testable import SIPCore

/// SDES (RFC 4568) in SDP, and who encrypts when: the policy's offers and answers for each
/// `srtp` mode against each kind of offer an ATA meets.
@Suite("SDES keys in SDP, and the SRTP offer/answer")
struct SDESTests {
    @Test("Base64 (RFC 4648 §10's vectors) both ways; anything not canonical refused")
    func base64() {
        for (plain, coded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            #expect(Base64.encode(Array(plain.utf8)) == coded)
            #expect(Base64.decode(coded[...]) == Array(plain.utf8))
        }
        for bad in ["Zg=", "Zg==Zg==", "Z===", "Zm9v YmFy", "Zm9-", "=Zm9"] { #expect(Base64.decode(bad[...]) == nil, "\(bad)") }
    }

    @Test("a=crypto lines: inline keys read, a lifetime allowed; an MKI, another suite, a short key, a session parameter skipped")
    func lines() throws {
        let key = Base64.encode(Array(0..<30))
        let c = try #require(SDESCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(key)"))
        #expect(c.tag == 1 && c.suite == .aesCM128HMACSHA1_80 && c.key.bytes == Array(0..<30))
        #expect(c.attribute == "1 AES_CM_128_HMAC_SHA1_80 inline:\(key)")
        #expect(SDESCrypto.parse("7 AES_CM_128_HMAC_SHA1_32 inline:\(key)|2^20")?.tag == 7)
        // RFC 4568 §4's own example carries an MKI (1:4): we do not do MKIs.
        #expect(SDESCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4") == nil)
        #expect(SDESCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(key)|1:4") == nil)
        #expect(SDESCrypto.parse("1 F8_128_HMAC_SHA1_80 inline:\(key)") == nil)
        #expect(SDESCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(Array(0..<16)))") == nil)
        // GCM (RFC 7714 §12): 16 bytes of key and 12 of salt; a 30-byte key is not one.
        let gcmKey = Base64.encode(Array(0..<28))
        #expect(SDESCrypto.parse("2 AEAD_AES_128_GCM inline:\(gcmKey)")?.key.salt.count == 12)
        #expect(SDESCrypto.parse("2 AEAD_AES_128_GCM inline:\(key)") == nil)
        #expect(SDESCrypto.parse("2 AES_CM_128_HMAC_SHA1_80 inline:\(gcmKey)") == nil)
        #expect(SDESCrypto.parse("1 AES_CM_128_HMAC_SHA1_80 inline:\(key) UNENCRYPTED_SRTP") == nil)
        #expect(SDESCrypto.parse("x AES_CM_128_HMAC_SHA1_80 inline:\(key)") == nil)
        #expect("\(c)" == "crypto 1 AES_CM_128_HMAC_SHA1_80 (key not shown)")
    }

    @Test("an SDP with RTP/SAVP and two keys round-trips; baresip's way of writing it parses")
    func sdp() throws {
        var sd = SessionDescription(address: "192.0.2.10", port: 4000, formats: [.pcmu, .telephoneEvent])
        sd.secureProfile = true
        sd.crypto = [SDESCrypto(tag: 1, key: .random(.aesCM128HMACSHA1_80)), SDESCrypto(tag: 2, key: .random(.aesCM128HMACSHA1_32))]
        let text = String(decoding: sd.serialized(), as: UTF8.self)
        #expect(text.contains("m=audio 4000 RTP/SAVP 0 101\r\n"))
        let back = try SessionDescription.parse(sd.serialized())
        #expect(back.secureProfile && back.crypto == sd.crypto)
        // As baresip's srtp module writes an offer (crypto lines after the formats).
        let k = Base64.encode(Array(30..<60))
        let theirs = try SessionDescription.parse(Array("""
        v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 10000 RTP/AVP 0 8 101\r\n\
        a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n\
        a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:\(k)\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:\(k)\r\n
        """.utf8))
        #expect(!theirs.secureProfile && theirs.crypto.map(\.tag) == [1, 2] && theirs.crypto[1].key.bytes == Array(30..<60))
    }

    func offer(_ profile: Bool, _ suites: [SRTPSuite]) -> SessionDescription {
        var sd = SessionDescription(address: "198.51.100.7", port: 30000, formats: [.pcmu])
        sd.secureProfile = profile
        sd.crypto = suites.enumerated().map { SDESCrypto(tag: $0.offset + 3, key: .random($0.element)) }
        return sd
    }

    func policy(_ mode: SRTPMode) -> MediaPolicy {
        var p = MediaPolicy()
        p.srtp = mode
        return p
    }

    @Test("answers: off ignores keys and refuses RTP/SAVP; optional takes a key when there is one; mandatory refuses plain RTP — each answered key fresh, under the offer's tag")
    func answers() throws {
        let plain = offer(false, []), bestEffort = offer(false, [.aesCM128HMACSHA1_32, .aesCM128HMACSHA1_80])
        let savp = offer(true, [.aesCM128HMACSHA1_80]), savpUnusable = offer(true, [])
        // (mode, offer) → nil (488), or the answer's profile and its one key's tag.
        let table: [(SRTPMode, SessionDescription, (Bool, Int?)?)] = [
            (.off, plain, (false, nil)), (.off, bestEffort, (false, nil)), (.off, savp, nil), (.off, savpUnusable, nil),
            (.optional, plain, (false, nil)), (.optional, bestEffort, (false, 3)), (.optional, savp, (true, 3)), (.optional, savpUnusable, nil),
            (.mandatory, plain, nil), (.mandatory, bestEffort, (false, 3)), (.mandatory, savp, (true, 3)), (.mandatory, savpUnusable, nil),
        ]
        for (mode, o, expected) in table {
            let a = policy(mode).answer(to: o, address: "192.0.2.10", port: 4000)
            guard let expected else {
                #expect(a == nil, "\(mode) answered \(o.secureProfile ? "RTP/SAVP" : "RTP/AVP") with \(o.crypto.count) keys")
                continue
            }
            let answer = try #require(a, "\(mode) refused \(o.crypto.count) keys")
            #expect(answer.secureProfile == expected.0 && answer.crypto.map(\.tag) == (expected.1.map { [$0] } ?? []), "\(mode)")
            if let chosen = answer.crypto.first {
                #expect(chosen.suite == o.crypto[0].suite && chosen.key != o.crypto[0].key)
                let keys = try #require(SRTPKeys(local: answer, remote: o))
                #expect(keys.send == chosen.key && keys.receive == o.crypto[0].key)
            }
        }
    }

    @Test("offers: optional is RTP/AVP with a fresh key per suite, mandatory RTP/SAVP; the answer must take one of ours when we must encrypt")
    func offers() throws {
        let o = policy(.optional).offer(address: "192.0.2.10", port: 4000)
        #expect(!o.secureProfile && o.crypto.map(\.suite) == [.aeadAES128GCM, .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32] && o.crypto.map(\.tag) == [1, 2, 3])
        #expect(o.crypto.map(\.key.bytes.count) == [28, 30, 30])
        #expect(o.crypto[0].key != o.crypto[1].key && policy(.optional).offer(address: "x", port: 1).crypto[0].key != o.crypto[0].key)
        let m = policy(.mandatory).offer(address: "192.0.2.10", port: 4000)
        #expect(m.secureProfile && m.crypto.count == 3)
        #expect(policy(.off).offer(address: "192.0.2.10", port: 4000).crypto.isEmpty)
        var answer = SessionDescription(address: "198.51.100.7", port: 30000, formats: [.pcmu])
        #expect(policy(.optional).accept(answer: answer, offered: o))  // plain: fine when optional
        #expect(!policy(.mandatory).accept(answer: answer, offered: m))
        answer.crypto = [SDESCrypto(tag: 3, key: .random(.aesCM128HMACSHA1_80))]  // tag 3 is our _32: not an answer to it
        #expect(!policy(.mandatory).accept(answer: answer, offered: m))
        answer.crypto = [SDESCrypto(tag: 3, key: .random(.aesCM128HMACSHA1_32))]
        #expect(policy(.mandatory).accept(answer: answer, offered: m))
        #expect(SRTPKeys(local: m, remote: answer)?.send == m.crypto[2].key)
        answer.crypto = [SDESCrypto(tag: 1, key: .random(.aeadAES128GCM))]
        #expect(policy(.mandatory).accept(answer: answer, offered: m))
        #expect(SRTPKeys(local: m, remote: answer)?.send == m.crypto[0].key)
    }

    @Test("a re-offer that keeps its key keeps ours too (the call is not re-keyed); a new choice gets a new key")
    func reoffer() throws {
        let p = policy(.optional), o = offer(false, [.aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32])
        let first = try #require(p.answer(to: o, address: "192.0.2.10", port: 4000))
        let again = try #require(p.answer(to: o, address: "192.0.2.10", port: 4000, previous: first))
        #expect(again.crypto == first.crypto)
        let changed = offer(false, [.aesCM128HMACSHA1_32])
        let third = try #require(p.answer(to: changed, address: "192.0.2.10", port: 4000, previous: first))
        #expect(third.crypto.first?.suite == .aesCM128HMACSHA1_32 && third.crypto != first.crypto)
    }
}
