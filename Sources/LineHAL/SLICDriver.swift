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
                outputs[role] = try chip.requestOutput(offset: sig.offset, consumer: gpioConsumer, initial: sig.level(active: active), drive: sig.drive, bias: sig.bias)
            }
            guard let hook = description.signals[.hookSense] else {
                throw HALError.unsupported("port \(port) has no hookSense signal")
            }
            self.onHookEdge = onHookEdge
            let sched = scheduler
            let me = UncheckedBox(self)
            hookLine = try chip.requestInput(offset: hook.offset, consumer: gpioConsumer, bias: hook.bias) { event in
                sched.execute { me.value.deliver(event) }
            }
            let level = try hookLine!.read()
            report(hook.isActive(level) ? .offHook : .onHook, at: scheduler.now)
        } catch {
            releaseLines()
            throw error
        }
        feed = .powerDown
    }

    public var failure: String? { hookLine?.failure }
    /// SHK edges the kernel dropped and the driver mended (a bouncing switch overflowing its buffer).
    public var lostHookEdges: Int { hookLine?.lostEdges ?? 0 }

    public func stop() {
        if isRinging || isRingSignalOn { abortRingSignal() }
        isRinging = false
        try? applyFeed(.powerDown)
        feed = .powerDown
        releaseLines()
        onHookEdge = nil
    }

    func releaseLines() {
        for t in [hookMaskEnd, ringTripCheck].compactMap({ $0 }) { scheduler.cancel(t) }
        hookMaskEnd = nil
        ringTripCheck = nil
        reportedHook = nil
        for (_, l) in outputs { l.release() }
        outputs.removeAll()
        hookLine?.release()
        hookLine = nil
    }

    // MARK: what SHK says, and when it can be believed

    /// The hook state last handed on.
    var reportedHook: HookState?
    /// SHK edges before this are the SLIC settling after something the driver did.
    var hookMaskedUntil: Instant = .zero
    var hookMaskEnd: TimerHandle?
    var ringTripCheck: TimerHandle?
    /// During ringing SHK pulses with the ring current once the handset is lifted: ring-trip
    /// is SHK active this long without a break (nil: SHK is a clean level while ringing).
    var ringTripPersistence: Duration? { nil }

    func deliver(_ event: GPIOEdgeEvent) {
        guard let hook = description.signals[.hookSense], onHookEdge != nil else { return }
        let state: HookState = hook.isActive(event.level) ? .offHook : .onHook
        // The SLIC's own doing (waking up, a reversal settling): read once it has settled.
        if scheduler.now < hookMaskedUntil { return }
        if isRingSignalOn, let persistence = ringTripPersistence {
            if state == .offHook {
                guard ringTripCheck == nil else { return }
                let me = UncheckedBox(self)
                ringTripCheck = scheduler.schedule(after: persistence) { me.value.ringTripConfirmed(since: event.timestamp) }
            } else if let t = ringTripCheck {
                scheduler.cancel(t)
                ringTripCheck = nil
            }
            return
        }
        report(state, at: event.timestamp)
    }

    private func ringTripConfirmed(since: Instant) {
        ringTripCheck = nil
        report(.offHook, at: since)
    }

    func report(_ state: HookState, at t: Instant) {
        guard state != reportedHook, let onHookEdge else { return }
        reportedHook = state
        onHookEdge(HookSenseEdge(state: state, at: t))
    }

    /// SHK is not to be believed for `settle` (the SLIC powering up, a polarity reversal): its
    /// edges are dropped, and its level read when the time is over.
    func maskHook(for settle: Duration) {
        guard settle > .zero else { return }
        hookMaskedUntil = max(hookMaskedUntil, scheduler.now + settle)
        if let t = hookMaskEnd { scheduler.cancel(t) }
        let me = UncheckedBox(self)
        hookMaskEnd = scheduler.schedule(at: hookMaskedUntil) { me.value.readHook() }
    }

    /// Reads SHK now and hands on a change.
    func readHook() {
        hookMaskEnd = nil
        guard let line = hookLine, let hook = description.signals[.hookSense], let level = try? line.read() else { return }
        // While ringing, what SHK says now goes through the ring-trip check like an edge.
        deliver(GPIOEdgeEvent(offset: hook.offset, edge: level == .high ? .rising : .falling, timestamp: scheduler.now))
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
        // While the ring signal is on (or still stopping), the feed waits for it to end.
        if !isRingSignalOn { try applyFeed(feed) }
    }

    public func ringOn(frequency: Double) throws(HALError) {
        try requireStarted()
        let r = description.ring
        guard frequency >= r.minimumFrequency && frequency <= r.maximumFrequency else {
            throw HALError.unsupported("ring frequency \(frequency) Hz is outside port \(port)'s limits \(r.minimumFrequency)–\(r.maximumFrequency) Hz")
        }
        isRinging = true
        try startRingSignal(frequency: frequency)
    }

    public func ringOff() throws(HALError) {
        guard isRinging else { return }
        isRinging = false
        try stopRingSignal()
    }

    public var ringConstraints: RingConstraints {
        RingConstraints(frequencies: description.ring.minimumFrequency...description.ring.maximumFrequency)
    }

    // Driver-specific parts.
    func applyFeed(_ feed: LineFeed) throws(HALError) {}
    /// Starts (or, while a previous one is stopping, continues) the ring signal.
    func startRingSignal(frequency: Double) throws(HALError) {}
    /// Stops the ring signal the way the SLIC asks, then restores ``feed`` (at once unless
    /// the SLIC needs a sequence).
    func stopRingSignal() throws(HALError) { try applyFeed(feed) }
    /// The line is being released: off now, no sequence.
    func abortRingSignal() {}
    /// The ring signal is on, or still stopping.
    var isRingSignalOn: Bool { isRinging }
}

