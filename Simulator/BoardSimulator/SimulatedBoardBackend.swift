public import TipRingCore
public import LineHAL

/// The simulated board as a ``BoardBackend``: its GPIO chips, the SLIC driver the board file
/// names on them, and its simulated sound devices (the telephones' earpieces and mouthpieces).
extension SimulatedBoard: BoardBackend {
    public func chip(named name: String) throws(HALError) -> any GPIOChip {
        guard let p = board.ports.first(where: { $0.gpioChip == name }) else {
            throw HALError.unsupported("the simulated board has no GPIO chip \(name)")
        }
        return chip(for: p.id)
    }

    public func lineDriver(for port: PortDescription, driver kind: SLICDriverKind, scheduler: any Scheduler) throws(HALError) -> any LineDriver {
        guard board.port(port.id) != nil else { throw HALError.unsupported("the simulated board has no port \(port.id)") }
        return makeDriver(port: port.id)
    }

    public func audioPort(for port: PortDescription) throws(HALError) -> any AudioPort {
        guard board.port(port.id) != nil else { throw HALError.unsupported("the simulated board has no port \(port.id)") }
        return audioPort(port.id)
    }
}
