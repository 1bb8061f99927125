public import SIPCore
/// Why a packet was not taken (each counted as a drop of its kind).
public enum SRTPDrop: Error, Sendable, Hashable {
    /// Not an RTP (RTCP) packet, or too short to carry a tag.
    case malformed
    /// The tag does not match: forged, or keyed differently.
    case authentication
    /// Seen before, or older than the replay window.
    case replay
}

/// The header length of an RTP packet (fixed part, CSRCs, extension), nil when it is not one.
func rtpHeaderLength(_ p: UnsafeRawBufferPointer) -> Int? {
    guard p.count >= 12, p[0] >> 6 == 2 else { return nil }
    var length = 12 + 4 * Int(p[0] & 0x0F)
    if p[0] & 0x10 != 0 {
        guard p.count >= length + 4 else { return nil }
        length += 4 + 4 * (Int(p[length + 2]) << 8 | Int(p[length + 3]))
    }
    return p.count >= length ? length : nil
}

func readUInt32(_ p: UnsafeRawBufferPointer, at i: Int) -> UInt32 {
    UInt32(p[i]) << 24 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 8 | UInt32(p[i + 3])
}

/// Compares without stopping at the first difference.
func sameTag(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}

/// Our side of an SRTP stream (RFC 3711): packets protected with our master key. The
/// rollover counter follows the sequence numbers the bridge hands over.
public struct SRTPSender: Sendable {
    public let suite: SRTPSuite
    let rtp: SRTPSessionKeys
    let rtcp: SRTPSessionKeys
    var rollover: UInt32 = 0
    var lastSequence: UInt16?
    var rtcpIndex: UInt32 = 0

    public init(_ key: SRTPMasterKey) {
        suite = key.suite
        rtp = SRTPSessionKeys(key, rtcp: false)
        rtcp = SRTPSessionKeys(key, rtcp: true)
    }

    /// Bytes an SRTP packet needs beyond the RTP packet (the tag), and an SRTCP one (tag + index).
    public var rtpOverhead: Int { suite.rtpTagLength }
    public var rtcpOverhead: Int { suite.rtcpTagLength + 4 }
    /// The most any suite adds to an RTCP packet.
    public static let largestOverhead = 16 + 4

    /// `packet` protected into `out` (room for `rtpOverhead` more bytes); its length, nil when
    /// it is not an RTP packet or `out` is too small.
    public mutating func protect(_ packet: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let header = rtpHeaderLength(packet), out.count >= packet.count + suite.rtpTagLength else { return nil }
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        if let last = lastSequence, sequence < last, last - sequence > 0x8000 { rollover &+= 1 }
        lastSequence = sequence
        out.copyMemory(from: packet)
        let ssrc = readUInt32(packet, at: 8), end = packet.count + suite.rtpTagLength
        switch rtp.transform {
        case .counterMode(let cipher, let mac):
            let counter = SRTPCrypto.counter(salt: rtp.salt, ssrc: ssrc, index: UInt64(rollover) << 16 | UInt64(sequence))
            cipher.xorKeystream(from: counter, into: UnsafeMutableRawBufferPointer(rebasing: out[header..<packet.count]))
            mac.tag(UnsafeRawBufferPointer(rebasing: out[0..<packet.count]), rollover: rollover, length: suite.rtpTagLength,
                    into: UnsafeMutableRawBufferPointer(rebasing: out[packet.count..<end]))
        case .gcm(let gcm):
            // The header is the associated data; payload and tag follow it (RFC 7714 §8.2).
            let nonce = SRTPGCM.rtpNonce(salt: rtp.salt, ssrc: ssrc, rollover: rollover, sequence: sequence)
            guard gcm?.seal(UnsafeMutableRawBufferPointer(rebasing: out[header..<end]), length: packet.count - header, nonce: nonce,
                            associated: UnsafeRawBufferPointer(rebasing: out[0..<header])) == true else { return nil }
        }
        return end
    }