/// Silvertel Ag1171: the driver makes the ring signal itself. With ring mode (RM) set,
/// the forward/reverse (F/R) line is toggled every half-cycle of the ring frequency (the
/// SLIC turns that into a balanced ~60 Vrms ring). RM is set only while ringing, as the
/// datasheet requires, and ringing stops in its order (V1.6 §3.3, Fig. 3): F/R high first,
/// RM low 10–500 ms later (``ringStopDelay``), then the feed — at every cadence gap and at
/// ring-trip. RM may be high at most a third of the time (``ringConstraints``). On-hook
/// transmission needs no mode change on the Ag1171 (a resistor across tip/ring enables
/// it), so it is forward feed.
public final class Ag1171Driver: GPIOSLICDriver, LineDriver, @unchecked Sendable {
    /// From F/R high to RM low when ringing stops: inside the datasheet's 10–500 ms with room
    /// for a late timer on either side.
    public static let ringStopDelay: Duration = .milliseconds(20)
    /// RM's absolute maximum duty (datasheet: high at most 33 % of the time).
    public static let maximumRingDuty = 0.33
    var ringTimer: TimerHandle?
    /// RM still high after F/R went high: its drop is due.
    var ringModeDrop: TimerHandle?
    var ringStart: Instant = .zero
    var halfCycleNanoseconds: Int64 = 0
    var toggleCount: Int64 = 0
    var reversed = false
    /// Half-cycle timing, accumulated over every ring since start.
    public private(set) var ringTiming = RingTimingStats()

    override var outputRoles: [SignalRole] { [.powerDown, .ringMode, .forwardReverse, .reset, .led] }

    override func applyFeed(_ feed: LineFeed) throws(HALError) {
        try set(.ringMode, active: false)
        let before = applied
        applied = feed
        // What SHK does next is the SLIC settling, not the telephone: waking from power-down,
        // or the loop current changing direction (a reversal on answer is no dialled "1").
        if before == .powerDown && feed != .powerDown {
            maskHook(for: Self.wakeUp)
        } else if before.isReversed != feed.isReversed && feed != .powerDown {
            maskHook(for: Self.reversalSettle)
        }
        switch feed {
        case .powerDown:
            try set(.forwardReverse, active: false)
            try set(.powerDown, active: true)
        case .forward, .onHookTransmission:
            try set(.powerDown, active: false)
            try set(.forwardReverse, active: false)
        case .reverse, .reversedOnHookTransmission:
            // The Ag1171 passes audio on-hook in either polarity: no pin of its own for it.
            try set(.powerDown, active: false)
            try set(.forwardReverse, active: true)
        }
    }

