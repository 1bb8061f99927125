import TipRingCore

/// The media direction attribute of an SDP stream (RFC 3264 §5.1).
public enum MediaDirection: String, Sendable, Hashable {
    case sendrecv, sendonly, recvonly, inactive

    /// What we answer to a peer's direction (RFC 3264 §6.1), given what we want.
    public func answer(wanting ours: MediaDirection) -> MediaDirection {
        let peerSends = self == .sendrecv || self == .sendonly
        let peerReceives = self == .sendrecv || self == .recvonly
        let weSend = (ours == .sendrecv || ours == .sendonly) && peerReceives
        let weReceive = (ours == .sendrecv || ours == .recvonly) && peerSends
        switch (weSend, weReceive) {
        case (true, true): return .sendrecv
        case (true, false): return .sendonly
        case (false, true): return .recvonly
        case (false, false): return .inactive
        }
    }
}

/// One payload format of an audio stream.
public struct PayloadFormat: Sendable, Hashable {
    public var payloadType: Int
    /// Encoding name as in rtpmap (`PCMU`, `PCMA`, `opus`, `telephone-event`), canonical case.
    public var name: String
    public var clockRate: Int
    /// The rtpmap's encoding parameters for audio: channels (`opus/48000/2`), nil when absent.
    public var channels: Int?
    public var fmtp: String?

    public init(payloadType: Int, name: String, clockRate: Int = 8000, channels: Int? = nil, fmtp: String? = nil) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.fmtp = fmtp
    }

    public static let pcmu = PayloadFormat(payloadType: 0, name: "PCMU")
    public static let pcma = PayloadFormat(payloadType: 8, name: "PCMA")
    /// Opus as RFC 7587 has it in SDP: always `opus/48000/2`, whatever is sent. Our fmtp says
    /// what we like to receive: the line is 8 kHz (narrowband is all it can play), in-band
    /// FEC (we use it to rebuild a lost frame), DTX (nothing sent in silence is welcome on a
    /// metered link), and at most 20 kbit/s.
    public static let opus = PayloadFormat(payloadType: 111, name: "opus", clockRate: 48000, channels: 2,
                                           fmtp: "maxplaybackrate=8000;sprop-maxcapturerate=8000;maxaveragebitrate=20000;useinbandfec=1;usedtx=1")
    public static let telephoneEvent = PayloadFormat(payloadType: 101, name: "telephone-event", fmtp: "0-16")
    /// telephone-event on a 48 kHz codec's clock (RFC 4733 §2.1: events share the audio's clock).
    public static let telephoneEvent48k = PayloadFormat(payloadType: 102, name: "telephone-event", clockRate: 48000, fmtp: "0-16")

    /// The same format (encoding name, any case, and clock rate), whatever its payload number.
    public func isSameFormat(as other: PayloadFormat) -> Bool {
        name.uppercased() == other.name.uppercased() && clockRate == other.clockRate
    }

    /// The static payload types of RFC 3551 that an offer may list without rtpmap.
    static func staticType(_ pt: Int) -> PayloadFormat? {
        switch pt {
        case 0: .pcmu
        case 8: .pcma
        case 9: PayloadFormat(payloadType: 9, name: "G722")
        case 18: PayloadFormat(payloadType: 18, name: "G729")
        default: nil
        }
    }
}

/// A session description with one audio stream: what an ATA offers and answers.
public struct SessionDescription: Sendable, Hashable {
    public var origin: String = "tipring"
    public var sessionID: UInt64 = 1
    public var version: UInt64 = 1
    /// Connection address (IPv4 dotted, or IPv6).
    public var address: String
    public var port: Int
    public var formats: [PayloadFormat]
    public var direction: MediaDirection = .sendrecv
    public var ptime: Int? = 20
    /// `RTP/SAVP`: the stream is SRTP or nothing (RFC 3711 §12). `RTP/AVP` may still carry
    /// crypto lines (SRTP if the answer takes one).
    public var secureProfile = false
    /// SDES keys (RFC 4568), in the order written.
    public var crypto: [SDESCrypto] = []

