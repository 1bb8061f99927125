import Testing
import TipRingCore
import SystemCalls
import TelephonyDSP
import LineHAL
import BoardSimulator
import TestSupport

@Suite struct RingerOnTheSimulatedBoardTests {
    static let regions: [(String, RingCadence, Double)] = [("us", .us, 20), ("gb", .gb, 25), ("de", .de, 25)]

    /// The real ag1171 driver rings the simulated Ag1171: the bell measures the cadence
    /// and the frequency of what it got, and the simulated SLIC holds the driver to its
    /// datasheet (stop order, RM at most a third of the time, 20–25 Hz).
    @Test(arguments: regions)
    func cadenceAndFrequencyAsTheBellHearsIt(region: String, cadence: RingCadence, frequency: Double) throws {
        let rig = try LineRig(ports: 1)
        let start = rig.scheduler.now
        rig.lines[1]!.ring(cadence: cadence, frequency: frequency)
        rig.run(until: start + cadence.period * 2 + .milliseconds(1))
        rig.lines[1]!.stopRinging()
        rig.run(until: rig.scheduler.now + .milliseconds(100))
        let bursts = rig.phone(1).bell.bursts
        let onSegments = cadence.segments.filter(\.ring)
        #expect(bursts.count == onSegments.count * 2, "\(region)")
        // The repetition is exact: every burst starts on the region's grid …
        var t = start
        var i = 0
        for seg in (cadence.segments + cadence.segments) {
            if seg.ring {
                #expect(bursts[i].start == t, "\(region) burst \(i) start")
                // … and rings at most its segment plus the stop (a half-cycle, then 10–500 ms of
                // RM with F/R high), and no less than 90 % of it (GR-506 and ETSI allow ±10 %).
                #expect(bursts[i].duration <= seg.duration + .milliseconds(20) + .nanoseconds(Int64(1e9 / (2 * frequency))), "\(region) burst \(i): \(bursts[i].duration)")
                #expect(bursts[i].duration >= seg.duration * 0.9, "\(region) burst \(i): \(bursts[i].duration)")
                i += 1
            }
            t = t + seg.duration
        }
        // RM at most a third of the time, measured on what the bell got.
        let rung = bursts.reduce(Duration.zero) { $0 + $1.duration }
        #expect(rung.seconds / (cadence.period * 2).seconds <= 1.0 / 3.0, "\(region): rang \(rung)")
        #expect(rig.board.violations == [], "\(region)")
        for b in bursts {
            let f = try #require(b.frequency)
            #expect(abs(f - frequency) / frequency < 0.005, "\(region): \(f) Hz")
            // Symmetric half-cycles: a burst rings 2·f·d of them (±1) in its d seconds before
            // the stop's 20 ms of RM with F/R held high.
            let expected = 2 * frequency * (b.duration - Ag1171Driver.ringStopDelay).seconds
            #expect(abs(Double(b.halfCycles) - expected) <= 1.0, "\(region): \(b.halfCycles) half-cycles")
        }
        // Ring mode is low between bursts and after the stop.
        let chip = rig.board.chip(for: 1)
        #expect(chip.level(1) == .low)
        // Caller-ID windows: one per silent segment.
        #expect(rig.silences[1]?.count == cadence.segments.filter { !$0.ring }.count * 2)
    }

    /// The lifted handset shows as SHK pulses with the ring current; the driver's 10 ms
    /// persistence check, the decoder's debounce, the last half-cycle and the stop order
    /// bound how long the bell goes on: 100 ms at most.
    @Test(arguments: [(20.0, 1 as UInt64), (25.0, 2), (20.0, 3), (22.0, 4), (25.0, 5), (25.0, 6)])
    func ringTripStopsTheBellWithin100Milliseconds(frequency: Double, seed: UInt64) throws {
        let rig = try LineRig(ports: 1, seed: seed)
        rig.lines[1]!.ring(cadence: .gb, frequency: frequency)
        // Lift somewhere inside the first burst.
        var r = SeededRandom(seed: seed)
        let lift = rig.scheduler.now + .milliseconds(Int64(20 + r.next() % 350))
        rig.phone(1).liftHandset(at: lift)
        rig.run(until: lift + .seconds(1))
        let bursts = rig.phone(1).bell.bursts
        #expect(bursts.count == 1)
        let latency = bursts[0].end - lift
        #expect(latency <= .milliseconds(100), "ring-trip took \(latency) at \(frequency) Hz")
        #expect(rig.board.violations == [])
        #expect(!rig.lines[1]!.isRinging)
        #expect(rig.decoded(1) == [.offHook])
        // No ringing starts again while off-hook.
        rig.lines[1]!.ring(cadence: .gb, frequency: frequency)
        rig.run(until: rig.scheduler.now + .seconds(5))
        #expect(rig.phone(1).bell.bursts.count == 1)
    }

