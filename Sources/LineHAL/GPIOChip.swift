public import TipRingCore

/// The electrical level of a GPIO line, as the chip sees it (before any active-low
/// translation, which belongs to the board file's signal description).
public enum GPIOLevel: Sendable, Hashable, CustomStringConvertible {
    case low, high

    public init(_ bit: Bool) { self = bit ? .high : .low }
    public var isHigh: Bool { self == .high }
    public var inverted: GPIOLevel { self == .high ? .low : .high }
    public var description: String { self == .high ? "high" : "low" }
}

/// How an output drives its pin.
public enum GPIODrive: String, Sendable, Hashable, CaseIterable {
    /// Driven both high and low.
    case pushPull = "push-pull"
    /// Driven low, or released (high impedance) for "high": the pin is pulled up by the
    /// device it is wired to. For inputs that must never see our high level (the Ag1171's PD).
    case openDrain = "open-drain"
}

/// The pull a line's pad applies (where the chip has one): for an input whose source only
/// pulls one way (an open-collector hook detector), or an open-drain output nobody pulls up.
public enum GPIOBias: String, Sendable, Hashable, CaseIterable {
    /// Whatever the pad is set to already (firmware, device tree).
    case asIs = "as-is"
    case disabled = "disabled"
    case pullUp = "pull-up"
    case pullDown = "pull-down"
}

/// A change of an input line's level, stamped by whoever saw it first (the kernel on
/// hardware, the virtual clock in the simulator) on the monotonic time line.
public struct GPIOEdgeEvent: Sendable, Hashable {
    public enum Edge: Sendable, Hashable { case rising, falling }
    public var offset: UInt32
    public var edge: Edge
    public var timestamp: Instant

    public init(offset: UInt32, edge: Edge, timestamp: Instant) {
        self.offset = offset
        self.edge = edge
        self.timestamp = timestamp
    }

    /// The level the line has after this edge.
    public var level: GPIOLevel { edge == .rising ? .high : .low }
}

/// What the kernel (or the simulator) says about one line, for `bringup discover/probe`.
public struct GPIOLineInfo: Sendable, Hashable {
    public enum Direction: Sendable, Hashable { case input, output }
    public var offset: UInt32
    public var name: String?
    /// Who holds the line, if anyone ("tipring" for our own requests).
    public var consumer: String?
    public var direction: Direction
    public var isUsed: Bool

    public init(offset: UInt32, name: String?, consumer: String?, direction: Direction, isUsed: Bool) {
        self.offset = offset
        self.name = name
        self.consumer = consumer
        self.direction = direction
        self.isUsed = isUsed
    }
}

/// Receives edge events of a requested input line.
///
/// Called on the chip's event thread (hardware) or on the scheduler (simulator): a
/// handler must not block, and hands the event to the control plane with
/// ``Scheduler/execute(_:)``. The event's timestamp, not the time of hand-over, is what
/// hook timing is measured with.
public typealias GPIOEdgeHandler = @Sendable (GPIOEdgeEvent) -> Void

/// A requested output line.
public protocol GPIOOutputLine: AnyObject {
    var offset: UInt32 { get }
    /// Drives the line to `level`.
    func set(_ level: GPIOLevel) throws(HALError)
    /// Gives the line back; further calls fail.
    func release()
}

/// A requested input line.
public protocol GPIOInputLine: AnyObject {
    var offset: UInt32 { get }
    /// Reads the line's current level.
    func read() throws(HALError) -> GPIOLevel
    /// Why edges stopped coming (the chip hung up, an event read failed); nil while they
    /// are watched as asked.
    var failure: String? { get }
    /// Gives the line back and stops edge events.
    func release()
    /// Edges the kernel dropped (its per-line buffer overflowed), noticed and mended
    /// (``EdgeContinuity``).
    var lostEdges: Int { get }
}

extension GPIOInputLine {
    /// An input that cannot lose edges (the simulator's; sysfs reads the level on each change).
    public var lostEdges: Int { 0 }
}