    public init(address: String, port: Int, formats: [PayloadFormat], direction: MediaDirection = .sendrecv, ptime: Int? = 20) {
        self.address = address
        self.port = port
        self.formats = formats
        self.direction = direction
        self.ptime = ptime
    }

    /// The first audio codec (not telephone-event), as negotiated.
    public var codec: PayloadFormat? { formats.first { $0.name != "telephone-event" } }
    public var telephoneEvent: PayloadFormat? { formats.first { $0.name == "telephone-event" } }
    /// The telephone-event format on `codec`'s clock, else the first there is.
    public func telephoneEvent(for codec: PayloadFormat) -> PayloadFormat? {
        formats.first { $0.name == "telephone-event" && $0.clockRate == codec.clockRate } ?? telephoneEvent
    }
    /// `c=0.0.0.0` (RFC 2543 hold) or port 0: no media from the peer.
    public var isHeld: Bool { address == "0.0.0.0" || direction == .sendonly || direction == .inactive }

    public func serialized() -> [UInt8] {
        let ip = address.contains(":") ? "IP6" : "IP4"
        var s = "v=0\r\no=\(origin) \(sessionID) \(version) IN \(ip) \(address)\r\ns=TipRing\r\nc=IN \(ip) \(address)\r\nt=0 0\r\n"
        s += "m=audio \(port) \(secureProfile ? "RTP/SAVP" : "RTP/AVP") " + formats.map { "\($0.payloadType)" }.joined(separator: " ") + "\r\n"
        for f in formats {
            s += "a=rtpmap:\(f.payloadType) \(f.name)/\(f.clockRate)\(f.channels.map { "/\($0)" } ?? "")\r\n"
            if let fmtp = f.fmtp { s += "a=fmtp:\(f.payloadType) \(fmtp)\r\n" }
        }
        if let ptime { s += "a=ptime:\(ptime)\r\n" }
        s += "a=\(direction.rawValue)\r\n"
        for c in crypto { s += "a=crypto:\(c.attribute)\r\n" }
        return Array(s.utf8)
    }

