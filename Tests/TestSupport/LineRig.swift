package import TipRingCore
import TelephonyDSP
package import LineHAL
package import BoardSimulator

/// A simulated board with the real SLIC driver, hook decoder and ringer on every port,
/// in virtual time: what every line-layer test runs on.
package final class LineRig {
    package let scheduler: VirtualScheduler
    package let board: SimulatedBoard
    package var lines: [Int: PortLine] = [:]
    package var events: [Int: [HookEvent]] = [:]
    package var silences: [Int: [Instant]] = [:]

    package static func description(driver: SLICDriverKind = .ag1171, profile: HookTimingProfile = .b222s, ports: Int = 2) -> BoardDescription {
        let ps = (1...ports).map { id -> PortDescription in
            let base = UInt32((id - 1) * 4)
            let signals: [SignalRole: SignalLine] = driver == .ag1171
                ? [.hookSense: SignalLine(offset: base), .ringMode: SignalLine(offset: base + 1),
                   .forwardReverse: SignalLine(offset: base + 2, activeLow: true), .powerDown: .ag1171PowerDown(base + 3)]
                : [.hookSense: SignalLine(offset: base, activeLow: true), .ringEnable: SignalLine(offset: base + 1),
                   .forwardReverse: SignalLine(offset: base + 2), .powerDown: SignalLine(offset: base + 3)]
            return PortDescription(id: id, gpioChip: "sim0", signals: signals,
                                   audio: AudioDeviceDescription(device: "sim", format: .narrowband20ms),
                                   ring: RingLimits(defaultFrequency: 25, minimumFrequency: 20, maximumFrequency: 25))
        }
        return BoardDescription(name: "rig", summary: "", driver: driver, verified: true, timingProfile: profile, ports: ps)
    }

    package init(driver: SLICDriverKind = .ag1171, profile: HookTimingProfile = .b222s, ports: Int = 2, seed: UInt64 = 1) throws {
        scheduler = VirtualScheduler(seed: seed)
        board = SimulatedBoard(board: Self.description(driver: driver, profile: profile, ports: ports), scheduler: scheduler)
        for id in 1...ports {
            let line = PortLine(driver: board.makeDriver(port: id), profile: profile, scheduler: scheduler)
            line.onHookEvent = { [unowned self] in self.events[id, default: []].append($0) }
            line.onRingSilence = { [unowned self] _ in self.silences[id, default: []].append(self.scheduler.now) }
            try line.start()
            line.setFeed(.forward)
            lines[id] = line
        }
        scheduler.runUntilIdle()
    }

    package func phone(_ id: Int) -> SimulatedTelephone { board.telephone(id) }

    /// The decoded events of a port, without the loop-closed hints.
    package func decoded(_ id: Int) -> [HookEvent.Kind] {
        (events[id] ?? []).map(\.kind).filter { $0 != .loopClosed }
    }

    /// Runs until `t` (virtual), then lets every pending decision settle.
    package func run(until t: Instant) {
        scheduler.run(until: t)
    }

    package func settle() {
        scheduler.run(until: scheduler.now + .seconds(5))
    }

    /// Lifts the handset and waits for off-hook to be confirmed; returns that time.
    @discardableResult
    package func offHook(_ id: Int) -> Instant {
        phone(id).liftHandset()
        scheduler.run(until: scheduler.now + .seconds(1))
        return scheduler.now
    }
}
