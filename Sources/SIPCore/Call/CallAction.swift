/// What a call asks of the user agent that carries it. A ``SIPCall`` is a value: it never
/// touches a socket, a clock or a transaction table. Each event it is given returns these, and
/// the agent sends, starts transactions and timers, and reports — in the order given.
public enum CallAction: Sendable, Hashable {
    /// Start a client transaction for a request; its responses (or its timeout) come back to
    /// the call with the same ``CallRequest``.
    case request(SIPMessage, CallRequest, to: SIPNetworkAddress)
    /// Send without a transaction: an ACK of a 2xx, a retransmitted 2xx or reliable provisional,
    /// the 200 to a CANCEL.
    case transmit(SIPMessage, to: SIPNetworkAddress)
    /// Answer a request through its server transaction (so retransmissions of the request get
    /// it again); straight to `to` when it has none.
    case respond(SIPMessage, to: SIPNetworkAddress)
    /// Fire ``SIPCall/timerFired(_:context:)`` with this timer after the delay (restarting it
    /// if it runs).
    case startTimer(CallTimer, after: Duration)
    case cancelTimer(CallTimer)
    /// Tell the port controller.
    case event(UserAgentEvent)
    /// The agreed media changed (answer, hold, resume, a new target); nil when the call ended.
    case media(MediaSession?)
    /// A digit for the media layer to send (RFC 4733 events or in-band tones).
    case sendDigit(Character, milliseconds: Int)
}

/// What a call's request is for: how its responses are read.
public enum CallRequest: Sendable, Hashable {
    case invite, reinvite, cancel, bye, prack, info
    /// A NOTIFY of a transfer's progress (RFC 3515 §2.4.5).
    case notify
    /// Our REFER: a transfer this port asked for.
    case refer
}

/// The timers a call runs.
public enum CallTimer: Sendable, Hashable, CaseIterable {
    /// Our 2xx to an INVITE, again until the ACK (RFC 3261 §13.3.1.4).
    case okRetransmit
    /// Our reliable 180, again until the PRACK (RFC 3262 §3).
    case reliableProvisional
    /// Time to refresh the session (RFC 4028 §10: half the interval).
    case sessionRefresh
    /// Nobody refreshed the session: it is dead (RFC 4028 §10).
    case sessionExpiry
    /// A re-INVITE met glare (491): try again (RFC 3261 §14.1).
    case glareRetry
    /// Our CANCEL went out and the INVITE's final response has not come in 64·T1: the
    /// INVITE counts as cancelled (RFC 3261 §9.1) — a far end that lost its way (or a
    /// response sent to an address we no longer have) never keeps a call alive.
    case cancelGiveUp
}

/// What a call needs to know of its account, given with every event (it may change under the
/// call: a new local address, a failover to another server).
public struct CallContext: Sendable, Hashable {
    /// Our Contact URI.
    public var contact: String
    public var transport: Transport
    public var timers: TransactionTimers
    /// Where requests outside a dialog go (the registrar or outbound proxy).
    public var server: SIPNetworkAddress
    /// A preloaded Route for the first INVITE (the account's outbound route).
    public var route: String?
    public var minimumDigest: DigestAlgorithm
    /// The address our SDP gives for media.
    public var mediaHost: String
    /// Whether the media layer can send digits as RFC 4733 events or tones; without it, INFO.
    public var mediaSendsDigits: Bool

    public init(contact: String, transport: Transport, timers: TransactionTimers, server: SIPNetworkAddress, route: String?,
                minimumDigest: DigestAlgorithm, mediaHost: String, mediaSendsDigits: Bool) {
        self.contact = contact
        self.transport = transport
        self.timers = timers
        self.server = server
        self.route = route
        self.minimumDigest = minimumDigest
        self.mediaHost = mediaHost
        self.mediaSendsDigits = mediaSendsDigits
    }
}
