import LineHAL
import TipRingCore

/// The electrical model of one port's SLIC, wired to the simulated GPIO chip and the
/// simulated telephone.
///
/// - `ag1171`: the pins mean what the Silvertel Ag1171 datasheet (V1.6) says, whatever the
///   board file claims: RM high = ringing mode; F/R high = forward, low = reverse (RM and
///   F/R together make the ring signal, the bell records every flip while RM is set); SHK
///   high = off-hook; PD low = powered down, open (pulled up inside) = running, and a PD
///   driven high is a violation ("DO NOT put logic (H) on this pin", pin 14).
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
        telephone.onContactChange = { [weak self] _ in self?.updateHookSense() }
        updateLineState()
    }

    /// The signals this SLIC listens to, by offset.
    var inputOffsets: [UInt32: SignalRole] {
        var m: [UInt32: SignalRole] = [:]
        for (role, line) in description.signals where role != .hookSense { m[line.offset] = role }
        return m
    }

    /// Datasheet rules the driver broke, in words, with when.
    private(set) var violations: [String] = []

    func isActive(_ role: SignalRole) -> Bool {
        guard let line = description.signals[role] else { return false }
        guard kind == .ag1171 else { return line.isActive(chip.level(line.offset)) }
        let pin = chip.pinDrive(line.offset)
        switch role {
        case .powerDown: return pin == .low
        case .forwardReverse: return pin == .low  // low = reverse
        default: return pin == .high
        }
    }

    var powered: Bool { !isActive(.powerDown) }

    private func checkDatasheetRules() {
        guard kind == .ag1171, let pd = description.signals[.powerDown], chip.pinDrive(pd.offset) == .high else { return }
        violations.append("port \(description.id) at \(scheduler.now): PD driven high (Ag1171 pin 14: never put logic H on PD)")
    }

    func outputChanged(_ role: SignalRole) {
        let now = scheduler.now
        if role == .powerDown { checkDatasheetRules() }
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
        // The Ag1171's SHK is high with loop current (datasheet); other kinds as the board says.
        chip.drive(shk.offset, to: kind == .ag1171 ? GPIOLevel(loopCurrent) : shk.level(active: loopCurrent))
    }
}