    public override var ringConstraints: RingConstraints {
        RingConstraints(frequencies: description.ring.minimumFrequency...description.ring.maximumFrequency,
                        maximumDuty: Self.maximumRingDuty, stopDelay: Self.ringStopDelay, finishesHalfCycle: true)
    }

    override var isRingSignalOn: Bool { isRinging || ringModeDrop != nil }

    /// Ring-trip: SHK high without a break for 10 ms (the datasheet's persistence check).
    override var ringTripPersistence: Duration? { .milliseconds(10) }
    /// After power-up the logic outputs are invalid for 50 ms, and a reversal settles within
    /// 50 ms (datasheet); SHK is read 10 ms after either, not on the boundary.
    public static let wakeUp = Duration.milliseconds(60)
    public static let reversalSettle = Duration.milliseconds(60)
    /// The feed the pins were last set to.
    var applied: LineFeed = .powerDown

    override func startRingSignal(frequency: Double) throws(HALError) {
        // A burst that starts while the last one is stopping keeps RM high and rings on.
        if let t = ringModeDrop { scheduler.cancel(t) }
        ringModeDrop = nil
        if let t = ringTimer { scheduler.cancel(t) }
        if applied == .powerDown { maskHook(for: Self.wakeUp) }
        applied = .forward
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

    override func stopRingSignal() throws(HALError) {
        if let t = ringTimer { scheduler.cancel(t) }
        ringTimer = nil
        let me = UncheckedBox(self)
        guard reversed else {
            // F/R is high already (since the last half-cycle): RM low after the stop delay.
            ringModeDrop = scheduler.schedule(after: Self.ringStopDelay) { me.value.dropRingMode() }
            return
        }
        // F/R high first, at the end of the half-cycle under way (no short half-cycle), then
        // RM low after the stop delay.
        let due = ringStart + .nanoseconds(toggleCount * halfCycleNanoseconds)
        ringModeDrop = scheduler.schedule(at: due) { me.value.endLastHalfCycle() }
    }

    private func endLastHalfCycle() {
        guard !isRinging else { return }
        reversed = false
        try? set(.forwardReverse, active: false)
        let me = UncheckedBox(self)
        ringModeDrop = scheduler.schedule(after: Self.ringStopDelay) { me.value.dropRingMode() }
    }

    private func dropRingMode() {
        ringModeDrop = nil
        guard !isRinging else { return }
        // The lines may be gone (released under us): nothing left to drive then.
        try? set(.ringMode, active: false)
        try? applyFeed(feed)
        // The loop current comes back as DC: believe SHK once it has settled.
        maskHook(for: Self.reversalSettle)
    }

    override func abortRingSignal() {
        if let t = ringTimer { scheduler.cancel(t) }
        if let t = ringModeDrop { scheduler.cancel(t) }
        ringTimer = nil
        ringModeDrop = nil
        // No time for the stop order: power the SLIC down first (it ignores RM and F/R then).
        try? set(.powerDown, active: true)
        try? set(.forwardReverse, active: false)
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
        try set(.forwardReverse, active: feed.isReversed)
        try set(.onHookTransmission, active: feed.transmitsOnHook)
    }

    override func startRingSignal(frequency: Double) throws(HALError) {
        try set(.powerDown, active: false)
        try set(.onHookTransmission, active: false)
        try set(.ringEnable, active: true)
    }

    override func stopRingSignal() throws(HALError) {
        try set(.ringEnable, active: false)
        try applyFeed(feed)
    }

    override func abortRingSignal() {
        try? set(.ringEnable, active: false)
    }
}

/// Carries a control-plane object into a `@Sendable` hand-over closure that will run on
/// the same control plane.
struct UncheckedBox<T: AnyObject>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
