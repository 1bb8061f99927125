import LineHAL
import TipRingCore

/// The electrical model of one port's SLIC, wired to the simulated GPIO chip and the
/// simulated telephone.
///
/// - `ag1171`: the pins mean what the Silvertel Ag1171 datasheet (V1.6) says, whatever the
///   board file claims: RM high = ringing mode; F/R high = forward, low = reverse (RM and
///   F/R together make the ring signal, the bell records every flip while RM is set); SHK
///   high = off-hook; PD low = powered down, open (pulled up inside) = running. Its SHK is
///   as the datasheet describes it, not a clean level: invalid (high) for 50 ms after the
///   SLIC powers up, dropping for 30 ms while a polarity reversal settles (≤ 50 ms), and,
///   with the handset lifted during ringing, pulsing with the ring current (high in the
///   forward half-cycles). The pin rules (PD never high, the ring stop order, RM's duty, the
///   ring frequency) are checked by ``Ag1171Rules`` and reported as violations.
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
        rules = Ag1171Rules(port: description.id)
        telephone.onContactChange = { [weak self] _ in self?.updateHookSense() }
        updateLineState()
        wasPowered = powered
    }

    /// The signals this SLIC listens to, by offset.
    var inputOffsets: [UInt32: SignalRole] {
        var m: [UInt32: SignalRole] = [:]
        for (role, line) in description.signals where role != .hookSense { m[line.offset] = role }
        return m
    }

    /// Datasheet rules the driver broke, in words, with when.
    var violations: [String] { rules.violations }
    /// Told of each violation as it happens.
    var onViolation: ((String) -> Void)?
    private var rules: Ag1171Rules
    /// SHK is not to be trusted until then: the SLIC is waking up (50 ms after power-up).
    private var wakingUntil: Instant = .zero
    /// SHK drops until then while a polarity reversal settles.
    private var settlingUntil: Instant = .zero
    private var wasPowered = false
    private var wasForward = true
    static let wakeUp = Duration.milliseconds(50)
    static let reversalGlitch = Duration.milliseconds(30)

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

    func pin(_ role: SignalRole) -> SimulatedGPIOChip.PinDrive? {
        description.signals[role].map { chip.pinDrive($0.offset) }
    }

    /// The datasheet's view of a pin change: rules, and what SHK does while the SLIC settles.
    private func ag1171PinChanged(_ role: SignalRole, at now: Instant) {
        let before = rules.violations.count
        defer { for v in rules.violations.dropFirst(before) { onViolation?(v) } }
        let forward = pin(.forwardReverse) != .low
        switch role {
        case .powerDown:
            if pin(.powerDown) == .high { rules.powerDownDrivenHigh(at: now) }
        case .ringMode:
            rules.ringMode(high: pin(.ringMode) == .high, forwardHigh: forward, powered: powered, at: now)
        case .forwardReverse:
            rules.forwardReverse(high: forward, ringMode: pin(.ringMode) == .high, at: now)
            if powered, pin(.ringMode) != .high, forward != wasForward { settle(until: now + Self.reversalGlitch, &settlingUntil) }
            wasForward = forward
        default:
            break
        }
        if powered && !wasPowered { settle(until: now + Self.wakeUp, &wakingUntil) }
        wasPowered = powered
    }

    /// SHK is off its true level until `end`; it is brought back then.
    private func settle(until end: Instant, _ window: inout Instant) {
        window = end
        _ = scheduler.schedule(at: end) { [weak self] in self?.updateHookSense() }
    }

    func outputChanged(_ role: SignalRole) {
        let now = scheduler.now
        if kind == .ag1171 { ag1171PinChanged(role, at: now) }
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
        guard kind == .ag1171 else {
            chip.drive(shk.offset, to: shk.level(active: loopCurrent))
            return
        }
        // The Ag1171's SHK is high with loop current (datasheet) — once it is awake and settled.
        let now = scheduler.now
        let level: Bool
        if powered && now < wakingUntil {
            level = true
        } else if loopCurrent && now < settlingUntil {
            level = false
        } else if isActive(.ringMode) {
            level = loopCurrent && pin(.forwardReverse) != .low
        } else {
            level = loopCurrent
        }
        chip.drive(shk.offset, to: GPIOLevel(level))
    }
}
