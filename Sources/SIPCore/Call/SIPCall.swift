import TipRingCore

/// One call: an RFC 3261 dialog with its INVITE handshakes, CANCEL, BYE, re-INVITE hold,
/// RFC 4028 session timers, RFC 3262 reliable provisionals, SDP offer/answer and INFO digits.
///
/// A value with a private state and one mutating function per event (a command from the port
/// controller, a response to one of its requests, a request in its dialog, a timer), each
/// returning the ``CallAction``s the user agent carries out — the swift-nio state-machine
/// shape. Tests feed it messages one by one and read what it asks for.
public struct SIPCall: Sendable {
    public let handle: CallHandle
    public let outgoing: Bool
    public let callID: String
    public let localTag: String
    public internal(set) var remoteTag: String?
    /// Our From (outgoing) or To (incoming), without the tag.
    public internal(set) var localParty: String
    /// The far end's address of record and display name, without the tag.
    public internal(set) var remoteParty: String
    /// The far end's Contact: the Request-URI of requests in the dialog.
    public internal(set) var remoteTarget: String
    /// Where a 3xx sent our call (the last one followed): the party reached is there, not
    /// at the To the call keeps.
    public internal(set) var redirectedTo: String?
    /// The dialog this call replaces at the far end (an attended transfer made us call it).
    var replaces: String?
    /// The CSeq of the REFER being carried out (its NOTIFYs' `Event: refer;id=`).
    var referCSeq: UInt32?
    /// Our REFER is out, or accepted and its NOTIFYs not yet final: the transfer we asked for.
    var referring = false
    /// Where the call's messages go: the server until a dialog names a numeric address; for
    /// an incoming call, where the INVITE came from.
    public internal(set) var destination: SIPNetworkAddress
    var routeSet: [String] = []
    var localCSeq: UInt32 = 0
    var remoteCSeq: UInt32 = 0
    /// The reliable 180 we sent (its RSeq and the INVITE's CSeq number): the one thing a PRACK
    /// may acknowledge, even after the answer overtook it.
    var reliableProvisional: (rseq: UInt32, cseq: UInt32)?
    /// The call's own copy: a 422's Min-SE raises this call's interval, not the account's.
    var settings: CallSettings
    var local: SessionDescription
    var remote: SessionDescription?
    /// The direction we want (hold is sendonly).
    var wanted: MediaDirection = .sendrecv
    /// The call carries a fax or a modem: G.711 only, in what we offer and answer from now on.
    var voicebandOnly = false
    /// Our formats before the offer that asked for G.711 only: back to them if it is refused.
    var formatsBeforeVoiceband: [PayloadFormat]?
    /// An INVITE without an offer: ours goes in the 2xx, the answer comes in the ACK.
    var lateOffer = false
    /// RFC 4028: the agreed interval (0: none) and whether we refresh.
    var sessionInterval = 0
    var weRefresh = false
    var random: SeededRandom
    var state: State

    enum State: Sendable {
        /// Our INVITE is out.
        case outgoing(Attempt)
        /// An INVITE from the network rings here.
        case incoming(Ringing)
        case confirmed(Established)
        case ended
    }

    struct Attempt: Sendable {
        var invite: SIPMessage
        /// CLIR (an anonymous From, `Privacy: id`) and the identity it withholds.
        let withhold: Bool
        let addressOfRecord: String
        /// A provisional response came (a CANCEL may go now; RFC 3261 §9.1).
        var provisional = false
        var early = false
        /// The controller gave up; the CANCEL waits for a provisional response.
        var cancelWanted = false
        var cancelled = false
        /// A challenge was answered: a second one means the credentials are wrong.
        var authAnswered = false
        var lastRSeq: UInt32?
        /// 3xx followed so far, and the targets tried (a redirect loop ends at one seen before).
        var redirects = 0
        var tried: Set<String> = []
        static let redirectLimit = 5
    }

    struct Ringing: Sendable {
        var invite: SIPMessage
        var reliable180: SIPMessage?
        var rseqInterval: Duration
        /// The reliable 180's RSeq: random in 1…2³¹−1 (RFC 3262 §3).
        var rseq: UInt32 = 1 + SecureRandom.bits(UInt32.self) % 0x7FFF_FFFF
    }

    struct Established: Sendable {
        /// Our 2xx awaiting its ACK.
        var unacknowledged: UnacknowledgedOK?
        var reinvitePending = false
        /// A hold or resume asked for while a re-INVITE was out: sent after it.
        var pendingDirection: MediaDirection?
    }

    struct UnacknowledgedOK: Sendable {
        var response: SIPMessage
        var interval: Duration
        var elapsed: Duration = .zero
        /// The 2xx that establishes the call (no ACK: the call ends), not a re-INVITE's.
        var initial: Bool
    }

    /// Where the call is, for status and invariants.
    public enum Phase: Sendable, Hashable { case calling, early, incoming, confirmed, ended }

    public var phase: Phase {
        switch state {
        case .outgoing(let a): a.early ? .early : .calling
        case .incoming: .incoming
        case .confirmed: .confirmed
        case .ended: .ended
        }
    }

    public var isOver: Bool { phase == .ended }

    /// An outgoing call we gave up before its answer: it lasts until the far end's final
    /// response, or 64·T1 after our CANCEL (or Timer B, when no provisional ever came).
    public var isBeingGivenUp: Bool { if case .outgoing(let a) = state { a.cancelWanted } else { false } }

    /// The INVITE that opened an incoming call (CANCEL matches its transaction).
    public var incomingInvite: SIPMessage? {
        if case .incoming(let r) = state { return r.invite }
        return nil
    }

