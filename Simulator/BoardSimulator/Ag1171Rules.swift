import TipRingCore

/// The Silvertel Ag1171 datasheet's (V1.6) rules for what drives its control pins, checked
/// as the pins change — written from the datasheet, not from the driver:
///
/// - PD (pin 14) is never driven high ("DO NOT put logic (H) on this pin").
/// - Ringing stops with F/R high first and RM low 10–500 ms later (§3.3, Fig. 3), never
///   with F/R low.
/// - RM is high at most 33 % of the time (absolute maximum): over every stretch of at least
///   6 s that starts where a ring burst starts (whole cadence periods for every regional
///   cadence), the share of RM high is at most a third.
/// - The ring signal (F/R toggled under RM) is 20–25 Hz, measured over each burst.
struct Ag1171Rules {
    let port: Int
    private(set) var violations: [String] = []
    /// Since when F/R has been high (nil: low).
    private var forwardSince: Instant?
    /// Ring bursts (RM high) so far, the last one open while RM is high.
    private var bursts: [(start: Instant, end: Instant?)] = []
    private var flips: [Instant] = []

    static let stopWindow = Duration.milliseconds(10)...Duration.milliseconds(500)
    static let ringFrequencies = 20.0...25.0
    static let dutyWindow = Duration.seconds(6)
    static let maximumDuty = 1.0 / 3.0

    init(port: Int) { self.port = port }

    static func oneDecimal(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    mutating func violated(_ what: String, at t: Instant) {
        violations.append("port \(port) at \(t): \(what)")
    }

    mutating func powerDownDrivenHigh(at t: Instant) {
        violated("PD driven high (Ag1171 pin 14: never put logic H on PD)", at: t)
    }

    mutating func forwardReverse(high: Bool, ringMode: Bool, at t: Instant) {
        if high, forwardSince == nil { forwardSince = t }
        if !high { forwardSince = nil }
        if ringMode { flips.append(t) }
    }

    mutating func ringMode(high: Bool, forwardHigh: Bool, powered: Bool = true, at t: Instant) {
        if high {
            bursts.append((t, nil))
            flips.removeAll()
            checkDuty(at: t)
            return
        }
        guard let open = bursts.indices.last, bursts[open].end == nil else { return }
        bursts[open].end = t
        if !powered {
            // Powered down (PD low), the SLIC ignores its control inputs: no stop order to keep.
        } else if !forwardHigh {
            violated("RM dropped with F/R low (§3.3: F/R high first, then RM low 10–500 ms later)", at: t)
        } else if let since = forwardSince.map({ max($0, bursts[open].start) }), !Self.stopWindow.contains(t - since) {
            // From F/R going high, or from RM going high if F/R was high already.
            violated("RM dropped \(Int64((t - since).milliseconds)) ms after F/R went high (§3.3: 10–500 ms)", at: t)
        }
        // The last flip may be the stop's F/R-high, ending a half-cycle early: not counted.
        let cycle = flips.dropLast()
        if cycle.count >= 3, let first = cycle.first, let last = cycle.last, last > first {
            let hz = Double(cycle.count - 1) / (2 * (last - first).seconds)
            // Measured over one burst of a real-time driver: 1 % for its timers' jitter.
            if !(Self.ringFrequencies.lowerBound * 0.99...Self.ringFrequencies.upperBound * 1.01).contains(hz) {
                violated("ring signal at \(Self.oneDecimal(hz)) Hz (the Ag1171 rings at 20–25 Hz)", at: t)
            }
        }
    }

    /// At a burst's start: the shortest stretch of at least 6 s from an earlier burst's start
    /// to this one.
    private mutating func checkDuty(at t: Instant) {
        guard let from = bursts.dropLast().last(where: { t - $0.start >= Self.dutyWindow })?.start else { return }
        var high = Duration.zero
        for b in bursts.dropLast() where b.start >= from {
            high += (b.end ?? t) - b.start
        }
        let share = high.seconds / (t - from).seconds
        if share > Self.maximumDuty + 0.0005 {
            violated("RM high \(Self.oneDecimal(share * 100)) % of the time over \(Int64((t - from).milliseconds)) ms (absolute maximum 33 %)", at: t)
        }
    }
}