    /// An RTCP compound packet protected (§3.4): all after the first eight bytes encrypted,
    /// then E-flag and index and the 80-bit tag (with GCM, RFC 7714 §9: the 128-bit tag
    /// right after the ciphertext, then E-flag and index, which are authenticated too).
    public mutating func protectControl(_ packet: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard packet.count >= 8, packet[0] >> 6 == 2, out.count >= packet.count + rtcpOverhead else { return nil }
        let index = rtcpIndex
        rtcpIndex = (rtcpIndex &+ 1) & 0x7FFF_FFFF
        out.copyMemory(from: packet)
        let word = 0x8000_0000 | index, ssrc = readUInt32(packet, at: 4)
        switch rtcp.transform {
        case .counterMode(let cipher, let mac):
            cipher.xorKeystream(from: SRTPCrypto.counter(salt: rtcp.salt, ssrc: ssrc, index: UInt64(index)),
                                into: UnsafeMutableRawBufferPointer(rebasing: out[8..<packet.count]))
            writeUInt32(word, into: out, at: packet.count)
            let end = packet.count + 4
            mac.tag(UnsafeRawBufferPointer(rebasing: out[0..<end]), rollover: nil, length: 10,
                    into: UnsafeMutableRawBufferPointer(rebasing: out[end..<end + 10]))
            return end + 10
        case .gcm(let gcm):
            let sealed = packet.count + SRTPGCM.tagLength
            let done = withControlAssociatedData(out, word: word) { associated in
                gcm?.seal(UnsafeMutableRawBufferPointer(rebasing: out[8..<sealed]), length: packet.count - 8,
                          nonce: SRTPGCM.rtcpNonce(salt: rtcp.salt, ssrc: ssrc, index: index), associated: associated) == true
            }
            guard done else { return nil }
            writeUInt32(word, into: out, at: sealed)
            return sealed + 4
        }
    }
}

func writeUInt32(_ v: UInt32, into p: UnsafeMutableRawBufferPointer, at i: Int) {
    for k in 0..<4 { p[i + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(k))) }
}

/// SRTCP's associated data with GCM (RFC 7714 §9.3): the first eight bytes of the packet and
/// the E-flag/index word, on the stack.
func withControlAssociatedData<R>(_ packet: UnsafeMutableRawBufferPointer, word: UInt32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    var associated = SRTPCounter()
    for i in 0..<8 { associated[i] = packet[i] }
    for k in 0..<4 { associated[8 + k] = UInt8(truncatingIfNeeded: word >> (24 - 8 * UInt32(k))) }
    return withUnsafeBytes(of: &associated) { body(UnsafeRawBufferPointer(rebasing: $0[0..<12])) }
}

/// The far end's side of an SRTP stream: packets checked (tag, replay) and decrypted in
/// place. The rollover counter is estimated from the sequence numbers (§3.3.1). Each SSRC
/// has its own context (§3.2.3) — a new one (the far end restarted its stream) starts once
/// it authenticates, and a replay of an older SSRC's packets meets that SSRC's own window.
/// The latest ``keptStreams`` SSRCs are remembered.
public struct SRTPReceiver: Sendable {
    public let suite: SRTPSuite
    let rtp: SRTPSessionKeys
    let rtcp: SRTPSessionKeys
    struct Stream: Sendable {
        var rollover: UInt32 = 0
        var window = SRTPReplayWindow()
    }
    var streams: [UInt32: Stream] = [:], streamOrder: [UInt32] = []
    var controlStreams: [UInt32: SRTPReplayWindow] = [:], controlOrder: [UInt32] = []
    static let keptStreams = 4

    public init(_ key: SRTPMasterKey) {
        suite = key.suite
        rtp = SRTPSessionKeys(key, rtcp: false)
        rtcp = SRTPSessionKeys(key, rtcp: true)
    }

    /// The packet's index as the receiver guesses it (§3.3.1), and the ROC it implies.
    static func estimate(_ sequence: UInt16, in stream: Stream?) -> (index: UInt64, rollover: UInt32) {
        guard let stream, let highest = stream.window.highest else { return (UInt64(sequence), 0) }
        let last = UInt16(truncatingIfNeeded: highest)
        var v = stream.rollover
        if last < 0x8000 {
            if sequence > last, sequence - last > 0x8000, v > 0 { v -= 1 }
        } else if last - 0x8000 > sequence {
            v &+= 1
        }
        return (UInt64(v) << 16 | UInt64(sequence), v)
    }

