public import TipRingCore
public import TelephonyDSP

/// One FXS port's line, on the control plane: the SLIC driver, the hook decoder and the
/// ringer, wired together.
///
/// It owns the decoder's and the ringer's wake-up timers, executes the ringer's actions
/// on the driver, and trips ringing as soon as the loop closes (after debounce — well
/// within one ring half-cycle). Hook events and the ringer's silent intervals go to the
/// owner's handlers; hardware errors go to `onFault` and never stop the other ports.
public final class PortLine {
    public let driver: any LineDriver
    public let scheduler: any Scheduler
    public private(set) var decoder: HookDecoder
    public private(set) var ringer: Ringer?

    /// Decoded hook events.
    public var onHookEvent: ((HookEvent) -> Void)?
    /// A silent interval of the ring cadence began (caller ID window), until the given time.
    public var onRingSilence: ((Instant) -> Void)?
    /// Ringing was stopped because the phone was lifted.
    public var onRingTrip: (() -> Void)?
    /// A hardware error (a GPIO write failed, …).
    public var onFault: ((HALError) -> Void)?
    /// Something asked of the line that the SLIC cannot do as asked, and what it does
    /// instead (a ring frequency clamped into the SLIC's range) — once per distinct request.
    public var onWarning: ((String) -> Void)?
    var warned: Set<String> = []
    /// Room left in every ring burst for the ring-off timer to fire late.
    public static let ringLatenessAllowance: Duration = .milliseconds(20)

    enum TimerKey: Hashable { case decoder, ringer }
    lazy var timers = ActionTimers<TimerKey>(scheduler: scheduler)

    public init(driver: any LineDriver, profile: HookTimingProfile, scheduler: any Scheduler) {
        self.driver = driver
        self.scheduler = scheduler
        self.decoder = HookDecoder(profile: profile)
    }

    public var port: Int { driver.port }

    /// The hook timing, changed (a reload of the configuration); applies from the next edge.
    public func setTimingProfile(_ profile: HookTimingProfile) {
        decoder.profile = profile
    }
    public var isRinging: Bool { ringer?.isRinging ?? false }

    public func start() throws(HALError) {
        // Weak: a driver's thread (or a pending timer) may still deliver after the line is gone
        // (a port rebuilt on reload); that edge is dropped, never a trap.
        try driver.start { [weak self] edge in self?.hookEdge(edge) }
    }

    public func stop() {
        timers.cancelAll()
        ringer = nil
        driver.stop()
    }

    /// Why the line's hook sense stopped working (its GPIO chip hung up, …); nil while it works.
    public var failure: String? { driver.failure }
    /// Hook edges the kernel dropped and the driver mended (shown in the status when any).
    public var lostHookEdges: Int { driver.lostHookEdges }

    /// Gives the lines back and requests them again (after a GPIO failure): the line comes
    /// back powered down, its hook state read afresh.
    public func restart() throws(HALError) {
        stop()
        // The hook state is read afresh from the hardware (the driver reports it as a first edge).
        decoder = HookDecoder(profile: decoder.profile)
        try start()
    }

    public func setFeed(_ feed: LineFeed) {
        do { try driver.setFeed(feed) } catch { onFault?(error) }
    }

    /// Starts ringing with a cadence; ignored (not an error) when the phone is off-hook. The
    /// SLIC's limits hold whatever the region asks: the frequency is clamped into its range
    /// (with a warning), and ring bursts are shortened so the ring signal, with its stop delay
    /// and a late timer, stays within the SLIC's duty.
    public func ring(cadence: RingCadence, frequency: Double) {
        if decoder.isOffHook { return }
        let limits = driver.ringConstraints
        var frequency = frequency
        if let range = limits.frequencies, !range.contains(frequency) {
            let clamped = min(max(frequency, range.lowerBound), range.upperBound)
            warnOnce("ring frequency \(frequency) Hz is outside port \(port)'s SLIC range \(range.lowerBound)–\(range.upperBound) Hz: ringing at \(clamped) Hz")
            frequency = clamped
        }
        var cadence = cadence
        if let duty = limits.maximumDuty {
            cadence = cadence.limitingDuty(duty, overhead: limits.stopTime(at: frequency) + Self.ringLatenessAllowance)
        }
        var r = Ringer(cadence: cadence, frequency: frequency)
        let actions = r.start(now: scheduler.now)
        ringer = r
        execute(actions)
    }

    /// Stops ringing (the caller gave up, or the call went elsewhere).
    public func stopRinging() {
        guard var r = ringer else { return }
        let actions = r.stop()
        ringer = nil
        timers.cancel(.ringer)
        execute(actions)
    }

    func warnOnce(_ text: String) {
        if warned.insert(text).inserted { onWarning?(text) }
    }

    /// Hook statistics for the bring-up histogram.
    public var hookStatistics: HookStatistics { decoder.statistics }

    func hookEdge(_ edge: HookSenseEdge) {
        handle(decoder.handle(edge))
    }

    func handle(_ actions: [HookDecoderAction]) {
        for a in actions {
            switch a {
            case .event(let e):
                if e.kind == .loopClosed, isRinging {
                    stopRinging()
                    onRingTrip?()
                }
                onHookEvent?(e)
            case .wake(let at):
                timers.start(.decoder, at: at) { [weak self] in
                    guard let self else { return }
                    self.handle(self.decoder.wake(now: self.scheduler.now))
                }
            }
        }
    }

    func execute(_ actions: [RingerAction]) {
        for a in actions {
            switch a {
            case .ringOn(let f):
                do { try driver.ringOn(frequency: f) } catch { onFault?(error) }
            case .ringOff:
                do { try driver.ringOff() } catch { onFault?(error) }
            case .silence(let until):
                onRingSilence?(until)
            case .wake(let at):
                timers.start(.ringer, at: at) { [weak self] in
                    guard let self, var r = self.ringer else { return }
                    let next = r.wake(now: self.scheduler.now)
                    self.ringer = r
                    self.execute(next)
                }
            }
        }
    }
}
