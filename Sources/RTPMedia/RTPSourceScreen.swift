public import SIPCore

/// Which packets of the LTE side belong to a call's media: the far end the SDP named, or —
/// when that far end is behind a NAT and its packets come from elsewhere — the first
/// source that sends RTP of a negotiated payload type, after which the call is locked to
/// that source (address and port) and its SSRC. A new SSRC from the locked source is the
/// same peer restarting its stream (RFC 3550 §8.2); anything else is a stranger's packet,
/// dropped and counted. Pure: the socket callback asks, and acts on the answer.
public struct RTPSourceScreen: Sendable {
    public enum Verdict: Sendable, Hashable {
        case accept
        /// From a source other than the call's, or not RTP of a negotiated type.
        case drop
    }

    /// Where the SDP says the far end sends from (and listens).
    public private(set) var expected: SIPNetworkAddress
    /// Payload types the offer/answer agreed (codec, telephone-event, comfort noise).
    public private(set) var payloadTypes: Set<UInt8>
    /// The source the call is locked to, and its current SSRC.
    public private(set) var locked: (address: SIPNetworkAddress, ssrc: UInt32)?
    public private(set) var dropped = 0

    public init(expected: SIPNetworkAddress, payloadTypes: Set<UInt8>) {
        self.expected = expected
        self.payloadTypes = payloadTypes
    }

    /// The SDP changed (re-INVITE): a new address starts the latching over.
    public mutating func update(expected new: SIPNetworkAddress, payloadTypes types: Set<UInt8>) {
        payloadTypes = types
        guard new != expected else { return }
        expected = new
        locked = nil
    }

    /// Screens one RTP datagram from `source`.
    public mutating func screen(_ packet: UnsafeRawBufferPointer, from source: SIPNetworkAddress) -> Verdict {
        guard verdict(packet, from: source) == .accept else { return drop() }
        let ssrc = UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11])
        if locked?.address != source || locked?.ssrc != ssrc { locked = (source, ssrc) }  // a latch, or the peer restarted its stream
        return .accept
    }

    /// What ``screen(_:from:)`` would say, without latching or counting: an encrypted call
    /// asks this first and latches only on a packet that authenticated.
    public func verdict(_ packet: UnsafeRawBufferPointer, from source: SIPNetworkAddress) -> Verdict {
        // Version 2, a whole fixed header (RFC 3550 §5.1).
        guard packet.count >= 12, packet[0] >> 6 == 2, payloadTypes.contains(packet[1] & 0x7F) else { return .drop }
        // Once latched, the latched source — or the address the SDP names, which always wins
        // over a NAT latch.
        if let l = locked, source != l.address, source != expected { return .drop }
        return .accept
    }

    /// A packet refused elsewhere (SRTP: unauthentic or replayed), counted with the others.
    public mutating func noteDropped() { _ = drop() }

    /// RTCP is taken from the locked source's host only (its port is RTP's + 1, or what a
    /// NAT made of it).
    public mutating func screenControl(from source: SIPNetworkAddress) -> Verdict {
        guard source.host == (locked?.address.host ?? expected.host) else { return drop() }
        return .accept
    }

    private mutating func drop() -> Verdict {
        dropped &+= 1
        return .drop
    }
}
