public import TipRingCore

/// What the hook switch meant, decided by the ``HookDecoder``.
public struct HookEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The loop closed and stayed closed past the debounce time: the handset may be
        /// lifted. Not yet a seizure — but enough to trip ringing at once.
        case loopClosed
        /// Off-hook confirmed (stable for the profile's seizure time).
        case offHook
        /// On-hook confirmed (a break longer than the hang-up minimum).
        case onHook
        /// A hook flash (recall).
        case flash
        /// A dialled pulse digit, 0–9 (ten pulses are 0).
        case pulseDigit(Int)
    }

    public var kind: Kind
    /// When the decision was made (for `onHook`, the break's deadline; for a digit, the
    /// end of the inter-digit make).
    public var at: Instant

    public init(_ kind: Kind, at: Instant) {
        self.kind = kind
        self.at = at
    }

    public var description: String {
        switch kind {
        case .loopClosed: "loop closed"
        case .offHook: "off-hook"
        case .onHook: "on-hook"
        case .flash: "flash"
        case .pulseDigit(let d): "pulse digit \(d)"
        }
    }
}

/// What the decoder asks of its caller.
public enum HookDecoderAction: Sendable, Hashable {
    /// Report this event.
    case event(HookEvent)
    /// Call ``HookDecoder/wake(now:)`` at this time (it replaces any earlier request):
    /// some decisions are made by the *absence* of an edge.
    case wake(at: Instant)
}

/// Counters and histograms for the bring-up tool: what the hook switch did that did not
/// make an event, and how long breaks and makes lasted (to tune profiles on a new phone).
public struct HookStatistics: Sendable, Hashable {
    /// Edges undone within the debounce time (contact bounce, chatter).
    public var bounces = 0
    /// Breaks longer than debounce whose length fell outside every window.
    public var ignoredBreaks = 0
    /// Off-hook periods too short to be a seizure.
    public var abortedSeizures = 0
    /// Pulse trains of more than ten pulses.
    public var invalidPulseTrains = 0
    /// Break lengths seen while off-hook, by 10 ms bucket (key = lower bound in ms).
    public var breakHistogram: [Int: Int] = [:]
    /// Make lengths between breaks, by 10 ms bucket, up to the digit-end time.
    public var makeHistogram: [Int: Int] = [:]

    mutating func record(break d: Duration) { breakHistogram[Self.bucket(d), default: 0] += 1 }
    mutating func record(make d: Duration) { makeHistogram[Self.bucket(d), default: 0] += 1 }
    static func bucket(_ d: Duration) -> Int { Int(d.nanoseconds / 10_000_000) * 10 }
}

/// Turns raw hook-sense edges into off-hook, on-hook, flash and pulse digits.
///
/// Sans-IO: feed it edges (with the time the hardware saw them) and wake-ups; it returns
/// events and the next time it must be woken. Durations are measured between edge
/// timestamps, so a late hand-over or a late wake-up does not change a classification.
///
/// Stages:
/// 1. **Debounce.** A level must hold for `debounce` before it counts; an edge undone
///    sooner is bounce. The level's start is the last edge's time, so bounce at the start
///    of a contact does not lengthen what follows.
/// 2. **Seizure.** From on-hook, a closed loop must last `seize` to be off-hook.
/// 3. **Breaks.** While off-hook, a break is classified when the loop closes again: a
///    pulse, a flash, or ignored (between windows). A break that reaches
///    `hangUpMinimum` is a hang-up, decided at that deadline.
/// 4. **Digits.** Pulses count until a make lasts `digitEnd`.
public struct HookDecoder: Sendable {
    /// Replaced only while the line is idle (a reload): the windows of a break or a digit
    /// under way stay what they were when it started.
    public internal(set) var profile: HookTimingProfile
    public private(set) var statistics = HookStatistics()

    enum Line: Sendable, Hashable {
        /// On-hook, confirmed.
        case idle
        /// Loop closed at `since`; off-hook once `seize` has passed.
        case seizing(since: Instant)
        /// Off-hook; `pulses` counted so far in the current digit, the loop closed at `since`.
        case offHook(since: Instant, pulses: Int)
        /// Off-hook but the loop opened at `since`.
        case breaking(since: Instant, pulses: Int)
    }

    var line: Line = .idle
    /// The debounced level and a level waiting out its debounce time.
    var stable: HookState = .onHook
    var pending: (state: HookState, since: Instant)?

    public init(profile: HookTimingProfile) {
        self.profile = profile
    }

    /// Whether the decoder holds the phone to be off-hook (confirmed).
    public var isOffHook: Bool {
        switch line {
        case .idle, .seizing: false
        case .offHook, .breaking: true
        }
    }

