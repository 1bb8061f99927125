public import TipRingCore
public import LineHAL
public import BoardSimulator
public import PortStack

/// The simulated board as a ``BoardBackend``: its GPIO chips, the SLIC driver the board file
/// names on them, and its simulated sound devices (the telephones' earpieces and mouthpieces).
public final class SimulatedBoardBackend: BoardBackend {
    public let board: SimulatedBoard

    public init(_ board: SimulatedBoard) { self.board = board }

    public func chip(named name: String) throws(HALError) -> any GPIOChip {
        guard let p = board.board.ports.first(where: { $0.gpioChip == name }) else {
            throw HALError.unsupported("the simulated board has no GPIO chip \(name)")
        }
        return board.chip(for: p.id)
    }

    public func lineDriver(for port: PortDescription, driver kind: SLICDriverKind, scheduler: any Scheduler) throws(HALError) -> any LineDriver {
        board.makeDriver(port: port.id)
    }

    public func audioPort(for port: PortDescription) throws(HALError) -> any AudioPort { board.audioPort(port.id) }
}
