import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import RTPMedia
import CTipRingResolv

/// One entry per parser of what the outside world sends. Each takes arbitrary bytes and
/// must return — no trap, no hang — whatever they are; libFuzzer (with AddressSanitizer)
/// looks for the input that breaks that. Every lazily-parsed accessor is read, because that
/// is where a parse is deferred to (and where the Request-URI trap was).
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "sip-message": sipMessage,
        "sip-stream": sipStream,
        "sdp": sdp,
        "rtp": rtp,
        "digest": digest,
        "json5": json5,
        "caller-id": callerID,
        "dns": dns,
    ]

    /// A datagram as the UDP transport sees it: parse, then every typed header and the body.
    static func sipMessage(_ bytes: [UInt8]) {
        guard let m = try? SIPParser.parse(bytes) else {
            _ = SIPParser.badRequestResponse(to: bytes, error: SIPParseError("fuzz"))
            return
        }
        readEverything(m)
        _ = try? SIPParser.parse(m.serialized())
    }

    static func readEverything(_ m: SIPMessage) {
        if case .request(_, let uri) = m.startLine { _ = try? SIPURI(uri) }
        for v in m.values("Via") { _ = try? Via(v) }
        for name in ["From", "To", "Contact", "Record-Route", "Route", "P-Asserted-Identity", "Refer-To", "Referred-By"] {
            for v in m.values(name) { _ = (try? NameAddress(v))?.sipURI }
        }
        _ = try? CSeq(m["CSeq"] ?? "")
        for name in ["Expires", "Min-Expires", "Retry-After", "Session-Expires", "Min-SE", "RSeq", "RAck", "Max-Forwards"] {
            _ = HeaderNumbers.deltaSeconds(m[name], in: HeaderNumbers.expires)
        }
        _ = DigestChallenge.preferred(m.values("WWW-Authenticate") + m.values("Proxy-Authenticate"))
        for v in m.values("Authorization") {
            _ = DigestVerifier.verify(v, method: "REGISTER", realm: "r", password: "p", nonce: "n", algorithm: .md5)
        }
        if let offer = try? SessionDescription.parse(m.body) {
            _ = MediaPolicy().answer(to: offer, address: "192.0.2.10", port: 4000)
        }
        _ = MessageSummary.parse(m.body)
        // A transfer's target and a Replaces header, as a REFER and an INVITE carry them.
        if let referTo = m["Refer-To"], let target = SIPCall.referTarget(referTo), let q = target.firstIndex(of: "?") {
            _ = SIPCall.replacesHeader(target[target.index(after: q)...])
        }
        _ = m["Replaces"].flatMap { SIPCall.replacesHeader(Substring("Replaces=" + $0)) }
        // A NOTIFY's sipfrag: how a transfer of ours went.
        _ = SIPCall.sipfragStatus(m.body)
    }

    /// A TCP stream cut into pieces the first byte chooses (segment sizes 1…16 bytes × k).
    static func sipStream(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        var framer = SIPStreamFramer()
        var rest = bytes.dropFirst()
        var step = Int(first % 16) + 1
        while !rest.isEmpty {
            let piece = rest.prefix(step)
            rest = rest.dropFirst(step)
            guard let messages = try? framer.feed(piece) else { return }
            for m in messages { readEverything(m) }
            step = step * 7 % 61 + 1
        }
    }

    static func sdp(_ bytes: [UInt8]) {
        guard let offer = try? SessionDescription.parse(bytes) else { return }
        _ = offer.serialized()
        // Each encryption mode: keys chosen (or the offer refused) from whatever crypto lines came.
        for mode in SRTPMode.allCases {
            var policy = MediaPolicy()
            policy.srtp = mode
            guard let answer = policy.answer(to: offer, address: "192.0.2.10", port: 4000) else { continue }
            _ = answer.serialized()
            _ = SRTPKeys(local: answer, remote: offer)
            _ = policy.accept(answer: offer, offered: answer)
        }
    }

    /// RTP, RTCP and RFC 4733 parsers, then the media bridge's receive path with its jitter
    /// buffer and the source screen, fed packet after packet (each length-prefixed) — a G.711
    /// call's and an Opus call's (libopus's decoder, FEC and the DTX bookkeeping).
    static func rtp(_ bytes: [UInt8]) {
        _ = try? RTPPacket.parse(bytes)
        _ = RTCP.parse(bytes)
        _ = TelephoneEvent.parse(bytes)
        let sd = SessionDescription(address: "198.51.100.7", port: 40000, formats: [.pcmu, .telephoneEvent])
        let session = MediaSession(local: sd, remote: sd, codec: .pcmu, telephoneEvent: .telephoneEvent, sending: true, receiving: true)
        let bridge = MediaBridge(session: session, ssrc: 1, at: .zero) { _ in }
        let opusSD = SessionDescription(address: "198.51.100.7", port: 40000, formats: [.opus, .telephoneEvent48k])
        let opusSession = MediaSession(local: opusSD, remote: opusSD, codec: .opus, telephoneEvent: .telephoneEvent48k, sending: true, receiving: true)
        let opus = MediaBridge(session: opusSession, ssrc: 2, at: .zero) { _ in }
        var screen = RTPSourceScreen(expected: SIPNetworkAddress("198.51.100.7", 40000), payloadTypes: [0, 101, 102, 111])
        var rest = bytes[...]
        var t = Instant.zero
        var out = [Int16](repeating: 0, count: 160)
        // The same bytes as SRTP and SRTCP (a fixed key: only the parsing and bounds are at stake).
        // Every suite: the HMAC ones and GCM lay out their tags and indexes differently.
        for suite in SRTPSuite.allCases {
            guard let key = SRTPMasterKey(suite: suite, bytes: Array(0..<UInt8(suite.masterLength))) else { return }
            var receiver = SRTPReceiver(key)
            var copy = bytes
            _ = copy.withUnsafeMutableBytes { receiver.unprotect($0) }
            copy = bytes
            _ = copy.withUnsafeMutableBytes { receiver.unprotectControl($0) }
        }
        while let n = rest.first {
            let packet = Array(rest.dropFirst().prefix(Int(n) + 12))
            rest = rest.dropFirst(Int(n) + 13)
            t += .milliseconds(Int64(n % 40))
            let from = SIPNetworkAddress(n & 1 == 0 ? "198.51.100.7" : "203.0.113.66", 40000)
            packet.withUnsafeBytes { raw in
                if screen.screen(raw, from: from) == .accept {
                    bridge.receive(raw, at: t)
                    opus.receive(raw, at: t)
                }
            }
            out.withUnsafeMutableBufferPointer { bridge.render(into: $0, at: t) }
            out.withUnsafeMutableBufferPointer { opus.render(into: $0, at: t) }
            bridge.receiveRTCP(packet)
            opus.receiveRTCP(packet)
        }
        _ = bridge.rtcpReport(ntp: 1 << 40, cname: "fuzz")
        _ = opus.rtcpReport(ntp: 1 << 40, cname: "fuzz")
    }

    static func digest(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let challenge = DigestChallenge.preferred([text]) else { return }
        var client = DigestClient(username: "1001", password: "secret")
        let answer = client.authorization(for: challenge, method: .register, uri: "sip:example.com")
        _ = DigestVerifier.verify(answer, method: "REGISTER", realm: challenge.realm, password: "secret", nonce: challenge.nonce, algorithm: challenge.algorithm)
    }

    /// Configuration and board files: the syntax, then the board decoder on the document.
    static func json5(_ bytes: [UInt8]) {
        _ = try? JSON5Parser.parse(bytes)
        guard let doc = try? DocumentValue.parse(bytes, file: "fuzz.json5") else { return }
        _ = try? BoardFile.decode(doc)
    }

    /// Caller-ID messages as bytes, and as audio (the bytes read as 16-bit samples).
    static func callerID(_ bytes: [UInt8]) {
        _ = try? CallerIDMessage.decode(bytes)
        _ = DTMFCallerIDFormat.parse(String(decoding: bytes, as: UTF8.self))
        guard bytes.count >= 2 else { return }
        var samples = [Int16](repeating: 0, count: bytes.count / 2)
        for i in samples.indices { samples[i] = Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8) }
        _ = CallerIDReceiver.decode(samples, scheme: .bell202(.multiple))
        _ = CallerIDReceiver.decode(samples, scheme: .etsiAfterRing)
    }

    /// A DNS answer as a server (or anyone spoofing one) sends it: SRV, A and AAAA record parsers.
    static func dns(_ bytes: [UInt8]) {
        var srv = [tipring_srv_record](repeating: tipring_srv_record(), count: 32)
        var a = [tipring_address_record](repeating: tipring_address_record(), count: 16)
        bytes.withUnsafeBufferPointer { b in
            _ = srv.withUnsafeMutableBufferPointer { tipring_dns_parse_srv(b.baseAddress, Int32(clamping: b.count), $0.baseAddress, Int32($0.count)) }
            for type in [TIPRING_DNS_TYPE_A, TIPRING_DNS_TYPE_AAAA] {
                _ = a.withUnsafeMutableBufferPointer { tipring_dns_parse_addresses(b.baseAddress, Int32(clamping: b.count), type, $0.baseAddress, Int32($0.count)) }
            }
        }
    }
}
