public import TipRingCore

/// The consumer name our GPIO requests carry (what `gpioinfo` shows).
public let gpioConsumer = "tipring"

/// Builds the line driver a board's ports need.
public enum SLICDriverFactory {
    public static func make(kind: SLICDriverKind, port: PortDescription, chip: any GPIOChip, scheduler: any Scheduler) -> any LineDriver {
        switch kind {
        case .ag1171: Ag1171Driver(port: port, chip: chip, scheduler: scheduler)
        case .gpioRing: GPIORingDriver(port: port, chip: chip, scheduler: scheduler)
        }
    }
}

/// What the GPIO-driven SLIC drivers share: requesting lines from a port description,
/// hook-sense edges handed to the control plane, ring-frequency limits.
public class GPIOSLICDriver: @unchecked Sendable {
    // Confined to the control plane (the scheduler): every method is called there, and
    // hook edges from a chip's event thread are handed over with `scheduler.execute`.
    public let port: Int
    let description: PortDescription
    let chip: any GPIOChip
    let scheduler: any Scheduler
    var outputs: [SignalRole: any GPIOOutputLine] = [:]
    var hookLine: (any GPIOInputLine)?
    var onHookEdge: ((HookSenseEdge) -> Void)?
    public private(set) var feed: LineFeed = .powerDown
    public private(set) var isRinging = false

    init(port: PortDescription, chip: any GPIOChip, scheduler: any Scheduler) {
        self.port = port.id
        self.description = port
        self.chip = chip
        self.scheduler = scheduler
    }

    /// The signals driven as outputs, with their level at start (inactive).
    var outputRoles: [SignalRole] { [] }

    public func start(onHookEdge: @escaping (HookSenseEdge) -> Void) throws(HALError) {
        guard hookLine == nil else { return }
        do throws(HALError) {
            for role in outputRoles {
                guard let sig = description.signals[role] else { continue }
                // Power-down starts active (the line is dead until someone enables it);
                // everything else starts inactive.
                let active = role == .powerDown
                outputs[role] = try chip.requestOutput(offset: sig.offset, consumer: gpioConsumer, initial: sig.level(active: active), drive: sig.drive)
            }
            guard let hook = description.signals[.hookSense] else {
                throw HALError.unsupported("port \(port) has no hookSense signal")
            }
            self.onHookEdge = onHookEdge
            let sched = scheduler
            let me = UncheckedBox(self)
            hookLine = try chip.requestInput(offset: hook.offset, consumer: gpioConsumer) { event in
                sched.execute { me.value.deliver(event) }
            }
            let level = try hookLine!.read()
            onHookEdge(HookSenseEdge(state: hook.isActive(level) ? .offHook : .onHook, at: scheduler.now))
        } catch {
            releaseLines()
            throw error
        }
        feed = .powerDown
    }

    public func stop() {
        if isRinging { stopRingSignal() }
        isRinging = false
        try? applyFeed(.powerDown)
        feed = .powerDown
        releaseLines()
        onHookEdge = nil
    }

    func releaseLines() {
        for (_, l) in outputs { l.release() }
        outputs.removeAll()
        hookLine?.release()
        hookLine = nil
    }

    func deliver(_ event: GPIOEdgeEvent) {
        guard let hook = description.signals[.hookSense], let onHookEdge else { return }
        onHookEdge(HookSenseEdge(state: hook.isActive(event.level) ? .offHook : .onHook, at: event.timestamp))
    }

    func set(_ role: SignalRole, active: Bool) throws(HALError) {
        guard let line = outputs[role], let sig = description.signals[role] else { return }
        try line.set(sig.level(active: active))
    }

    func requireStarted() throws(HALError) {
        if hookLine == nil { throw HALError.released("port \(port) line driver (not started)") }
    }

    public func setFeed(_ feed: LineFeed) throws(HALError) {
        try requireStarted()
        self.feed = feed
        if !isRinging { try applyFeed(feed) }
    }

    public func ringOn(frequency: Double) throws(HALError) {
        try requireStarted()
        let r = description.ring
        guard frequency >= r.minimumFrequency && frequency <= r.maximumFrequency else {
            throw HALError.unsupported("ring frequency \(frequency) Hz is outside port \(port)'s limits \(r.minimumFrequency)–\(r.maximumFrequency) Hz")
        }
        if isRinging { stopRingSignal() }
        isRinging = true
        try startRingSignal(frequency: frequency)
    }

