public import TipRingCore
public import TelephonyDSP

/// What the ringer asks of its caller.
public enum RingerAction: Sendable, Hashable {
    /// Start the ring signal at this frequency.
    case ringOn(frequency: Double)
    /// Stop the ring signal.
    case ringOff
    /// A silent interval of the cadence begins now and lasts until `until`: the window in
    /// which caller ID (after first ring) may be sent.
    case silence(until: Instant)
    /// Call ``Ringer/wake(now:)`` at this time (replaces any earlier request).
    case wake(at: Instant)
}

/// Rings a port with a cadence (sans-IO).
///
/// `start` begins with the cadence's first ring segment; each segment edge is a deadline.
/// Ring-trip — the phone lifted while ringing — stops the bell at once, whatever segment
/// is playing. Edges are computed from the start time, so late wake-ups do not drift the
/// cadence.
public struct Ringer: Sendable {
    public private(set) var cadence: RingCadence
    public private(set) var frequency: Double
    /// When the current ringing started, nil while not ringing.
    public private(set) var startedAt: Instant?
    /// The segment playing and when it ends.
    var segmentIndex = 0
    var segmentEnd: Instant = .zero
    /// Whether the ring signal is on now.
    public private(set) var isSounding = false
    /// How many ring segments have started since `start`.
    public private(set) var ringsStarted = 0

    public init(cadence: RingCadence, frequency: Double) {
        precondition(cadence.inconsistency == nil, cadence.inconsistency ?? "")
        self.cadence = cadence
        self.frequency = frequency
    }

    public var isRinging: Bool { startedAt != nil }

    /// Starts ringing now (restarts the cadence if already ringing).
    public mutating func start(now: Instant) -> [RingerAction] {
        startedAt = now
        segmentIndex = 0
        ringsStarted = 0
        segmentEnd = now
        isSounding = false
        return enterSegment(0, at: now)
    }

    /// Stops ringing (caller gave up, call answered elsewhere).
    public mutating func stop() -> [RingerAction] {
        guard startedAt != nil else { return [] }
        startedAt = nil
        if isSounding {
            isSounding = false
            return [.ringOff]
        }
        return []
    }

    /// The phone was lifted while ringing: stop the bell now.
    public mutating func ringTrip() -> [RingerAction] { stop() }

    /// Advances through every segment edge due by `now`.
    public mutating func wake(now: Instant) -> [RingerAction] {
        guard startedAt != nil else { return [] }
        var out: [RingerAction] = []
        while segmentEnd <= now {
            let next = (segmentIndex + 1) % cadence.segments.count
            let actions = enterSegment(next, at: segmentEnd)
            // Only the last segment's wake matters; earlier ones are superseded.
            out.removeAll { if case .wake = $0 { true } else { false } }
            out += actions
        }
        return out
    }

    /// The next silent interval starting at or after `time` (for planning caller ID).
    public func silentInterval(startingAtOrAfter time: Instant) -> Range<Instant>? {
        guard let start = startedAt else { return nil }
        var t = start
        var i = 0
        // Walk at most two periods from the start of the current repetition.
        let periods = max(0, (time - start).nanoseconds / cadence.period.nanoseconds)
        t = start + .nanoseconds(periods * cadence.period.nanoseconds)
        for _ in 0..<(2 * cadence.segments.count) {
            let seg = cadence.segments[i]
            let end = t + seg.duration
            if !seg.ring && t >= time { return t..<end }
            t = end
            i = (i + 1) % cadence.segments.count
        }
        return nil
    }

    private mutating func enterSegment(_ index: Int, at t: Instant) -> [RingerAction] {
        segmentIndex = index
        let seg = cadence.segments[index]
        segmentEnd = t + seg.duration
        var out: [RingerAction] = []
        if seg.ring {
            ringsStarted += 1
            if !isSounding {
                isSounding = true
                out.append(.ringOn(frequency: frequency))
            }
        } else {
            if isSounding {
                isSounding = false
                out.append(.ringOff)
            }
            out.append(.silence(until: segmentEnd))
        }
        out.append(.wake(at: segmentEnd))
        return out
    }
}
