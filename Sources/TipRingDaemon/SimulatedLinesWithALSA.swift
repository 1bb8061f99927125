import TipRingCore
import LineHAL
import LinuxHAL
import BoardSimulator

/// A board file whose GPIO chips are simulated but whose sound devices are real ALSA names
/// (`"null"`, a plugin, a USB codec): the simulated lines and phones with the real audio
/// path — for measuring that path (an idle port's cost with alsa-lib's devices) and for
/// trying a codec before any SLIC is wired.
final class SimulatedLinesWithALSA: BoardBackend {
    let lines: SimulatedBoard
    let sound = LinuxBoardBackend()

    init(lines: SimulatedBoard) { self.lines = lines }

    /// Whether `port` names a sound device of its own rather than the simulated one.
    static func usesALSA(_ port: PortDescription) -> Bool { port.audio.device != "sim" }

    func chip(named name: String) throws(HALError) -> any GPIOChip { try lines.chip(named: name) }

    func lineDriver(for port: PortDescription, driver kind: SLICDriverKind, scheduler: any Scheduler) throws(HALError) -> any LineDriver {
        try lines.lineDriver(for: port, driver: kind, scheduler: scheduler)
    }

    func audioPort(for port: PortDescription) throws(HALError) -> any AudioPort {
        Self.usesALSA(port) ? try sound.audioPort(for: port) : try lines.audioPort(for: port)
    }
}