    public func ringOff() throws(HALError) {
        guard isRinging else { return }
        isRinging = false
        stopRingSignal()
        try applyFeed(feed)
    }

    // Driver-specific parts.
    func applyFeed(_ feed: LineFeed) throws(HALError) {}
    func startRingSignal(frequency: Double) throws(HALError) {}
    func stopRingSignal() {}
}

/// Silvertel Ag1171: the driver makes the ring signal itself. With ring mode (RM) set,
/// the forward/reverse (F/R) line is toggled every half-cycle of the ring frequency (the
/// SLIC turns that into a balanced ~60 Vrms ring). RM is set only while ringing, as the
/// datasheet requires. On-hook transmission needs no mode change on the Ag1171 (a
/// resistor across tip/ring enables it), so it is forward feed.
public final class Ag1171Driver: GPIOSLICDriver, LineDriver, @unchecked Sendable {
    var ringTimer: TimerHandle?
    var ringStart: Instant = .zero
    var halfCycleNanoseconds: Int64 = 0
    var toggleCount: Int64 = 0
    var reversed = false
    /// Half-cycle timing, accumulated over every ring since start.
    public private(set) var ringTiming = RingTimingStats()

    override var outputRoles: [SignalRole] { [.powerDown, .ringMode, .forwardReverse, .reset, .led] }

    override func applyFeed(_ feed: LineFeed) throws(HALError) {
        try set(.ringMode, active: false)
        switch feed {
        case .powerDown:
            try set(.forwardReverse, active: false)
            try set(.powerDown, active: true)
        case .forward, .onHookTransmission:
            try set(.powerDown, active: false)
            try set(.forwardReverse, active: false)
        case .reverse:
            try set(.powerDown, active: false)
            try set(.forwardReverse, active: true)
        }
    }

    override func startRingSignal(frequency: Double) throws(HALError) {
        try set(.powerDown, active: false)
        try set(.forwardReverse, active: false)
        reversed = false
        try set(.ringMode, active: true)
        halfCycleNanoseconds = Int64((1e9 / (2 * frequency)).rounded())
        ringStart = scheduler.now
        toggleCount = 0
        scheduleToggle()
    }

    private func scheduleToggle() {
        toggleCount += 1
        // Deadlines from the start, not from the last toggle: lateness does not accumulate.
        let due = ringStart + .nanoseconds(toggleCount * halfCycleNanoseconds)
        let me = UncheckedBox(self)
        ringTimer = scheduler.schedule(at: due) { me.value.toggle(due: due) }
    }

    private func toggle(due: Instant) {
        guard isRinging else { return }
        ringTiming.record(latenessNanoseconds: (scheduler.now - due).nanoseconds)
        reversed.toggle()
        do {
            try set(.forwardReverse, active: reversed)
        } catch {
            return  // line released under us: stop toggling
        }
        scheduleToggle()
    }

    override func stopRingSignal() {
        if let t = ringTimer { scheduler.cancel(t) }
        ringTimer = nil
        try? set(.ringMode, active: false)
    }
}

/// A SLIC with its own ring generator behind one ring-enable line (and optional
/// polarity, power-down and on-hook-transmission lines). The frequency is the SLIC's; it
/// is only checked against the board's limits.
public final class GPIORingDriver: GPIOSLICDriver, LineDriver, @unchecked Sendable {
    override var outputRoles: [SignalRole] { [.powerDown, .ringEnable, .forwardReverse, .onHookTransmission, .reset, .led] }

    override func applyFeed(_ feed: LineFeed) throws(HALError) {
        try set(.ringEnable, active: false)
        try set(.powerDown, active: feed == .powerDown)
        try set(.forwardReverse, active: feed == .reverse)
        try set(.onHookTransmission, active: feed == .onHookTransmission)
    }

    override func startRingSignal(frequency: Double) throws(HALError) {
        try set(.powerDown, active: false)
        try set(.onHookTransmission, active: false)
        try set(.ringEnable, active: true)
    }

    override func stopRingSignal() {
        try? set(.ringEnable, active: false)
    }
}

/// Carries a control-plane object into a `@Sendable` hand-over closure that will run on
/// the same control plane.
struct UncheckedBox<T: AnyObject>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
