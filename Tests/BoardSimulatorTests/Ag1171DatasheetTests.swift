import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import BoardSimulator
import TestSupport

/// The simulated Ag1171 is a witness written from the datasheet (V1.6): each rule is provoked
/// here by driving its pins by hand, the way a wrong driver would, and must be flagged; and
/// its switch-hook output misbehaves the way the datasheet says the real one does.
@Suite("The simulated Ag1171, from its datasheet")
struct Ag1171DatasheetTests {
    /// Port 1's pins on a fresh simulated board, driven by hand (no driver).
    final class Pins {
        let s = VirtualScheduler(seed: 3)
        let board: SimulatedBoard
        let rm, fr, pd: any GPIOOutputLine

        init() throws {
            board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
            board.expectsViolations = true  // provoked on purpose
            let chip = board.chip(for: 1)
            rm = try chip.requestOutput(offset: 1, consumer: "test", initial: .low, drive: .pushPull)
            fr = try chip.requestOutput(offset: 2, consumer: "test", initial: .high, drive: .pushPull)
            pd = try chip.requestOutput(offset: 3, consumer: "test", initial: .low, drive: .openDrain)
        }

        func at(_ ms: Int64, _ body: @escaping () throws -> Void) {
            _ = s.schedule(at: .milliseconds(ms)) { try? body() }
        }

        func run(_ seconds: Int64 = 30) { s.run(until: .seconds(seconds)) }

        /// Rings by hand: RM high, F/R toggled every half-cycle of `hz` for `ms`, then F/R high
        /// and RM low `stop` ms later.
        func burst(from start: Int64, ms: Int64, hz: Double = 25, stop: Int64 = 20) {
            at(start) { try self.pd.set(.high) }  // open drain: released
            at(start) { try self.rm.set(.high) }
            let half = 1000 / (2 * hz)
            var level = GPIOLevel.high
            var t = Double(start) + half
            while t < Double(start + ms) {
                level = level == .high ? .low : .high
                let l = level
                at(Int64(t)) { try self.fr.set(l) }
                t += half
            }
            at(start + ms) { try self.fr.set(.high) }
            at(start + ms + stop) { try self.rm.set(.low) }
        }
    }

    @Test("a driver that rings by the rules is not flagged (the check is not trigger-happy)")
    func ringingByTheRulesIsClean() throws {
        let p = try Pins()
        for k in 0..<4 { p.burst(from: 1000 + 6000 * Int64(k), ms: 1900) }
        p.run()
        #expect(p.board.violations == [])
    }

    @Test("RM dropped with F/R still low (reverse) is flagged")
    func ringModeDroppedInReverse() throws {
        let p = try Pins()
        p.burst(from: 1000, ms: 500)
        p.at(1600) { try p.rm.set(.high) }
        p.at(1620) { try p.fr.set(.low) }
        p.at(1640) { try p.rm.set(.low) }
        p.run(3)
        #expect(p.board.violations.count == 1)
        #expect(p.board.violations.first?.contains("RM dropped with F/R low") == true)
    }

    @Test("RM dropped less than 10 ms after F/R went high is flagged")
    func ringModeDroppedTooSoon() throws {
        let p = try Pins()
        p.burst(from: 1000, ms: 510, stop: 3)  // an odd number of half-cycles: F/R ends low
        p.run(3)
        #expect(p.board.violations.count == 1)
        #expect(p.board.violations.first?.contains("RM dropped 3 ms after F/R went high") == true)
    }

    @Test("RM high more than a third of the time is flagged (3 s on, 3 s off)")
    func ringModeDutyOverAThird() throws {
        let p = try Pins()
        for k in 0..<4 { p.burst(from: 1000 + 6000 * Int64(k), ms: 3000) }
        p.run()
        #expect(p.board.violations.contains { $0.contains("RM high 50.") && $0.contains("absolute maximum 33 %") })
    }

    @Test("the US 2 s / 4 s cadence rung in full (with its stop) is over a third: flagged")
    func fullUSCadenceIsOverAThird() throws {
        let p = try Pins()
        for k in 0..<3 { p.burst(from: 1000 + 6000 * Int64(k), ms: 2000) }
        p.run()
        #expect(p.board.violations.contains { $0.contains("absolute maximum 33 %") })
    }

    @Test("a ring signal outside 20–25 Hz is flagged (Japan's 16 Hz)")
    func ringFrequencyOutsideTheSLICsRange() throws {
        let p = try Pins()
        p.burst(from: 1000, ms: 1000, hz: 16)
        p.run(5)
        #expect(p.board.violations.count == 1)
        #expect(p.board.violations.first?.contains("ring signal at 16.") == true)
    }

    @Test("SHK after power-up: high (invalid) for 50 ms, then the truth; the driver decodes nothing from it")
    func wakeUpGlitch() throws {
        let rig = try LineRig(ports: 1)
        let line = rig.lines[1]!
        line.setFeed(.powerDown)
        rig.settle()
        let shk = rig.board.chip(for: 1)
        line.setFeed(.forward)
        #expect(shk.level(0) == .high)  // the datasheet's invalid outputs
        rig.run(until: rig.scheduler.now + .milliseconds(51))
        #expect(shk.level(0) == .low)  // on-hook, awake
        rig.settle()
        #expect(rig.decoded(1) == [])
        #expect(rig.lines[1]!.hookStatistics.bounces == 0)
    }

    @Test("a polarity reversal while off-hook (answer supervision) glitches SHK for 30 ms; it never decodes as a dialled 1")
    func reversalIsNoDialledOne() throws {
        let rig = try LineRig(ports: 1)
        rig.offHook(1)
        let before = rig.decoded(1)
        let shk = rig.board.chip(for: 1)
        rig.lines[1]!.setFeed(.reverse)
        #expect(shk.level(0) == .low)  // the loop current changing direction
        rig.run(until: rig.scheduler.now + .milliseconds(31))
        #expect(shk.level(0) == .high)
        rig.settle()
        rig.lines[1]!.setFeed(.forward)
        rig.settle()
        #expect(rig.decoded(1) == before)
        #expect(rig.board.violations == [])
    }

    @Test("the handset lifted during ringing shows as SHK pulses at the ring frequency; on-hook ringing leaves SHK low")
    func ringTripPulses() throws {
        let p = try Pins()
        final class Counter: @unchecked Sendable { var edges = 0 }
        let counter = Counter()
        let shkLine = try p.board.chip(for: 1).requestInput(offset: 0, consumer: "test", onEdge: { _ in counter.edges += 1 })
        p.burst(from: 1000, ms: 1000)
        p.run(3)
        #expect(counter.edges <= 2)  // power-up's wake-up only: on-hook ringing does not move SHK
        counter.edges = 0
        p.board.telephone(1).liftHandset()
        p.burst(from: 4000, ms: 400)
        p.run(6)
        // 400 ms at 25 Hz: about 10 cycles, each a pulse (rise and fall).
        #expect(counter.edges >= 16, "\(counter.edges) SHK edges")
        shkLine.release()
    }
}