    /// A SLIC with its own generator rings at its frequency (the board's 25 Hz), whatever the
    /// region asks (20 Hz here): the driver only switches it.
    @Test func gpioRingDriverUsesTheSLICsGenerator() throws {
        let rig = try LineRig(driver: .gpioRing, ports: 1)
        rig.lines[1]!.ring(cadence: .de, frequency: 20)
        rig.run(until: rig.scheduler.now + .milliseconds(9900))
        rig.lines[1]!.stopRinging()
        let bursts = rig.phone(1).bell.bursts
        #expect(bursts.map(\.duration) == [.seconds(1), .seconds(1)])
        #expect(bursts.allSatisfy { $0.frequency == 25 })
    }
}

@Suite struct RingerUnitTests {
    @Test func silentIntervalsArePredictedFromTheStart() {
        var r = Ringer(cadence: .gb, frequency: 25)
        _ = r.start(now: .seconds(10))
        #expect(r.silentInterval(startingAtOrAfter: .seconds(10)) == (.seconds(10) + .milliseconds(400)) ..< (.seconds(10) + .milliseconds(600)))
        #expect(r.silentInterval(startingAtOrAfter: .seconds(10) + .milliseconds(401)) == (.seconds(11)) ..< (.seconds(13)))
        #expect(r.silentInterval(startingAtOrAfter: .seconds(13) + .milliseconds(1)) == (.seconds(13) + .milliseconds(400)) ..< (.seconds(13) + .milliseconds(600)))
    }

    @Test func lateWakeUpsDoNotDriftTheCadence() {
        var r = Ringer(cadence: .us, frequency: 20)
        #expect(r.start(now: .zero) == [.ringOn(frequency: 20), .wake(at: .seconds(2))])
        // Woken 300 ms late: the ring-off is reported, but the next edge stays on the grid.
        let a = r.wake(now: .seconds(2) + .milliseconds(300))
        #expect(a == [.ringOff, .silence(until: .seconds(6)), .wake(at: .seconds(6))])
        // Woken very late, past several edges: only the state now matters.
        let b = r.wake(now: .seconds(13))
        #expect(b.last == .wake(at: .seconds(14)))
        #expect(r.isSounding)
        #expect(r.ringsStarted == 3)
        #expect(r.ringTrip() == [.ringOff])
        #expect(r.wake(now: .seconds(20)) == [])
    }

    @Test func cadenceChecks() {
        #expect(RingCadence.gb.inconsistency == nil)
        #expect(RingCadence(segments: [.init(ring: false, duration: .seconds(1)), .init(ring: true, duration: .seconds(1))]).inconsistency != nil)
        #expect(RingCadence(segments: [.init(ring: true, duration: .seconds(1))]).inconsistency != nil)
        #expect(RingCadence.gb.period == .seconds(3))
    }
}

@Suite struct SLICDriverTests {
    /// What the chip does to the (RM, F/R, PD) pins of port 1 on the rig.
    func pins(_ rig: LineRig) -> [SimulatedGPIOChip.PinDrive] {
        let chip = rig.board.chip(for: 1)
        return [chip.pinDrive(1), chip.pinDrive(2), chip.pinDrive(3)]
    }

