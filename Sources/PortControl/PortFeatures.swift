/// What the person at the phone has set with feature codes (or the configuration set for
/// them): forwards, do-not-disturb, speed dials — and what redial and call return need.
/// The machine owns it; the controller stores it whenever it changes (`featuresChanged`), so a
/// restart keeps what was dialled.
public struct PortFeatures: Sendable, Hashable {
    /// Where calls go instead of ringing here, per condition.
    public var forwards: [ForwardCondition: String] = [:]
    /// Seconds of ringing before a no-answer forward.
    public var noAnswerSeconds = 20
    public var doNotDisturb = false
    /// Two-digit code → number.
    public var speedDials: [String: String] = [:]
    /// The last number dialled (not a feature code), and the last caller who showed a number.
    public var lastDialled: String?
    public var lastCaller: String?

    public init() {}

    /// Forwarding of any kind is set: the dial tone stutters as a reminder.
    public var forwarding: Bool { !forwards.isEmpty }
}
