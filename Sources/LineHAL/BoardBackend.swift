public import TipRingCore

/// Where a port's hardware comes from: the board's real GPIO chips and sound devices, or a
/// simulation of them. The daemon, the bring-up tool, the demo and the tests ask it for the
/// same three things and wire what they get the same way (``PortStack``).
public protocol BoardBackend: AnyObject {
    /// The GPIO chip named in the board file (`gpioChip`).
    func chip(named name: String) throws(HALError) -> any GPIOChip
    /// The port's SLIC driver on its GPIO lines.
    func lineDriver(for port: PortDescription, driver kind: SLICDriverKind, scheduler: any Scheduler) throws(HALError) -> any LineDriver
    /// The port's sound device (not started).
    func audioPort(for port: PortDescription) throws(HALError) -> any AudioPort
}