    /// Whether the loop is closed (debounced) or the phone off-hook: a handset lifted, or
    /// being lifted — the port's audio must run.
    public var loopIsClosed: Bool { stable == .offHook || isOffHook }

    /// The time at which the decoder must next be woken, if any.
    public var nextDeadline: Instant? {
        // A line deadline later than a pending edge waits for that edge's fate: if the edge
        // holds, it happened before the deadline and changes the line first.
        let line = lineDeadline
        guard let p = pending else { return line }
        let debounceEnd = p.since + profile.debounce
        if let line, line <= p.since { return min(line, debounceEnd) }
        return debounceEnd
    }

    private var lineDeadline: Instant? {
        switch line {
        case .idle: nil
        case .seizing(let since): since + profile.seize
        case .offHook(let since, let pulses): pulses > 0 ? since + profile.digitEnd : nil
        case .breaking(let since, _): since + profile.hangUpMinimum
        }
    }

    /// A raw edge. Deadlines that fall before it are settled first.
    public mutating func handle(_ edge: HookSenseEdge) -> [HookDecoderAction] {
        var out: [HookDecoderAction] = []
        settle(upTo: edge.at, into: &out)
        if let p = pending {
            if edge.state == stable {
                statistics.bounces += 1  // undone within the debounce time
                pending = nil
            } else if edge.state != p.state {
                pending = (edge.state, edge.at)
            }
        } else if edge.state != stable {
            pending = (edge.state, edge.at)
        }
        appendWake(into: &out)
        return out
    }

    /// A wake-up: settles every decision due by `now`.
    public mutating func wake(now: Instant) -> [HookDecoderAction] {
        var out: [HookDecoderAction] = []
        settle(upTo: now, into: &out)
        appendWake(into: &out)
        return out
    }

    private func appendWake(into out: inout [HookDecoderAction]) {
        if let d = nextDeadline { out.append(.wake(at: d)) }
    }

    /// Runs every deadline up to `limit`, earliest first.
    private mutating func settle(upTo limit: Instant, into out: inout [HookDecoderAction]) {
        while let d = nextDeadline, d <= limit {
            if let p = pending, p.since + profile.debounce == d {
                pending = nil
                stable = p.state
                commit(p.state, at: p.since, decidedAt: d, into: &out)
                continue
            }
            deadline(d, into: &out)
        }
    }

    /// A debounced level change that happened at `t`.
    private mutating func commit(_ state: HookState, at t: Instant, decidedAt now: Instant, into out: inout [HookDecoderAction]) {
        switch (line, state) {
        case (.idle, .offHook):
            line = .seizing(since: t)
            out.append(.event(HookEvent(.loopClosed, at: now)))
        case (.seizing, .onHook):
            statistics.abortedSeizures += 1
            line = .idle
        case (.offHook(let since, let pulses), .onHook):
            if pulses > 0 { statistics.record(make: t - since) }
            line = .breaking(since: t, pulses: pulses)
        case (.breaking(let since, let pulses), .offHook):
            let length = t - since
            statistics.record(break: length)
            if profile.pulseBreak.contains(length) {
                line = .offHook(since: t, pulses: pulses + 1)
            } else {
                endDigit(pulses, at: now, into: &out)
                if profile.flash.contains(length) {
                    out.append(.event(HookEvent(.flash, at: now)))
                } else {
                    statistics.ignoredBreaks += 1
                }
                line = .offHook(since: t, pulses: 0)
            }
        case (.idle, .onHook), (.seizing, .offHook), (.offHook, .offHook), (.breaking, .onHook):
            break  // no change of level
        }
    }

    /// A deadline of the line state (not a debounce).
    private mutating func deadline(_ d: Instant, into out: inout [HookDecoderAction]) {
        switch line {
        case .seizing:
            line = .offHook(since: d, pulses: 0)
            out.append(.event(HookEvent(.offHook, at: d)))
        case .offHook(let since, let pulses):
            endDigit(pulses, at: d, into: &out)
            line = .offHook(since: since, pulses: 0)
        case .breaking(_, let pulses):
            endDigit(pulses, at: d, into: &out)
            line = .idle
            out.append(.event(HookEvent(.onHook, at: d)))
        case .idle:
            preconditionFailure("idle has no deadline")
        }
    }

    private mutating func endDigit(_ pulses: Int, at t: Instant, into out: inout [HookDecoderAction]) {
        guard pulses > 0 else { return }
        if pulses <= 10 {
            out.append(.event(HookEvent(.pulseDigit(pulses % 10), at: t)))
        } else {
            statistics.invalidPulseTrains += 1
        }
    }
}
