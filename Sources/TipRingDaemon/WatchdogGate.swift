/// Whether the daemon is well enough to tell the service manager so (`WATCHDOG=1`). The check
/// itself runs on the control plane, so a stuck control loop never gets here and the manager
/// restarts the daemon. Beyond that, every port's audio thread must have made progress since
/// the last check — except a port whose audio failed with a reported error: that port is in
/// fault and being recovered on its own, and restarting the whole daemon would take the other
/// ports down with it. A thread that stops without a word (stuck in a driver) is what the
/// watchdog is for.
struct WatchdogGate {
    enum Audio: Equatable {
        /// Periods run so far.
        case running(periods: UInt64)
        /// Failed with a reported error (the port shows the fault and reopens the device).
        case failed
        /// Stopped on purpose: nothing needs it (the line on-hook and silent).
        case paused
    }

    /// Periods at the last check, per port.
    private var last: [Int: UInt64] = [:]

    /// True to pet the watchdog; `stalled` names the ports whose audio made no progress.
    mutating func check(_ audio: [Int: Audio]) -> (pet: Bool, stalled: [Int]) {
        var stalled: [Int] = []
        var seen: [Int: UInt64] = [:]
        for (port, state) in audio {
            guard case .running(let periods) = state else { continue }
            if let before = last[port], periods == before { stalled.append(port) }
            seen[port] = periods
        }
        last = seen
        return (stalled.isEmpty, stalled.sorted())
    }
}