    /// Parses an SDP body; only what an audio call needs is kept. Errors say what is wrong.
    public static func parse(_ bytes: [UInt8]) throws(SIPParseError) -> SessionDescription {
        let text = String(decoding: bytes, as: UTF8.self)
        var sessionAddress: String?, mediaAddress: String?
        var port: Int?, types: [Int] = []
        var maps: [Int: (String, Int, Int?)] = [:], fmtps: [Int: String] = [:]
        var direction: MediaDirection = .sendrecv, mediaDirection: MediaDirection?
        var ptime: Int?
        var secure = false, crypto: [SDESCrypto] = []
        var inAudio = false, sawAudio = false, sawVersion = false
        var origin = "-", sessionID: UInt64 = 0, version: UInt64 = 0
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            guard line.count >= 2, line.dropFirst().first == "=" else {
                if line.isEmpty { continue }
                throw SIPParseError("SDP line '\(line.prefix(40))' is not type=value")
            }
            guard let type = line.first else { continue }
            let value = line.dropFirst(2)
            switch type {
            case "v":
                guard value == "0" else { throw SIPParseError("SDP version \(value) (only 0 exists)") }
                sawVersion = true
            case "o":
                let f = value.split(separator: " ")
                if f.count >= 3 {
                    origin = String(f[0])
                    sessionID = ASCIIDecimal.exact(f[1], in: 0...Int.max).map(UInt64.init) ?? 0
                    version = ASCIIDecimal.exact(f[2], in: 0...Int.max).map(UInt64.init) ?? 0
                }
            case "c":
                let f = value.split(separator: " ")
                guard f.count >= 3, f[0] == "IN" else { throw SIPParseError("SDP connection line 'c=\(value)' is malformed") }
                let written = f[2].split(separator: "/").first ?? ""
                // IPv6 in the one form packets' sources are written in (RFC 5952).
                let a = f[1] == "IP6" ? SIPHost.canonicalIPv6(written) ?? String(written) : String(written)
                if inAudio { mediaAddress = a } else if !sawAudio { sessionAddress = a }
            case "m":
                let f = value.split(separator: " ")
                guard f.count >= 4 else { throw SIPParseError("SDP media line 'm=\(value)' is malformed") }
                inAudio = false
                if f[0] == "audio" && !sawAudio {
                    guard let p = ASCIIDecimal.exact(f[1].split(separator: "/").first ?? "", in: 0...65535) else {
                        throw SIPParseError("SDP audio port '\(f[1])' is not a port")
                    }
                    guard f[2].hasPrefix("RTP/AVP") || f[2].hasPrefix("RTP/SAVP") else {
                        throw SIPParseError("SDP audio transport \(f[2]) is not RTP/AVP or RTP/SAVP")
                    }
                    secure = f[2].hasPrefix("RTP/SAVP")
                    port = p
                    types = try f.dropFirst(3).map { t throws(SIPParseError) in
                        guard let v = ASCIIDecimal.exact(t, in: 0...127) else { throw SIPParseError("SDP payload type '\(t)' is not 0–127") }
                        return v
                    }
                    inAudio = true
                    sawAudio = true
                }
            case "a":
                if !inAudio && sawAudio { continue }
                if value.hasPrefix("rtpmap:") {
                    let body = value.dropFirst(7)
                    let parts = body.split(separator: " ", maxSplits: 1)
                    if parts.count == 2, let pt = ASCIIDecimal.exact(parts[0], in: 0...127) {
                        let enc = parts[1].split(separator: "/")
                        if enc.count >= 2, let rate = ASCIIDecimal.exact(enc[1], in: 1...192_000) {
                            maps[pt] = (String(enc[0]), rate, enc.count >= 3 ? ASCIIDecimal.exact(enc[2], in: 1...8) : nil)
                        }
                    }
                } else if value.hasPrefix("fmtp:") {
                    let parts = value.dropFirst(5).split(separator: " ", maxSplits: 1)
                    if parts.count == 2, let pt = ASCIIDecimal.exact(parts[0], in: 0...127) { fmtps[pt] = String(parts[1]) }
                } else if value.hasPrefix("crypto:") {
                    // At most a few: an offer with hundreds of keys is not a phone's.
                    if inAudio, crypto.count < 8, let c = SDESCrypto.parse(value.dropFirst(7)) { crypto.append(c) }
                } else if value.hasPrefix("ptime:") {
                    ptime = ASCIIDecimal.exact(value.dropFirst(6), in: 10...200)
                } else if let d = MediaDirection(rawValue: String(value)) {
                    if inAudio { mediaDirection = d } else { direction = d }
                }
            default:
                continue
            }
        }
        guard sawVersion else { throw SIPParseError("SDP without v=0") }
        guard let port else { throw SIPParseError("SDP without an audio stream (m=audio)") }
        guard let address = mediaAddress ?? sessionAddress else { throw SIPParseError("SDP without a connection address (c=)") }
        let formats: [PayloadFormat] = types.compactMap { pt in
            if let (name, rate, channels) = maps[pt] {
                let canonical = ["pcmu": "PCMU", "pcma": "PCMA", "opus": "opus", "telephone-event": "telephone-event", "g722": "G722",
                                 "g729": "G729"][name.lowercased()] ?? name
                return PayloadFormat(payloadType: pt, name: canonical, clockRate: rate, channels: channels, fmtp: fmtps[pt])
            }
            return PayloadFormat.staticType(pt)
        }
        var sd = SessionDescription(address: address, port: port, formats: formats, direction: mediaDirection ?? direction, ptime: ptime)
        sd.origin = origin
        sd.secureProfile = secure
        sd.crypto = crypto
        sd.sessionID = sessionID
        sd.version = version
        return sd
    }
}

