public import LineHAL
public import TipRingCore

/// A GPIO chip in memory, wired to simulated hardware.
///
/// Outputs a driver sets are passed synchronously to the chip's ``outputObserver`` (the
/// simulated SLICs listen there); inputs are driven by the simulated hardware with
/// ``drive(_:to:)``, which stamps an edge with the scheduler's time and hands it to the
/// requester's handler. Requests are checked as the kernel checks them: offsets must
/// exist, a line can be held by one consumer only.
public final class SimulatedGPIOChip: GPIOChip, @unchecked Sendable {
    public let name: String
    public let label: String
    public let lineCount: Int
    let scheduler: any Scheduler

    struct LineState {
        var level: GPIOLevel = .low
        var consumer: String?
        var direction: GPIOLineInfo.Direction = .input
        var drive: GPIODrive = .pushPull
        var bias: GPIOBias = .asIs
        /// What the pin is driven to; like the kernel, releasing a line leaves it as it was.
        var pin: PinDrive = .released
        var handler: GPIOEdgeHandler?
        var lineName: String?
    }

    var lines: [LineState]
    /// Called with (offset, level) whenever a requested output changes level.
    public var outputObserver: ((UInt32, GPIOLevel) -> Void)?
    /// Every output change, in order, for tests: (time, offset, level).
    public private(set) var outputLog: [(at: Instant, offset: UInt32, level: GPIOLevel)] = []
    /// Keep ``outputLog`` (off for long runs).
    public var logsOutputs = true

    public init(name: String, label: String = "tipring-sim", lineCount: Int, scheduler: any Scheduler, lineNames: [UInt32: String] = [:]) {
        self.name = name
        self.label = label
        self.lineCount = lineCount
        self.scheduler = scheduler
        self.lines = (0..<lineCount).map { LineState(lineName: lineNames[UInt32($0)]) }
    }

    private func check(_ offset: UInt32) throws(HALError) {
        guard Int(offset) < lineCount else { throw .noSuchLine(chip: name, offset: offset, lineCount: lineCount) }
    }

    public func lineInfo(offset: UInt32) throws(HALError) -> GPIOLineInfo {
        try check(offset)
        let l = lines[Int(offset)]
        return GPIOLineInfo(offset: offset, name: l.lineName, consumer: l.consumer, direction: l.direction, isUsed: l.consumer != nil)
    }

    public func requestOutput(offset: UInt32, consumer: String, initial: GPIOLevel, drive: GPIODrive, bias: GPIOBias) throws(HALError) -> any GPIOOutputLine {
        try check(offset)
        let i = Int(offset)
        if lines[i].consumer != nil { throw .lineBusy(chip: name, offset: offset, consumer: lines[i].consumer) }
        lines[i].consumer = consumer
        lines[i].bias = bias
        lines[i].direction = .output
        lines[i].drive = drive
        let line = Output(chip: self, offset: offset)
        setOutput(offset, initial)
        return line
    }

    /// Set by ``lose(_:)``: the chip has gone (a driver unbound, a cable pulled); its inputs
    /// report why and no more edges come.
    public private(set) var lostReason: String?
    /// Requests still to be refused after a loss (the chip is not back yet).
    public var refusedRequests = 0

    /// The chip goes away as the kernel reports it: watched inputs hang up.
    public func lose(_ reason: String) {
        lostReason = reason
    }

    private func checkPresent(_ offset: UInt32) throws(HALError) {
        if refusedRequests > 0 {
            refusedRequests -= 1
            throw .systemCall(call: "request line", subject: "\(name) line \(offset)", errno: 19, message: "No such device (simulated)")
        }
        lostReason = nil  // a request that works finds the chip back
    }

    public func requestInput(offset: UInt32, consumer: String, bias: GPIOBias, onEdge: GPIOEdgeHandler?) throws(HALError) -> any GPIOInputLine {
        try check(offset)
        try checkPresent(offset)
        let i = Int(offset)
        if lines[i].consumer != nil { throw .lineBusy(chip: name, offset: offset, consumer: lines[i].consumer) }
        lines[i].consumer = consumer
        lines[i].bias = bias
        lines[i].direction = .input
        lines[i].pin = .released
        lines[i].handler = onEdge
        return Input(chip: self, offset: offset)
    }

    /// The level of a line now (what an output is driven to, or an input reads).
    public func level(_ offset: UInt32) -> GPIOLevel { lines[Int(offset)].level }

    /// What the chip does to a pin: drives it high or low, or leaves it to whatever it is
    /// wired to (an input, an unrequested line, or an open-drain output set high).
    public enum PinDrive: Sendable, Hashable { case high, low, released }

    public func pinDrive(_ offset: UInt32) -> PinDrive { lines[Int(offset)].pin }

    /// The pull its requester asked for.
    public func bias(_ offset: UInt32) -> GPIOBias { lines[Int(offset)].bias }

    /// Whether a line is requested by someone.
    public func isRequested(_ offset: UInt32) -> Bool { lines[Int(offset)].consumer != nil }

    /// The simulated hardware drives an input line. An edge goes to the requester, stamped
    /// with the scheduler's time; driving a line to the level it has is no edge.
    public func drive(_ offset: UInt32, to level: GPIOLevel) {
        let i = Int(offset)
        guard lines[i].level != level else { return }
        lines[i].level = level
        guard lines[i].direction == .input, let h = lines[i].handler, lines[i].consumer != nil, lostReason == nil else { return }
        h(GPIOEdgeEvent(offset: offset, edge: level == .high ? .rising : .falling, timestamp: scheduler.now))
    }

    func setOutput(_ offset: UInt32, _ level: GPIOLevel) {
        let i = Int(offset)
        let pin: PinDrive = level == .low ? .low : lines[i].drive == .openDrain ? .released : .high
        let changed = lines[i].level != level || lines[i].pin != pin
        lines[i].level = level
        lines[i].pin = pin
        if logsOutputs { outputLog.append((scheduler.now, offset, level)) }
        if changed { outputObserver?(offset, level) }
    }

    func release(_ offset: UInt32) {
        let i = Int(offset)
        lines[i].consumer = nil
        lines[i].handler = nil
        lines[i].direction = .input
    }

    /// Clears ``outputLog``.
    public func clearOutputLog() { outputLog.removeAll(keepingCapacity: true) }

    final class Output: GPIOOutputLine {
        weak var chip: SimulatedGPIOChip?
        let offset: UInt32
        var released = false
        init(chip: SimulatedGPIOChip, offset: UInt32) {
            self.chip = chip
            self.offset = offset
        }
        func set(_ level: GPIOLevel) throws(HALError) {
            guard !released, let chip else { throw .released("line \(offset)") }
            chip.setOutput(offset, level)
        }
        func release() {
            guard !released else { return }
            released = true
            chip?.release(offset)
        }
    }

    final class Input: GPIOInputLine {
        weak var chip: SimulatedGPIOChip?
        let offset: UInt32
        var released = false
        init(chip: SimulatedGPIOChip, offset: UInt32) {
            self.chip = chip
            self.offset = offset
        }
        func read() throws(HALError) -> GPIOLevel {
            guard !released, let chip else { throw .released("line \(offset)") }
            return chip.level(offset)
        }
        var failure: String? { released ? nil : chip?.lostReason.map { "\(chip?.name ?? "chip") line \(offset): \($0)" } }
        func release() {
            guard !released else { return }
            released = true
            chip?.release(offset)
        }
    }
}
