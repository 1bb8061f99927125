public import TipRingCore
/// A port's features and timers (from the configuration; defaults as a good ATA ships them).
public struct PortSettings: Sendable, Hashable {
    public var dialPlan: DialPlan = .standard
    /// Off-hook with no digit this long: reorder.
    public var firstDigitTimeout: Duration = .seconds(10)
    /// Between digits when the number is incomplete / could be complete.
    public var longInterDigit: Duration = .seconds(10)
    public var shortInterDigit: Duration = .seconds(4)
    /// Busy/reorder this long before the howler, and the howler this long before silence.
    public var offHookWarning: Duration = .seconds(30)
    public var howlerDuration: Duration = .seconds(60)
    public var callWaiting = true
    /// An incoming call nobody answers is refused (480) after this: a caller that vanished
    /// without a CANCEL (a lost packet, a stateless proxy) never leaves the bell ringing for
    /// ever. Longer than the 3 minutes of a proxy's Timer C (RFC 3261 §16.6), so a proxy that
    /// does cancel is first.
    public var ringTimeout: Duration = .seconds(200)
    /// CLIR: anonymous From and Privacy: id.
    public var withholdIdentity = false
    /// Do not disturb: incoming calls are refused (486).
    public var doNotDisturb = false
    /// Hot line (delay zero) or warm line: dial this number after off-hook.
    public var autoDial: String?
    public var autoDialDelay: Duration = .zero
    /// Reverse the line polarity while an outgoing call is answered (payphones, meters).
    public var reversePolarityOnAnswer = false
    /// Visual message-waiting (FSK lamp) while on-hook.
    public var visualMessageWaiting = true
    /// The feature codes dialled at this port (the region's, with the configuration's changes).
    public var featureCodes = FeatureCodeTable.defaults(for: .us)
    /// Forwards, do-not-disturb and speed dials as the port starts (the configuration's, or
    /// what was dialled before a restart).
    public var features = PortFeatures()
    /// How a forward reaches its target: a 302 to the caller, or a new call of the port's.
    public var forwardBy: ForwardMethod = .redirect
    /// Hanging up in a three-way call: leave the other two talking (transfer) or end both.
    public var conferenceHangUp: ConferenceHangUp = .transfer
    /// What a hook flash does with two calls on the line: act at once (North America) or
    /// wait for a digit (Europe's "R" then 1, 2, 3, 4).
    public var hookFlash: HookFlashStyle = .flash

    public init() {}
}

/// How a hook flash is read while two calls are on the line.
public enum HookFlashStyle: String, Sendable, Hashable, CaseIterable {
    /// Telcordia three-way calling and call waiting: flash swaps to the waiting call, or joins
    /// the consulted party in; the handset's on-hook transfers.
    case flash
    /// ETSI/BT register recall: "R" gives the recall tone, then a digit says what to do —
    /// 0 refuse the waiting call, 1 end the call in progress and take the other, 2 swap
    /// (or take the waiting call), 3 three-way, 4 transfer (connect the two and leave).
    case recallDigits = "recall-digits"

    /// The region's habit: North America flashes, Europe and the rest dial after R.
    public static func defaults(for region: Region) -> HookFlashStyle {
        FeatureCodeTable.northAmerica.contains(region.code) ? .flash : .recallDigits
    }
}

/// How calls are forwarded.
public enum ForwardMethod: String, Sendable, Hashable, CaseIterable {
    /// 302 Moved Temporarily (RFC 3261 §21.3.3): the caller's side calls the target.
    case redirect
    /// The port calls the target and joins the two calls (for carriers that refuse 302).
    case invite
}

/// What hanging up does to a three-way call (ATAs offer both).
public enum ConferenceHangUp: String, Sendable, Hashable, CaseIterable {
    case transfer, end
}

/// The timers a port's machine runs.
public enum PortTimer: String, Sendable, Hashable, CaseIterable {
    case firstDigit, interDigit, offHookWarning, howler, autoDial, ringTimeout
    /// Ringing this long with a no-answer forward set: the call goes there.
    case forwardNoAnswer
    /// A transfer from this port that has not finished this long (the target still rings,
    /// no final NOTIFY came) is left to the two parties.
    case transferGiveUp
    /// "R" and no digit after it: back to the call in progress.
    case recallDigit
    /// The special-information tone after a refused transfer has played: back to the held call.
    case reconnect
}
