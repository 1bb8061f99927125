public import TipRingCore

/// A ring cadence: alternating ring-on and silent segments, repeated.
///
/// For example the UK's double ring is on 0.4 s, off 0.2 s, on 0.4 s, off 2.0 s. Each
/// segment's `ring` says whether the bell sounds. A cadence must start with a ring segment
/// and contain at least one silent segment (where caller ID can be sent).
public struct RingCadence: Sendable, Hashable, CustomStringConvertible {
    public struct Segment: Sendable, Hashable {
        public var ring: Bool
        public var duration: Duration
        public init(ring: Bool, duration: Duration) {
            self.ring = ring
            self.duration = duration
        }
    }

    public var segments: [Segment]

    /// Builds a cadence from alternating on/off durations in milliseconds, starting with on.
    public init(milliseconds: [Int64]) {
        precondition(milliseconds.count >= 2 && milliseconds.count % 2 == 0, "on/off pairs")
        segments = milliseconds.enumerated().map { Segment(ring: $0.offset % 2 == 0, duration: .milliseconds($0.element)) }
    }

    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// The length of one repetition.
    public var period: Duration { segments.reduce(.zero) { $0 + $1.duration } }

    /// Why this cadence cannot be used, or nil.
    public var inconsistency: String? {
        guard let first = segments.first else { return "a cadence needs segments" }
        if !first.ring { return "a cadence starts with ringing" }
        if !segments.contains(where: { !$0.ring }) { return "a cadence needs a silent segment" }
        if segments.contains(where: { $0.duration <= .zero }) { return "segments must have positive length" }
        return nil
    }

    public var description: String {
        segments.map { "\($0.ring ? "on" : "off") \(Int64($0.duration.milliseconds)) ms" }.joined(separator: ", ")
    }

    /// The cadence with its ring segments shortened — each silence after a ring lengthened by
    /// as much, so the period stays — until ringing, with `overhead` added to every ring
    /// segment (a SLIC's stop delay, a timer's lateness), is on at most `duty` of the period.
    /// Unchanged when it already is.
    public func limitingDuty(_ duty: Double, overhead: Duration) -> RingCadence {
        let rings = segments.filter(\.ring)
        let ringNs = rings.reduce(Int64(0)) { $0 + $1.duration.nanoseconds }
        let allowed = Int64(duty * Double(period.nanoseconds)) - Int64(rings.count) * overhead.nanoseconds
        guard ringNs > allowed, ringNs > 0 else { return self }
        let scale = Double(max(allowed, 0)) / Double(ringNs)
        var out = segments
        var carried: Int64 = 0
        for i in out.indices {
            let ns = out[i].duration.nanoseconds
            if out[i].ring {
                // Whole milliseconds, at least one: a bell still rings, shorter.
                let kept = max(1_000_000, Int64(Double(ns) * scale) / 1_000_000 * 1_000_000)
                carried += ns - kept
                out[i].duration = .nanoseconds(kept)
            } else {
                out[i].duration = .nanoseconds(ns + carried)
                carried = 0
            }
        }
        if carried > 0, let last = out.indices.last(where: { !out[$0].ring }) {
            out[last].duration = .nanoseconds(out[last].duration.nanoseconds + carried)
        }
        return RingCadence(segments: out)
    }

    /// North America (Telcordia GR-506): 2 s on, 4 s off, 20 Hz.
    public static let us = RingCadence(milliseconds: [2000, 4000])
    /// United Kingdom (BT SIN 350): 0.4 on, 0.2 off, 0.4 on, 2.0 off, 25 Hz.
    public static let gb = RingCadence(milliseconds: [400, 200, 400, 2000])
    /// Germany (1TR110 / FTZ): 1 s on, 4 s off, 25 Hz.
    public static let de = RingCadence(milliseconds: [1000, 4000])
}

/// A region's ring signal: cadence and frequency.
public struct RegionalRinging: Sendable, Hashable {
    public var cadence: RingCadence
    public var frequency: Double

    public init(cadence: RingCadence, frequency: Double) {
        self.cadence = cadence
        self.frequency = frequency
    }

    /// The ring signal of a region with a tone plan.
    public static func forRegion(_ region: Region) -> RegionalRinging? { RegionTonePlan.forRegion(region)?.ringing }
}
