/// How digits dialled during a call reach the far end.
public enum DTMFMode: String, Sendable, Hashable {
    /// RFC 4733 telephone-event packets when negotiated (in-band otherwise).
    case rfc4733
    /// SIP INFO with `application/dtmf-relay`.
    case info
    /// Tones in the audio.
    case inband
}

/// Call settings of one account.
public struct CallSettings: Sendable, Hashable {
    public var media = MediaPolicy()
    public var dtmf: DTMFMode = .rfc4733
    /// RFC 4028 session interval we ask for (seconds; 0 = no session timer).
    public var sessionExpires = 1800
    /// The shortest session interval we accept (Min-SE).
    public var minSessionExpires = 90
    /// Subscribe to message-summary (RFC 3842) while registered.
    public var subscribeMessageWaiting = true
    public var subscriptionExpires = 3600
    /// Shown as the display name in From (CLIR sends "Anonymous").
    public var displayName: String?
    /// Require reliable provisional responses (RFC 3262) on our INVITEs, as some networks do.
    public var requireReliableProvisional = false
    public init() {}
}

/// The audio session agreed for a call: what we send to, what we receive on.
public struct MediaSession: Sendable, Hashable {
    public var local: SessionDescription
    public var remote: SessionDescription
    /// The negotiated codec (in the remote's payload numbering) and telephone-event, if any.
    public var codec: PayloadFormat
    public var telephoneEvent: PayloadFormat?
    /// Whether we send / receive audio now (hold in either direction).
    public var sending: Bool
    public var receiving: Bool
    /// The SRTP keys, when the call is encrypted.
    public var srtp: SRTPKeys?
    /// The call may only be heard encrypted (either side asked for RTP/SAVP, or our account
    /// for mandatory SRTP): without keys, no audio at all rather than audio in clear.
    public var encryptionRequired = false

    public init(local: SessionDescription, remote: SessionDescription, codec: PayloadFormat, telephoneEvent: PayloadFormat?,
                sending: Bool, receiving: Bool) {
        self.local = local
        self.remote = remote
        self.codec = codec
        self.telephoneEvent = telephoneEvent
        self.sending = sending
        self.receiving = receiving
    }
}
