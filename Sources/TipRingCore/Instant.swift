#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic time line, in nanoseconds.
///
/// Every sans-IO state machine in TipRing receives time as an `Instant` (`now:`) and
/// never reads a clock itself. Under the virtual scheduler `Instant.zero` is the start of
/// the run; under the wall-clock scheduler it is `CLOCK_MONOTONIC`'s origin.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64

    @inlinable
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = Instant(nanoseconds: 0)
    /// Later than any deadline a program can set; used for "never".
    public static let distantFuture = Instant(nanoseconds: .max / 2)

    public static func milliseconds(_ ms: Int64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }
    public static func seconds(_ s: Int64) -> Instant { Instant(nanoseconds: s * 1_000_000_000) }

    /// Seconds since 1970 by the wall clock (`CLOCK_REALTIME`): for records a person reads
    /// (a call's time), never for measuring durations.
    public static func wallSecondsNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// `CLOCK_MONOTONIC` now: what the wall-clock scheduler and the hardware backends use.
    public static func monotonicNow() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    @inlinable public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    // Saturating: a deadline a peer pushed past the end of time stays there instead of
    // wrapping into the past (a timer that would fire at once, and again, and again).
    @inlinable public static func + (a: Instant, d: Duration) -> Instant {
        let (sum, overflow) = a.nanoseconds.addingReportingOverflow(d.nanoseconds)
        return Instant(nanoseconds: overflow ? (d.nanoseconds > 0 ? .max : .min) : sum)
    }
    @inlinable public static func - (a: Instant, d: Duration) -> Instant {
        let (difference, overflow) = a.nanoseconds.subtractingReportingOverflow(d.nanoseconds)
        return Instant(nanoseconds: overflow ? (d.nanoseconds > 0 ? .min : .max) : difference)
    }
    @inlinable public static func += (a: inout Instant, d: Duration) { a = a + d }

    /// The time from `b` to `a`.
    @inlinable public static func - (a: Instant, b: Instant) -> Duration {
        let (difference, overflow) = a.nanoseconds.subtractingReportingOverflow(b.nanoseconds)
        return .nanoseconds(overflow ? (a.nanoseconds > b.nanoseconds ? .max : .min) : difference)
    }

    /// Milliseconds since the origin, for logs and tables.
    public var milliseconds: Double { Double(nanoseconds) / 1_000_000 }

    /// `12.345s` — milliseconds resolution, enough for timelines.
    public var description: String {
        let ms = nanoseconds / 1_000_000
        let sign = ms < 0 ? "-" : ""
        let a = abs(ms)
        let frac = a % 1000
        return "\(sign)\(a / 1000).\(frac < 10 ? "00" : frac < 100 ? "0" : "")\(frac)s"
    }
}

extension Int64 {
    /// A floating-point value rounded toward zero, saturating at the ends of `Int64`; NaN is
    /// 0. `Int64(x)` traps on NaN, infinity and overflow, and x may come from a peer.
    @inlinable public init(saturating d: Double) {
        if d.isNaN { self = 0 } else if d >= 9.223_372_036_854_775e18 { self = .max } else if d <= -9.223_372_036_854_775e18 { self = .min } else { self = Int64(d) }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating to `Int64`).
    @inlinable public var nanoseconds: Int64 {
        let (s, a) = components
        let (whole, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s > 0 ? .max : .min }
        let (sum, o2) = whole.addingReportingOverflow(a / 1_000_000_000)
        return o2 ? (s > 0 ? .max : .min) : sum
    }

    /// The duration in milliseconds, as a `Double`.
    public var milliseconds: Double { Double(nanoseconds) / 1_000_000 }

    /// The duration in seconds, as a `Double`.
    public var seconds: Double { Double(nanoseconds) / 1_000_000_000 }
}
