import LineHAL
import TipRingCore

/// The electrical model of one port's SLIC, wired to the simulated GPIO chip and the
/// simulated telephone.
///
/// - `ag1171`: ring mode (RM) plus forward/reverse (F/R) flips make the ring signal; the
///   bell records every flip while RM is set. Power-down (PD) cuts loop current.
/// - `gpio-ring`: the ring-enable line starts the SLIC's own generator at the port's
///   default frequency.
/// The switch-hook output follows loop current: handset lifted and line powered.
final class SimulatedSLIC {
    let description: PortDescription
    let kind: SLICDriverKind
    let chip: SimulatedGPIOChip
    let telephone: SimulatedTelephone
    let scheduler: any Scheduler

    init(description: PortDescription, kind: SLICDriverKind, chip: SimulatedGPIOChip, telephone: SimulatedTelephone, scheduler: any Scheduler) {
        self.description = description
        self.kind = kind
        self.chip = chip
        self.telephone = telephone
        self.scheduler = scheduler
        telephone.onContactChange = { [unowned self] _ in self.updateHookSense() }
        updateLineState()
    }

    /// The signals this SLIC listens to, by offset.
    var inputOffsets: [UInt32: SignalRole] {
        var m: [UInt32: SignalRole] = [:]
        for (role, line) in description.signals where role != .hookSense { m[line.offset] = role }
        return m
    }

    func isActive(_ role: SignalRole) -> Bool {
        guard let line = description.signals[role] else { return false }
        return line.isActive(chip.level(line.offset))
    }

    var powered: Bool { !isActive(.powerDown) }

    func outputChanged(_ role: SignalRole) {
        let now = scheduler.now
        switch (kind, role) {
        case (.ag1171, .ringMode):
            if isActive(.ringMode) { telephone.bell.ringStart(at: now) } else { telephone.bell.ringStop(at: now) }
        case (.ag1171, .forwardReverse) where isActive(.ringMode):
            telephone.bell.flip(at: now)
        case (.gpioRing, .ringEnable):
            if isActive(.ringEnable) {
                telephone.bell.ringStart(at: now, nominalFrequency: description.ring.defaultFrequency)
            } else {
                telephone.bell.ringStop(at: now)
            }
        default:
            break
        }
        updateLineState()
        updateHookSense()
    }

    func updateLineState() {
        telephone.linePowered = powered
        let ringing = kind == .ag1171 ? isActive(.ringMode) : isActive(.ringEnable)
        if !ringing { telephone.recordPolarity(reversed: isActive(.forwardReverse)) }
    }

    func updateHookSense() {
        guard let shk = description.signals[.hookSense] else { return }
        let loopCurrent = telephone.contactClosed && powered
        chip.drive(shk.offset, to: shk.level(active: loopCurrent))
    }
}
