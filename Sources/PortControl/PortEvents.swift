public import TelephonyDSP
public import LineHAL
public import SIPCore

/// What happens to a port.
public enum PortEvent: Sendable, Hashable {
    case powerOn
    case enable
    case disable
    case registration(RegistrationStatus)
    case offHook
    case onHook
    case flash
    /// A dialled digit, keypad (DTMF) or rotary (pulse) alike.
    case digit(Character)
    case timer(PortTimer)
    case incomingCall(CallHandle, CallerIdentity)
    case ringing(CallHandle)
    case earlyMedia(CallHandle)
    case answered(CallHandle)
    case ended(CallHandle, CallEndReason)
    case messageWaiting(Bool)
    /// A new call comes in to take the place of `replaces` (RFC 3891).
    case replacingCall(CallHandle, replaces: CallHandle)
    /// The far end of a call asks us to call `target` instead (a transfer, RFC 3515).
    case transferRequested(CallHandle, target: String)
    /// A transfer this port asked for is over (2xx: done; otherwise refused or failed).
    case transferEnded(CallHandle, status: Int)
}

/// What the machine asks the controller to do.
public enum PortAction: Sendable, Hashable {
    /// A command for the port's SIP user agent (register, place, answer, end, hold a call…).
    case sip(UserAgentCommand)
    case setFeed(LineFeed)
    /// Ring with the region's cadence, delivering caller ID at the region's point.
    case startRinging(CallerIdentity?)
    case stopRinging
    case playTone(ToneKind)
    case stopTone
    /// On-hook visual message-waiting signal (lamp on/off).
    case sendMessageWaiting(Bool)
    /// Audio of this call to and from the handset (nil: none).
    case connectMedia(CallHandle?)
    /// Three-way: the handset and both calls each hear the other two.
    case conferenceMedia(CallHandle, CallHandle)
    /// Two calls joined to each other by the port, the handset not in it (a forward by a new call).
    case relayMedia(CallHandle, CallHandle)
    case endRelay
    case startTimer(PortTimer, Duration)
    case cancelTimer(PortTimer)
}
