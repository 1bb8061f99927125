/// How late the ring half-cycle toggles ran behind their deadlines (a software-toggled
/// ring signal is only as clean as its timer). Near zero under the virtual scheduler;
/// under the wall-clock scheduler it is the host's timer jitter.
public struct RingTimingStats: Sendable, Hashable, CustomStringConvertible {
    public private(set) var toggles = 0
    public private(set) var totalLatenessNanoseconds: Int64 = 0
    public private(set) var worstLatenessNanoseconds: Int64 = 0

    public init() {}

    mutating func record(latenessNanoseconds l: Int64) {
        toggles += 1
        totalLatenessNanoseconds += max(l, 0)
        worstLatenessNanoseconds = max(worstLatenessNanoseconds, l)
    }

    public var meanLatenessMicroseconds: Double {
        toggles == 0 ? 0 : Double(totalLatenessNanoseconds) / Double(toggles) / 1000
    }

    public var description: String {
        let worst = Double(worstLatenessNanoseconds) / 1000
        return "\(toggles) half-cycle toggles, lateness mean \(Int(meanLatenessMicroseconds)) µs, worst \(Int(worst)) µs"
    }
}