/// Offer/answer for an ATA's audio (RFC 3264): our codec preference, intersected with the
/// offer in *our* order; telephone-event kept when both have it. Encryption (SDES, RFC 4568)
/// as `srtp` says: every suite we have offered with a fresh key of its own; of an offer's
/// keys, the first whose suite we have taken, answered with a key of ours.
public struct MediaPolicy: Sendable, Hashable {
    /// Our codecs in preference order (PCMU, PCMA by default).
    public var codecs: [PayloadFormat] = [.pcmu, .pcma]
    public var telephoneEvent: Bool = true
    public var ptime: Int = 20
    public var srtp: SRTPMode = .off
    /// The SDES suites offered and accepted, in preference order.
    public var srtpSuites: [SRTPSuite] = SRTPSuite.allCases
    public init() {}

    /// The telephone-event formats we offer: on 8 kHz, and on 48 kHz too when a codec runs on
    /// that clock (Opus).
    var telephoneEventFormats: [PayloadFormat] {
        guard telephoneEvent else { return [] }
        return codecs.contains { $0.clockRate == 48000 } ? [.telephoneEvent, .telephoneEvent48k] : [.telephoneEvent]
    }

    public func offer(address: String, port: Int, direction: MediaDirection = .sendrecv) -> SessionDescription {
        var sd = SessionDescription(address: address, port: port, formats: codecs + telephoneEventFormats, direction: direction, ptime: ptime)
        if srtp != .off {
            // Optional: RTP/AVP with keys (the far end may take one, or ignore them all).
            sd.secureProfile = srtp == .mandatory
            sd.crypto = srtpSuites.enumerated().map { SDESCrypto(tag: $0.offset + 1, key: .random($0.element)) }
        }
        return sd
    }

    /// Our answer to an offer, or nil when no codec matches or the encryption cannot be
    /// agreed (→ 488). `previous`: our last description in this dialog — its key is kept
    /// when the far end keeps its choice (a re-INVITE does not re-key the call).
    public func answer(to offer: SessionDescription, address: String, port: Int, wanting direction: MediaDirection = .sendrecv,
                       previous: SessionDescription? = nil) -> SessionDescription? {
        var crypto: [SDESCrypto] = []
        if srtp != .off, let chosen = offer.crypto.first(where: { srtpSuites.contains($0.suite) }) {
            let kept = previous?.crypto.first { $0.tag == chosen.tag && $0.suite == chosen.suite }
            crypto = [kept ?? SDESCrypto(tag: chosen.tag, key: .random(chosen.suite))]
        }
        // RTP/SAVP without a key we can use, or plain RTP when we must encrypt: nothing to agree.
        if crypto.isEmpty && (offer.secureProfile || srtp == .mandatory) { return nil }
        var chosen: [PayloadFormat] = []
        for ours in codecs {
            if let theirs = offer.formats.first(where: { $0.isSameFormat(as: ours) }) {
                // Their payload type number, our fmtp: an answer's format parameters say what
                // the answerer likes to receive (RFC 7587 §7).
                var answered = theirs
                answered.fmtp = ours.fmtp ?? theirs.fmtp
                chosen.append(answered)
                break  // one codec: an ATA does not switch mid-call
            }
        }
        guard let codec = chosen.first else { return nil }
        if telephoneEvent, let te = offer.formats.first(where: { $0.name == "telephone-event" && $0.clockRate == codec.clockRate })
            ?? offer.formats.first(where: { $0.name == "telephone-event" && $0.clockRate == 8000 }) {
            chosen.append(te)
        }
        // A port-0 offer declines the stream: answer port 0 too.
        var sd = SessionDescription(address: address, port: offer.port == 0 ? 0 : port, formats: chosen,
                                    direction: offer.direction.answer(wanting: direction), ptime: ptime)
        sd.secureProfile = offer.secureProfile
        sd.crypto = crypto
        return sd
    }

    /// Checks the answer to our offer: the codec it chose must be one we offered, and when
    /// the call must be encrypted, the key it took must answer one of ours.
    public func accept(answer: SessionDescription, offered: SessionDescription) -> Bool {
        guard let c = answer.codec, codecs.contains(where: { $0.isSameFormat(as: c) }) else { return false }
        if srtp == .mandatory || offered.secureProfile { return SRTPKeys(local: offered, remote: answer) != nil }
        return true
    }
}
