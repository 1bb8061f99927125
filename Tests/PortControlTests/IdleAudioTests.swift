import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import PortControl
import BoardSimulator

/// A router idles most of its life: an on-hook, silent port runs no audio periods (no PCM, no
/// keypad detector, no wake-ups), yet a lifted handset hears dial tone as soon as ever, and
/// what the line must hear on-hook (caller ID) still comes.
@Suite("The audio of an idle port (virtual time)")
struct IdleAudioTests {
    /// The first earpiece sample of dial tone after the handset is lifted, from the lift.
    static func liftToDialTone(_ rig: ScenarioRig, port: Int) throws -> Duration {
        let lifted = rig.s.now
        rig.phone(port).liftHandset()
        rig.run(1)
        let heard = rig.phone(port).earpiece.samples(from: lifted, to: rig.s.now)
        let first = try #require(heard.firstIndex { abs(Int($0)) > 300 }, "no dial tone")
        return .nanoseconds(Int64(first - heard.startIndex) * 125_000)
    }

    @Test("on-hook and silent, the audio stops within the grace time; lifting the handset starts it, and dial tone is as early as with audio always running")
    func idleStopsAndSeizureStarts() throws {
        let rig = try ScenarioRig()
        let audio = rig.system.board.audioPort(1)
        rig.run(Double(LinePortHardware.audioIdleGrace.nanoseconds) / 1e9 + 0.1)
        #expect(!audio.isRunning, "an idle port's audio still runs")
        let periods = rig.system.port(1).engine.periods
        rig.run(10)
        #expect(rig.system.port(1).engine.periods == periods, "periods ran while idle")
        let fromIdle = try Self.liftToDialTone(rig, port: 1)
        #expect(audio.isRunning)
        let hardware = try #require(rig.system.port(1).controller.hardware as? LinePortHardware)
        #expect(try #require(hardware.lastSeizureToTone) <= .milliseconds(10))

        // The reference: a port whose audio never stops.
        let always = try ScenarioRig()
        let reference = try #require(always.system.port(1).controller.hardware as? LinePortHardware)
        reference.onAudioNeeded = nil
        try? always.system.board.audioPort(1).start(handler: always.system.port(1).engine)
        always.run(3)
        #expect(always.system.board.audioPort(1).isRunning)
        let fromRunning = try Self.liftToDialTone(always, port: 1)
        print("lift to dial tone: \(fromIdle.milliseconds) ms from an idle port, \(fromRunning.milliseconds) ms with audio always running")
        #expect(fromIdle <= fromRunning + .milliseconds(1))

        // Hung up: stopped again after the grace time.
        rig.phone(1).hangUp()
        rig.run(3)
        #expect(!audio.isRunning)
    }

    @Test("an idle port's audio starts for caller ID and for a call, and stops once the call is over")
    func startsForWhatNeedsIt() throws {
        let rig = try ScenarioRig()
        rig.run(2)
        #expect(!rig.system.board.audioPort(2).isRunning)
        rig.phone(1).liftHandset()
        rig.run(1)
        let dialled = rig.s.now
        rig.dial(1, "1002")
        rig.run(6)
        // Port 2 on-hook: its audio ran for the caller ID between the rings.
        let shown = rig.phone(2).earpiece.callerID(from: dialled, to: rig.s.now, scheme: .bell202(.multiple))
        guard case .callerID(let info) = try #require(shown.first) else { Issue.record("no caller ID"); return }
        #expect(info.number == "1001")
        rig.phone(2).liftHandset()
        rig.run(1)
        #expect(rig.system.board.audioPort(2).isRunning)
        rig.phone(1).mouthpiece.play(try Tone("1004", level: -10))
        let from = rig.s.now
        rig.run(1)
        #expect(abs(rig.phone(2).earpiece.sine(from: from, to: rig.s.now).frequency - 1004) < 10)
        rig.phone(1).mouthpiece.generator = nil
        rig.phone(1).hangUp()
        rig.phone(2).hangUp()
        rig.run(3)
        #expect(!rig.system.board.audioPort(1).isRunning && !rig.system.board.audioPort(2).isRunning)
    }
}
