public import LineHAL
public import TipRingCore

/// A whole simulated board built from a board description: simulated GPIO chips wired to
/// a simulated SLIC per port, a telephone on each port, and a simulated codec per port.
///
/// It simulates at the GPIO level, so the real SLIC driver, hook decoder and ringer run
/// on it unchanged, under the virtual or the wall-clock scheduler.
public final class SimulatedBoard {
    public let board: BoardDescription
    public let scheduler: any Scheduler
    public private(set) var chips: [String: SimulatedGPIOChip] = [:]
    var slics: [Int: SimulatedSLIC] = [:]
    var phones: [Int: SimulatedTelephone] = [:]
    var audio: [Int: SimulatedAudioPort] = [:]
    /// A test that provokes a datasheet violation on purpose says so; every other violation
    /// is printed as it happens with ``violationMarker``, which fails `make test` whichever
    /// test (or simulated product) caused it.
    public var expectsViolations = false
    public static let violationMarker = "Ag1171 datasheet violation"

    public init(board: BoardDescription, scheduler: any Scheduler) {
        self.board = board
        self.scheduler = scheduler
        var lineCounts: [String: Int] = [:]
        for port in board.ports {
            let top = port.signals.values.map { Int($0.offset) + 1 }.max() ?? 1
            lineCounts[port.gpioChip] = max(lineCounts[port.gpioChip] ?? 0, top)
        }
        for (name, count) in lineCounts {
            var names: [UInt32: String] = [:]
            for port in board.ports where port.gpioChip == name {
                for (role, line) in port.signals { names[line.offset] = "PORT\(port.id)_\(role.rawValue)" }
            }
            chips[name] = SimulatedGPIOChip(name: name, lineCount: count, scheduler: scheduler, lineNames: names)
        }
        for port in board.ports {
            let chip = chips[port.gpioChip]!
            let phone = SimulatedTelephone(port: port.id, scheduler: scheduler)
            phones[port.id] = phone
            let slic = SimulatedSLIC(description: port, kind: board.driver, chip: chip, telephone: phone, scheduler: scheduler)
            slic.onViolation = { [weak self] v in
                if self?.expectsViolations != true { print("TipRing simulator: \(Self.violationMarker): \(v)") }
            }
            slics[port.id] = slic
            audio[port.id] = SimulatedAudioPort(name: "sim:port\(port.id)", format: port.audio.format, telephone: phone, scheduler: scheduler)
        }
        for (name, chip) in chips {
            let portsOnChip = slics.values.filter { $0.description.gpioChip == name }
            chip.outputObserver = { offset, _ in
                for slic in portsOnChip {
                    if let role = slic.inputOffsets[offset] { slic.outputChanged(role) }
                }
            }
        }
    }

    /// Builds the simulated board of a board file.
    public convenience init(boardFile path: String, scheduler: any Scheduler) throws(DocumentError) {
        self.init(board: try BoardFile.load(path: path), scheduler: scheduler)
    }

    /// Every datasheet rule a driver broke on this board's SLICs, in order; a simulator run
    /// that leaves any here has driven the hardware in a way that may damage it.
    public var violations: [String] { slics.keys.sorted().flatMap { slics[$0]!.violations } }

    public func telephone(_ port: Int) -> SimulatedTelephone { phones[port]! }
    public func audioPort(_ port: Int) -> SimulatedAudioPort { audio[port]! }
    public func chip(for port: Int) -> SimulatedGPIOChip { chips[board.port(port)!.gpioChip]! }

    /// The real SLIC driver for a port, on this board's simulated chip.
    public func makeDriver(port: Int) -> any LineDriver {
        SLICDriverFactory.make(kind: board.driver, port: board.port(port)!, chip: chip(for: port), scheduler: scheduler)
    }
}