/// One GPIO controller (a `/dev/gpiochipN`, a sysfs `gpiochipN`, or a simulated chip),
/// lines addressed by offset.
///
/// Implementations: libgpiod v1/v2 and legacy sysfs in `LinuxBoard`, and the simulated
/// chip in `BoardSimulator`. SLIC drivers are written against this protocol only, so the
/// same driver code runs on hardware and in every simulator test.
public protocol GPIOChip: AnyObject {
    /// The chip's name (`gpiochip0`).
    var name: String { get }
    /// The chip's label (`pinctrl-bcm2835`), what `bringup discover` shows.
    var label: String { get }
    /// How many lines the chip has; valid offsets are `0..<lineCount`.
    var lineCount: Int { get }

    /// What is known of a line, requested or not.
    func lineInfo(offset: UInt32) throws(HALError) -> GPIOLineInfo

    /// Requests a line as an output, driven to `initial` at once; with `.openDrain`, a high
    /// level releases the pin instead of driving it.
    /// The pad's pull is set to `bias` (an error where the interface cannot set one).
    func requestOutput(offset: UInt32, consumer: String, initial: GPIOLevel, drive: GPIODrive, bias: GPIOBias) throws(HALError) -> any GPIOOutputLine

    /// Requests a line as an input, its pad's pull set to `bias`; with a handler, both edges
    /// are reported to it.
    func requestInput(offset: UInt32, consumer: String, bias: GPIOBias, onEdge: GPIOEdgeHandler?) throws(HALError) -> any GPIOInputLine
}

extension GPIOChip {
    /// A push-pull output.
    public func requestOutput(offset: UInt32, consumer: String, initial: GPIOLevel) throws(HALError) -> any GPIOOutputLine {
        try requestOutput(offset: offset, consumer: consumer, initial: initial, drive: .pushPull, bias: .asIs)
    }

    /// An output, its pad's pull left as it is.
    public func requestOutput(offset: UInt32, consumer: String, initial: GPIOLevel, drive: GPIODrive) throws(HALError) -> any GPIOOutputLine {
        try requestOutput(offset: offset, consumer: consumer, initial: initial, drive: drive, bias: .asIs)
    }

    /// An input, its pad's pull left as it is.
    public func requestInput(offset: UInt32, consumer: String, onEdge: GPIOEdgeHandler?) throws(HALError) -> any GPIOInputLine {
        try requestInput(offset: offset, consumer: consumer, bias: .asIs, onEdge: onEdge)
    }
}

/// Errors from the hardware layer. Each says which device or line and what went wrong.
public enum HALError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A device (GPIO chip, PCM) could not be opened; `available` lists what exists.
    case deviceNotFound(device: String, reason: String, available: [String])
    /// A line offset beyond the chip's lines.
    case noSuchLine(chip: String, offset: UInt32, lineCount: Int)
    /// A line someone else holds.
    case lineBusy(chip: String, offset: UInt32, consumer: String?)
    /// A call on a released line or a stopped device.
    case released(String)
    /// A value the hardware cannot do (ring frequency out of the board's limits, …).
    case unsupported(String)
    /// A failed system or library call: `call` names it, `errno` as reported.
    case systemCall(call: String, subject: String, errno: Int32, message: String)

    public var description: String {
        switch self {
        case let .deviceNotFound(device, reason, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "cannot open \(device): \(reason) (available: \(list))"
        case let .noSuchLine(chip, offset, count):
            return "\(chip) has no line \(offset) (it has lines 0…\(max(count - 1, 0)))"
        case let .lineBusy(chip, offset, consumer):
            return "\(chip) line \(offset) is already in use" + (consumer.map { " by '\($0)'" } ?? "")
        case let .released(what):
            return "\(what) was released or stopped"
        case let .unsupported(what):
            return what
        case let .systemCall(call, subject, errno, message):
            return "\(call)(\(subject)) failed: \(message) (errno \(errno))"
        }
    }
}
