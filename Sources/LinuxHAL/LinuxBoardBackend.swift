public import TipRingCore
public import LineHAL

/// The Linux board: GPIO through libgpiod (each chip opened once, shared by its ports) and
/// audio through alsa-lib.
public final class LinuxBoardBackend: BoardBackend {
    var chips: [String: any GPIOChip] = [:]

    public init() {}

    public func chip(named name: String) throws(HALError) -> any GPIOChip {
        if let c = chips[name] { return c }
        let c = try LibgpiodChip.open(name)
        chips[name] = c
        return c
    }

    public func lineDriver(for port: PortDescription, driver kind: SLICDriverKind, scheduler: any Scheduler) throws(HALError) -> any LineDriver {
        SLICDriverFactory.make(kind: kind, port: port, chip: try chip(named: port.gpioChip), scheduler: scheduler)
    }

    public func audioPort(for port: PortDescription) throws(HALError) -> any AudioPort {
        try ALSAAudioPort(name: "port \(port.id)", device: port.audio.device, format: port.audio.format)
    }
}