    init(handle: CallHandle, outgoing: Bool, callID: String, localTag: String, localParty: String, remoteParty: String,
         remoteTarget: String, destination: SIPNetworkAddress, settings: CallSettings, local: SessionDescription, seed: UInt64, state: State) {
        self.handle = handle
        self.outgoing = outgoing
        self.callID = callID
        self.localTag = localTag
        self.localParty = localParty
        self.remoteParty = remoteParty
        self.remoteTarget = remoteTarget
        self.destination = destination
        self.settings = settings
        self.local = local
        self.random = SeededRandom(seed: seed)
        self.state = state
    }

    // MARK: media

    /// The agreed media, once the far end's description is known.
    public var media: MediaSession? {
        guard let remote else { return nil }
        // The first of the far end's formats that our side listed too (an answer lists one, an
        // offer its preference): RFC 3264 §6.1 — send only what both descriptions name. In the
        // far end's numbering, with its fmtp (what it likes to receive).
        let both = remote.formats.first { rf in rf.name != "telephone-event" && local.formats.contains { $0.isSameFormat(as: rf) } }
        guard let codec = both ?? local.codec else { return nil }
        let sending = (local.direction == .sendrecv || local.direction == .sendonly) && remote.address != "0.0.0.0" && remote.port != 0
        let receiving = local.direction == .sendrecv || local.direction == .recvonly
        var session = MediaSession(local: local, remote: remote, codec: codec,
                                   telephoneEvent: local.telephoneEvent != nil ? remote.telephoneEvent(for: codec) : nil,
                                   sending: sending && (remote.direction == .sendrecv || remote.direction == .recvonly),
                                   receiving: receiving && (remote.direction == .sendrecv || remote.direction == .sendonly))
        session.srtp = SRTPKeys(local: local, remote: remote)
        session.encryptionRequired = local.secureProfile || remote.secureProfile || settings.media.srtp == .mandatory
        return session
    }

    func mediaChanged() -> [CallAction] {
        remote == nil ? [] : [.media(media)]
    }

    // MARK: building requests

    /// A request inside the dialog (RFC 3261 §12.2.1.1); a new CSeq unless one is given.
    mutating func dialogRequest(_ method: SIPMethod, cseq: UInt32? = nil, _ ctx: CallContext) -> SIPMessage {
        var m = SIPRequests.new(method, uri: remoteTarget, via: ctx.transport.via(fromContact: ctx.contact))
        for r in routeSet { m.add("Route", r) }
        m.add("From", localParty + ";tag=\(localTag)")
        m.add("To", remoteParty + (remoteTag.map { ";tag=\($0)" } ?? ""))
        m.add("Call-ID", callID)
        if let cseq {
            m.add("CSeq", "\(cseq) \(method)")
        } else {
            localCSeq += 1
            m.add("CSeq", "\(localCSeq) \(method)")
        }
        m.add("User-Agent", "TipRing")
        return m
    }

    static func withBody(_ m: inout SIPMessage, _ sdp: SessionDescription) {
        m.add("Content-Type", "application/sdp")
        m.body = sdp.serialized()
    }

    /// Where a request in the dialog goes: the first route, else the remote target, when
    /// either is a numeric address; otherwise the server.
    func dialogDestination(_ ctx: CallContext) -> SIPNetworkAddress {
        let first = routeSet.first.flatMap { try? NameAddress($0) }?.uri ?? remoteTarget
        guard let u = try? SIPURI(first) else { return ctx.server }
        switch u.host {
        case .ipv4(let a), .ipv6(let a): return SIPNetworkAddress(a, u.port ?? 5060)
        case .domain: return ctx.server
        }
    }

    mutating func updateTarget(from m: SIPMessage) {
        if let contact = m["Contact"], let n = try? NameAddress(contact) { remoteTarget = n.uri }
    }

    mutating func ack(cseq: UInt32, _ ctx: CallContext) -> CallAction {
        var a = dialogRequest(.ack, cseq: cseq, ctx)
        if lateOffer { Self.withBody(&a, local) }
        return .transmit(a, to: dialogDestination(ctx))
    }

    mutating func bye(_ ctx: CallContext) -> CallAction {
        let m = dialogRequest(.bye, ctx)
        return .request(m, .bye, to: dialogDestination(ctx))
    }

    /// A response to `request`, to go back through its server transaction.
    func respond(_ request: SIPMessage, _ status: Int, _ reason: String, toTag: String? = nil, headers: [(String, String)] = [],
                 body: SessionDescription? = nil, to address: SIPNetworkAddress) -> CallAction {
        var r = SIPResponses.response(to: request, status: status, reason: reason, toTag: toTag)
        for (n, v) in headers { r.add(n, v) }
        if let body { Self.withBody(&r, body) }
        return .respond(r, to: address)
    }

    // MARK: the end

    /// The call is over: every timer stops, the media goes, the controller hears why.
    mutating func finish(_ reason: CallEndReason) -> [CallAction] {
        guard !isOver else { return [] }
        state = .ended
        return CallTimer.allCases.map { .cancelTimer($0) } + [.media(nil), .event(.ended(handle, reason))]
    }

    /// Ends the call from our side: CANCEL before an answer, a rejection when ringing here,
    /// BYE after.
    public mutating func hangUp(context ctx: CallContext) -> [CallAction] {
        switch state {
        case .outgoing: return cancel(context: ctx)
        case .incoming: return reject(status: 480, context: ctx)
        case .confirmed: return [bye(ctx)] + finish(.localHangUp)
        case .ended: return []
        }
    }
}