    /// Checks and decrypts `packet` in place; the RTP packet's length, or why it was dropped.
    public mutating func unprotect(_ packet: UnsafeMutableRawBufferPointer) -> Result<Int, SRTPDrop> {
        let tagLength = suite.rtpTagLength
        let whole = UnsafeRawBufferPointer(packet)
        guard packet.count >= 12 + tagLength, let header = rtpHeaderLength(UnsafeRawBufferPointer(rebasing: whole[0..<(packet.count - tagLength)])) else {
            return .failure(.malformed)
        }
        let end = packet.count - tagLength
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        let source = readUInt32(whole, at: 8)
        let known = streams[source]
        let (index, v) = Self.estimate(sequence, in: known)
        if let known, known.window.check(index) != .fresh { return .failure(.replay) }
        switch rtp.transform {
        case .counterMode(let cipher, let mac):
            let fits = withUnsafeTemporaryAllocation(byteCount: tagLength, alignment: 1) { expected in
                mac.tag(UnsafeRawBufferPointer(rebasing: whole[0..<end]), rollover: v, length: tagLength, into: expected)
                return sameTag(UnsafeRawBufferPointer(expected), UnsafeRawBufferPointer(rebasing: whole[end..<packet.count]))
            }
            guard fits else { return .failure(.authentication) }
            cipher.xorKeystream(from: SRTPCrypto.counter(salt: rtp.salt, ssrc: source, index: index),
                                into: UnsafeMutableRawBufferPointer(rebasing: packet[header..<end]))
        case .gcm(let gcm):
            let nonce = SRTPGCM.rtpNonce(salt: rtp.salt, ssrc: source, rollover: v, sequence: sequence)
            guard gcm?.open(UnsafeMutableRawBufferPointer(rebasing: packet[header..<packet.count]), nonce: nonce,
                            associated: UnsafeRawBufferPointer(rebasing: whole[0..<header])) == end - header else { return .failure(.authentication) }
        }
        var stream = known ?? Stream()
        if stream.window.highest.map({ index > $0 }) ?? true { stream.rollover = v }
        stream.window.accept(index)
        if known == nil { Self.remember(source, in: &streamOrder) { streams[$0] = nil } }
        streams[source] = stream
        return .success(end)
    }

    /// Checks and decrypts an SRTCP packet in place; the RTCP packet's length, or why not.
    public mutating func unprotectControl(_ packet: UnsafeMutableRawBufferPointer) -> Result<Int, SRTPDrop> {
        let whole = UnsafeRawBufferPointer(packet)
        let tagLength = suite.rtcpTagLength
        guard packet.count >= 8 + 4 + tagLength, packet[0] >> 6 == 2 else { return .failure(.malformed) }
        // HMAC suites: … ‖ E+index ‖ tag. GCM: … ‖ tag ‖ E+index.
        let indexStart = suite.isAEAD ? packet.count - 4 : packet.count - tagLength - 4
        let word = readUInt32(whole, at: indexStart)
        let encrypted = word & 0x8000_0000 != 0, index = word & 0x7FFF_FFFF
        let source = readUInt32(whole, at: 4)
        let known = controlStreams[source]
        if let known, known.check(UInt64(index)) != .fresh { return .failure(.replay) }
        let length: Int
        switch rtcp.transform {
        case .counterMode(let cipher, let mac):
            let tagStart = indexStart + 4
            let fits = withUnsafeTemporaryAllocation(byteCount: 10, alignment: 1) { expected in
                mac.tag(UnsafeRawBufferPointer(rebasing: whole[0..<tagStart]), rollover: nil, length: 10, into: expected)
                return sameTag(UnsafeRawBufferPointer(expected), UnsafeRawBufferPointer(rebasing: whole[tagStart..<packet.count]))
            }
            guard fits else { return .failure(.authentication) }
            if encrypted {
                cipher.xorKeystream(from: SRTPCrypto.counter(salt: rtcp.salt, ssrc: source, index: UInt64(index)),
                                    into: UnsafeMutableRawBufferPointer(rebasing: packet[8..<indexStart]))
            }
            length = indexStart
        case .gcm(let gcm):
            let nonce = SRTPGCM.rtcpNonce(salt: rtcp.salt, ssrc: source, index: index)
            let tagStart = indexStart - tagLength
            if encrypted {
                let opened = withControlAssociatedData(packet, word: word) { associated in
                    gcm?.open(UnsafeMutableRawBufferPointer(rebasing: packet[8..<indexStart]), nonce: nonce, associated: associated)
                }
                guard opened == tagStart - 8 else { return .failure(.authentication) }
            } else {
                // Unencrypted SRTCP (§9.2): the whole packet and the word are associated data,
                // the tag all there is to open.
                let opened = withUnsafeTemporaryAllocation(byteCount: tagStart + 4, alignment: 1) { associated in
                    associated.copyMemory(from: UnsafeRawBufferPointer(rebasing: whole[0..<tagStart]))
                    writeUInt32(word, into: associated, at: tagStart)
                    return gcm?.open(UnsafeMutableRawBufferPointer(rebasing: packet[tagStart..<indexStart]), nonce: nonce,
                                     associated: UnsafeRawBufferPointer(associated))
                }
                guard opened == 0 else { return .failure(.authentication) }
            }
            length = tagStart
        }
        var window = known ?? SRTPReplayWindow()
        window.accept(UInt64(index))
        if known == nil { Self.remember(source, in: &controlOrder) { controlStreams[$0] = nil } }
        controlStreams[source] = window
        return .success(length)
    }

    /// A new SSRC noted; the oldest beyond ``keptStreams`` forgotten.
    static func remember(_ ssrc: UInt32, in order: inout [UInt32], forget: (UInt32) -> Void) {
        order.append(ssrc)
        while order.count > keptStreams { forget(order.removeFirst()) }
    }
}
