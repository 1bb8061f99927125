/// The interface through which the port controller drives SIP, and what SIP tells it.
///
/// The controller never sees transports, transactions or dialogs: it issues commands to its
/// port's user agent (one account each), about the account or a call handle, and receives
/// events. Registration, dialogs and media follow
/// this contract in their own components.

/// A call as the controller knows it: an opaque number, unique per user agent.
public struct CallHandle: Sendable, Hashable, CustomStringConvertible {
    public let id: UInt64
    public init(id: UInt64) { self.id = id }
    public var description: String { "call#\(id)" }
}

/// The numbering of one port's calls: handles in the order calls began, never reused.
public struct CallHandles: Sendable {
    private var last: UInt64 = 0
    public init() {}
    public mutating func next() -> CallHandle {
        last += 1
        return CallHandle(id: last)
    }
}

/// An account's registration state, as a UI shows it.
public enum RegistrationStatus: Sendable, Hashable {
    case unregistered
    case registering
    /// Registered; the binding lasts until the given time (seconds of the UA's clock).
    case registered(untilSeconds: Int64)
    /// In service without a registration (`register: no`): calls go through the proxy.
    case inServiceWithoutRegistration
    /// Waiting to try again after a failure.
    case retrying(atSeconds: Int64, reason: String)
    /// Given up until something changes (wrong credentials, 403).
    case failed(reason: String)

    /// Calls can be made: registered, or not registering by choice.
    public var inService: Bool {
        switch self {
        case .registered, .inServiceWithoutRegistration: true
        case .unregistered, .registering, .retrying, .failed: false
        }
    }

    /// As a log line says it, with times relative to `now` (seconds of the same clock).
    public func summary(now: Int64) -> String {
        switch self {
        case .unregistered: "unregistered"
        case .registering: "registering"
        case .registered(let until): "registered (expires in \(max(0, until - now)) s)"
        case .inServiceWithoutRegistration: "in service without registering (register: no)"
        case .retrying(let at, let reason): "retrying in \(max(0, at - now)) s (\(reason))"
        case .failed(let reason): "failed: \(reason)"
        }
    }
}

/// Who is calling, as caller ID shows it (from P-Asserted-Identity, else From).
public struct CallerIdentity: Sendable, Hashable {
    public enum Availability: Sendable, Hashable { case available, withheld, unavailable }
    public var number: String?
    public var name: String?
    public var availability: Availability
    public init(number: String?, name: String?, availability: Availability) {
        self.number = number
        self.name = name
        self.availability = availability
    }
}

/// Why a call ended.
public enum CallEndReason: Sendable, Hashable {
    /// The other side hung up (BYE) or gave up (CANCEL).
    case remoteHangUp
    /// We hung up.
    case localHangUp
    /// The call failed with a SIP status (busy 486, not found 404, …).
    case failed(status: Int, reason: String)
    /// No answer from the network (transaction timeout).
    case timeout
}

/// What the port controller asks the user agent to do.
public enum UserAgentCommand: Sendable, Hashable {
    case register
    /// Unregister (`Expires: 0`).
    case unregister
    /// Place a call; `withholdIdentity` sends an anonymous From and `Privacy: id` (CLIR).
    case invite(CallHandle, target: String, withholdIdentity: Bool)
    /// Give up an outgoing call before it is answered (CANCEL).
    case cancel(CallHandle)
    /// Answer an incoming call (200 OK).
    case answer(CallHandle)
    /// Refuse an incoming call with a status (486 busy, 480 unavailable, 603 decline…).
    case reject(CallHandle, status: Int)
    /// Send a ringing call to another number or URI (302 Moved Temporarily): forwarding.
    case redirect(CallHandle, target: String)
    /// End an established call (BYE).
    case hangUp(CallHandle)
    /// Put on hold / take off hold (re-INVITE with sendonly / sendrecv).
    case hold(CallHandle)
    case resume(CallHandle)
    /// A transfer the far end asked for is carried out by `newCall` (placed next): its
    /// progress goes to the far end as NOTIFYs in the transferred call's dialog.
    case acceptTransfer(CallHandle, newCall: CallHandle)
    /// A transfer the far end asked for is not carried out (603 Declined in the NOTIFY).
    case declineTransfer(CallHandle)
    /// Transfer a call of ours to the far end of another (REFER, RFC 3515): blind, to the
    /// URI that call was placed to; attended, to its far end with our dialog with it to
    /// replace (RFC 3891). How it ends comes back as ``UserAgentEvent/transferEnded(_:status:)``.
    case transfer(CallHandle, to: CallHandle, attended: Bool)
    /// Send a DTMF digit in the call (RFC 4733, SIP INFO or in-band as negotiated).
    case sendDigit(CallHandle, Character, milliseconds: Int)
    /// The call carries a fax or a modem: G.711 from now on — a re-INVITE offering only
    /// PCMU/PCMA when another codec (Opus) is in use (RFC 3264 §8); nothing when it is G.711.
    case useVoicebandCodec(CallHandle)
}

/// What the user agent reports.
public enum UserAgentEvent: Sendable, Hashable {
    case registration(RegistrationStatus)
    case incomingCall(CallHandle, caller: CallerIdentity)
    /// A new call that replaces an established one of ours (RFC 3891: the far end's attended
    /// transfer hands us to the party it consulted): answered in its place, not rung.
    case replacingCall(CallHandle, replaces: CallHandle, caller: CallerIdentity)
    /// 180: the far end rings (play ringback unless early media comes).
    case ringing(CallHandle)
    /// 183 with session description: play what the far end sends.
    case earlyMedia(CallHandle)
    case answered(CallHandle)
    case ended(CallHandle, CallEndReason)
    /// A digit received in the call.
    case digit(CallHandle, Character)
    /// The far end transfers us (RFC 3515 REFER, accepted with 202): call `target` — a URI,
    /// with a `?Replaces=` header when the transfer is attended — and report how it goes
    /// (``UserAgentCommand/acceptTransfer(_:newCall:)`` or ``UserAgentCommand/declineTransfer(_:)``).
    case transferRequested(CallHandle, target: String)
    /// A transfer we asked for (``UserAgentCommand/transfer(_:to:attended:)``) is over: the
    /// status of the REFER when it was refused, else the final one its NOTIFYs carried (2xx:
    /// the transferred party reached the target).
    case transferEnded(CallHandle, status: Int)
    case messageWaiting(waiting: Bool, newMessages: Int?, oldMessages: Int?)
}

/// A SIP user agent as the port controller uses it.
public protocol UserAgent: AnyObject {
    /// Called for each event, on the control plane.
    var onEvent: ((UserAgentEvent) -> Void)? { get set }
    /// Carries out a command; failures come back as events.
    func execute(_ command: UserAgentCommand)
    /// Where the agent gets the handle of each incoming call. In a port this is the port's
    /// ``CallHandles`` — the one numbering of the port's calls, also used for the calls it
    /// places — so handles never collide.
    var newCallHandle: () -> CallHandle { get set }
}
