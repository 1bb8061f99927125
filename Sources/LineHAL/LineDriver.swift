public import TipRingCore

/// How the SLIC feeds the line (the DC state of tip and ring).
public enum LineFeed: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No loop current; the phone is dead. A disabled port sits here.
    case powerDown
    /// Normal battery polarity: the idle and talking state.
    case forward
    /// Reversed polarity: answer/disconnect supervision, and the alert for caller ID sent
    /// before the first ring.
    case reverse
    /// On-hook transmission: audio passes to an on-hook phone (caller ID, visual MWI).
    case onHookTransmission
    /// On-hook transmission with the polarity still reversed: caller ID sent before the first
    /// ring after a line reversal (ETSI DT-AS, DTMF), where the reversal lasts until the data
    /// is over — putting the polarity back mid-sequence is a second reversal the display sees.
    case reversedOnHookTransmission

    public var description: String {
        switch self {
        case .powerDown: "power-down"
        case .forward: "forward"
        case .reverse: "reverse"
        case .onHookTransmission: "on-hook-transmission"
        case .reversedOnHookTransmission: "reversed-on-hook-transmission"
        }
    }

    /// Whether tip and ring are reversed.
    public var isReversed: Bool { self == .reverse || self == .reversedOnHookTransmission }
    /// Whether audio is meant to reach an on-hook telephone.
    public var transmitsOnHook: Bool { self == .onHookTransmission || self == .reversedOnHookTransmission }
}

/// The switch-hook state of the telephone on a port.
public enum HookState: Sendable, Hashable, CustomStringConvertible {
    case onHook, offHook
    public var description: String { self == .onHook ? "on-hook" : "off-hook" }
}

/// A raw, undebounced change of the hook-sense signal: what the SLIC's switch-hook
/// output did and when. The hook decoder turns these into off-hook, on-hook, flash and
/// pulse digits.
public struct HookSenseEdge: Sendable, Hashable {
    public var state: HookState
    public var at: Instant

    public init(state: HookState, at: Instant) {
        self.state = state
        self.at = at
    }
}

/// Drives one FXS port's SLIC: line feed, ringing, and hook sense.
///
/// Implemented over ``GPIOChip`` by the SLIC drivers (`ag1171`, `gpio-ring`); a driver
/// for a register-controlled SLIC would implement the same protocol. All calls are made
/// on the control plane (the scheduler's executor); hook edges are delivered there too.
public protocol LineDriver: AnyObject {
    /// The port number from the board file.
    var port: Int { get }

    /// The current feed.
    var feed: LineFeed { get }

    /// Whether the ring signal is on.
    var isRinging: Bool { get }

    /// Requests the lines, sets the line to power-down, and starts reporting hook-sense
    /// edges to `onHookEdge` (on the scheduler). Reads the initial hook state and reports
    /// it as a first edge, so the caller never misses a phone that is already off-hook.
    func start(onHookEdge: @escaping (HookSenseEdge) -> Void) throws(HALError)

    /// Powers the line down and releases the lines.
    func stop()

    /// Why hook edges stopped coming (the GPIO chip hung up, an event read failed); nil
    /// while the line is watched as it should be.
    var failure: String? { get }
    /// Hook edges the kernel dropped (its event buffer full) and the driver mended.
    var lostHookEdges: Int { get }

    /// Sets the DC feed. While ringing, the feed applies once ringing stops.
    func setFeed(_ feed: LineFeed) throws(HALError)

    /// Starts the ring signal at `frequency` Hz (within the board's limits).
    func ringOn(frequency: Double) throws(HALError)

    /// Stops the ring signal (within ``RingConstraints/stopDelay``) and restores the feed.
    func ringOff() throws(HALError)

    /// What the SLIC demands of ringing.
    var ringConstraints: RingConstraints { get }
}

extension LineDriver {
    public var ringConstraints: RingConstraints { RingConstraints() }
}

/// What a SLIC demands of the ring signal and cadence (its datasheet's limits).
public struct RingConstraints: Sendable, Hashable {
    /// The ring frequencies it can make; a region asking for another is clamped into them.
    public var frequencies: ClosedRange<Double>?
    /// The largest share of time the ring signal may be on (the Ag1171's RM: 33 %).
    public var maximumDuty: Double?
    /// How long the ring signal stays on after ``LineDriver/ringOff()`` (the Ag1171: F/R high
    /// first, RM low 20 ms later)…
    public var stopDelay: Duration
    /// …after the half-cycle under way has ended.
    public var finishesHalfCycle: Bool

    public init(frequencies: ClosedRange<Double>? = nil, maximumDuty: Double? = nil, stopDelay: Duration = .zero, finishesHalfCycle: Bool = false) {
        self.frequencies = frequencies
        self.maximumDuty = maximumDuty
        self.stopDelay = stopDelay
        self.finishesHalfCycle = finishesHalfCycle
    }

    /// The longest the ring signal stays on after it is told to stop, at `frequency`.
    public func stopTime(at frequency: Double) -> Duration {
        stopDelay + (finishesHalfCycle ? .nanoseconds(Int64(1e9 / (2 * frequency))) : .zero)
    }
}

extension LineDriver {
    public var lostHookEdges: Int { 0 }
}