    @Test func ag1171FeedModesDriveThePinsAsTheDatasheetSays() throws {
        let rig = try LineRig(ports: 1)
        let line = rig.lines[1]!
        let changesBefore = rig.phone(1).polarityChanges.count
        // F/R high = forward; PD pulled low to power down, released (never driven high) otherwise.
        line.setFeed(.powerDown)
        #expect(pins(rig) == [.low, .high, .low])
        #expect(!rig.phone(1).linePowered)
        line.setFeed(.forward)
        #expect(pins(rig) == [.low, .high, .released])
        #expect(rig.phone(1).linePowered)
        line.setFeed(.reverse)
        #expect(pins(rig) == [.low, .low, .released])
        #expect(rig.phone(1).lineReversed)
        line.setFeed(.onHookTransmission)
        #expect(pins(rig) == [.low, .high, .released])
        #expect(rig.phone(1).polarityChanges.count == changesBefore + 2)
        rig.lines[1]!.ring(cadence: .us, frequency: 25)
        rig.run(until: rig.scheduler.now + .seconds(3))
        rig.lines[1]!.stopRinging()
        rig.settle()
        #expect(rig.board.violations == [])
    }

    @Test func thePullsTheBoardAsksForReachThePads() throws {
        let scheduler = VirtualScheduler(seed: 1)
        var description = LineRig.description(ports: 1)
        description.ports[0].signals[.hookSense]?.bias = .pullDown
        description.ports[0].signals[.powerDown]?.bias = .pullUp
        let board = SimulatedBoard(board: description, scheduler: scheduler)
        let line = PortLine(driver: board.makeDriver(port: 1), profile: .b222s, scheduler: scheduler)
        try line.start()
        let chip = board.chip(for: 1)
        #expect([chip.bias(0), chip.bias(1), chip.bias(2), chip.bias(3)] == [.pullDown, .asIs, .asIs, .pullUp])
        line.stop()
    }

    /// The simulated Ag1171 reads PD as its datasheet says, not as the board file does: a
    /// board that calls PD active-high (the old reference wiring) leaves the SLIC powered
    /// down while the driver thinks the line is live, and drives the pin high — flagged.
    @Test func theSimulatedAg1171FlagsAPowerDownDrivenHigh() throws {
        let s = VirtualScheduler(seed: 1)
        var description = LineRig.description(ports: 1)
        description.ports[0].signals[.powerDown] = SignalLine(offset: 3)
        let board = SimulatedBoard(board: description, scheduler: s)
        board.expectsViolations = true  // provoked on purpose
        let line = PortLine(driver: board.makeDriver(port: 1), profile: .b222s, scheduler: s)
        try line.start()
        // "Powered down" at start: the pin is driven high — the level the datasheet forbids.
        #expect(board.violations.count == 1)
        #expect(board.violations.first?.contains("PD driven high") == true)
        // "Live": the pin is pulled low — the SLIC is off while the driver thinks it is on.
        line.setFeed(.forward)
        s.runUntilIdle()
        #expect(!board.telephone(1).linePowered)
        line.setFeed(.powerDown)
        s.runUntilIdle()
        #expect(board.violations.count == 2)
        line.stop()
    }

    @Test func aPoweredDownLineSeesNoHook() throws {
        let rig = try LineRig(ports: 1)
        rig.lines[1]!.setFeed(.powerDown)
        rig.phone(1).liftHandset()
        rig.settle()
        #expect(rig.decoded(1) == [])
        rig.lines[1]!.setFeed(.forward)
        rig.settle()
        #expect(rig.decoded(1) == [.offHook])
    }

