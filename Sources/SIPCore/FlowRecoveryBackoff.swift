/// The wait before trying again after consecutive failures, as RFC 5626 §4.5 gives it for a
/// flow that failed: `min(max-time, base-time · 2^(failures−1))`, then a random share of it
/// between 50 % and 100 % so that many devices that lost the same server do not come back
/// in step. Registration retries and the daemon's attempts to attach an account (a name that
/// does not resolve yet, a server that is not reachable) both wait this long.
public enum FlowRecoveryBackoff {
    /// `failures` counts this one (1 after the first failure); `unit` is a random draw in
    /// [0, 1). Never less than half of `base`, never more than `ceiling`.
    public static func wait(failures: Int, base: Duration, ceiling: Duration, unit: Double) -> Duration {
        let doublings = min(max(failures - 1, 0), 30)
        var full = Double(base.nanoseconds)
        for _ in 0..<doublings { full *= 2 }
        full = min(Double(ceiling.nanoseconds), full)
        let share = 0.5 + 0.5 * (unit.isNaN ? 0 : min(max(unit, 0), 1))
        return .nanoseconds(Int64(saturating: full * share))
    }
}
