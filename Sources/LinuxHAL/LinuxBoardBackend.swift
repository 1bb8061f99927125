public import TipRingCore
public import LineHAL

/// The Linux board: GPIO through libgpiod (each chip opened once, shared by its ports) — or
/// through the legacy sysfs interface for a chip named `sysfs:gpiochipN`, on vendor kernels
/// without the character device — and audio through alsa-lib.
public final class LinuxBoardBackend: BoardBackend {
    var chips: [String: any GPIOChip] = [:]
    /// Where sysfs GPIO lives (a folder of the same shape in tests).
    let sysfsRoot: String
    /// The board file's prefix for a sysfs chip.
    public static let sysfsPrefix = "sysfs:"

    public init(sysfsRoot: String = "/sys/class/gpio") {
        self.sysfsRoot = sysfsRoot
    }

    public func chip(named name: String) throws(HALError) -> any GPIOChip {
        if let c = chips[name] { return c }
        let c: any GPIOChip
        if name.hasPrefix(Self.sysfsPrefix) {
            c = try SysfsGPIOChip(chip: String(name.dropFirst(Self.sysfsPrefix.count)), root: sysfsRoot)
        } else {
            do {
                c = try LibgpiodChip.open(name)
            } catch {
                throw Self.withSysfsHint(error, chip: name, root: sysfsRoot)
            }
        }
        chips[name] = c
        return c
    }

    /// A chip libgpiod cannot open but sysfs has (an old kernel): the error says how to use it.
    static func withSysfsHint(_ error: HALError, chip: String, root: String) -> HALError {
        let sysfs = SysfsGPIOChip.chips(root: root)
        guard case .deviceNotFound(let device, let reason, let available) = error, !sysfs.isEmpty else { return error }
        let named = sysfs.contains(chip) ? chip : sysfs[0]
        return .deviceNotFound(device: device, reason: reason + "; sysfs GPIO has \(sysfs.joined(separator: ", ")) — for it write gpioChip: \"\(sysfsPrefix)\(named)\"",
                               available: available)
    }

    public func lineDriver(for port: PortDescription, driver kind: SLICDriverKind, scheduler: any Scheduler) throws(HALError) -> any LineDriver {
        SLICDriverFactory.make(kind: kind, port: port, chip: try chip(named: port.gpioChip), scheduler: scheduler)
    }

    public func audioPort(for port: PortDescription) throws(HALError) -> any AudioPort {
        try ALSAAudioPort(name: "port \(port.id)", device: port.audio.device, format: port.audio.format)
    }
}