    /// Japan rings at 16 Hz; the Ag1171 does 20–25 Hz: the port rings at 20 Hz and says so
    /// once, instead of a fault and a silent bell.
    @Test func aRingFrequencyOutsideTheSLICsRangeIsClampedWithAWarning() throws {
        let rig = try LineRig(ports: 1)
        let driver = rig.lines[1]!.driver
        #expect(throws: HALError.unsupported("ring frequency 60.0 Hz is outside port 1's limits 20.0–25.0 Hz")) {
            try driver.ringOn(frequency: 60)
        }
        var faults: [HALError] = []
        var warnings: [String] = []
        rig.lines[1]!.onFault = { faults.append($0) }
        rig.lines[1]!.onWarning = { warnings.append($0) }
        for _ in 0..<2 {
            rig.lines[1]!.ring(cadence: .de, frequency: 16)
            rig.run(until: rig.scheduler.now + .seconds(2))
            rig.lines[1]!.stopRinging()
        }
        rig.settle()
        #expect(faults.isEmpty)
        #expect(warnings == ["ring frequency 16.0 Hz is outside port 1's SLIC range 20.0–25.0 Hz: ringing at 20.0 Hz"])
        let f = try #require(rig.phone(1).bell.bursts.first?.frequency)
        #expect(abs(f - 20) < 0.1)
        #expect(rig.board.violations == [])
    }

    @Test func anAlreadyLiftedPhoneIsReportedAtStart() throws {
        let s = VirtualScheduler()
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
        board.telephone(1).liftHandset()
        s.runUntilIdle()
        let line = PortLine(driver: board.makeDriver(port: 1), profile: .b222s, scheduler: s)
        var events: [HookEvent.Kind] = []
        line.onHookEvent = { events.append($0.kind) }
        try line.start()
        line.setFeed(.forward)
        s.run(until: s.now + .seconds(1))
        #expect(events == [.loopClosed, .offHook])
    }

    @Test func stopReleasesEveryLineAndPowersDown() throws {
        let rig = try LineRig(ports: 1)
        let chip = rig.board.chip(for: 1)
        #expect((0...3).allSatisfy { chip.isRequested($0) })
        rig.lines[1]!.ring(cadence: .us, frequency: 20)
        rig.lines[1]!.stop()
        #expect((0...3).allSatisfy { !chip.isRequested($0) })
        #expect(chip.pinDrive(3) == .low)  // powered down: PD pulled low, and left so
        #expect(chip.level(1) == .low)   // ring mode off
        #expect(throws: HALError.self) { try rig.lines[1]!.driver.setFeed(.forward) }
        // Lines are free again: a second start works.
        try rig.lines[1]!.start()
    }

    @Test func busyLinesAreReported() throws {
        let rig = try LineRig(ports: 1)
        let second = rig.board.makeDriver(port: 1)
        #expect(throws: HALError.lineBusy(chip: "sim0", offset: 3, consumer: "tipring")) {
            try second.start { _ in }
        }
    }
}

/// State of a wall-clock trial, created and touched only on the scheduler's thread
/// (and read by the test after `finished` is set under the lock).
final class WallRingTrial: @unchecked Sendable {
    let done = ConditionLock()
    var finished = false
    var bursts: [Bell.Burst] = []
    var timing = RingTimingStats()
    var violations: [String] = []
    var board: SimulatedBoard?
    var line: PortLine?
}

/// The ring signal under the wall-clock scheduler: real timers, the host's jitter.
@Suite(.serialized) struct WallClockRingTests {
    @Test func ringsInRealTimeAndReportsHalfCycleJitter() throws {
        let s = WallClockScheduler()
        try s.start()
        defer { s.shutdown() }
        let trial = WallRingTrial()
        s.execute {
            let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
            let driver = board.makeDriver(port: 1) as! Ag1171Driver
            let line = PortLine(driver: driver, profile: .b222s, scheduler: s)
            trial.board = board
            trial.line = line
            try? line.start()
            line.setFeed(.forward)
            line.ring(cadence: RingCadence(milliseconds: [400, 1000]), frequency: 25)
            s.schedule(after: .milliseconds(450)) {
                line.stopRinging()
                // The burst ends once RM is low (F/R high first, RM 20 ms later).
                s.schedule(after: .milliseconds(100)) {
                    trial.bursts = board.telephone(1).bell.bursts
                    trial.timing = driver.ringTiming
                    trial.violations = board.violations
                    line.stop()
                    trial.done.withLock { trial.finished = true; trial.done.broadcast() }
                }
            }
        }
        let deadline = Instant.monotonicNow() + .seconds(30)
        trial.done.withLock { while !trial.finished && Instant.monotonicNow() < deadline { trial.done.wait(until: deadline) } }
        #expect(trial.finished)
        #expect(trial.bursts.count == 1)
        #expect(trial.timing.toggles >= 5)
        #expect(trial.violations == [])
        print("wall-clock ring at 25 Hz: \(trial.timing)")
    }
}
