import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import PortControl
import BoardSimulator
import SimulatorApp

extension ScenarioRig {
    /// The handset of port `p` lifted, a second for dial tone, `keys` dialled.
    func lift(_ p: Int, dialling keys: String) {
        phone(p).liftHandset()
        run(1)
        dial(p, keys)
    }

    /// The handset of port `p` put down, and a second for it to settle.
    func putDown(_ p: Int) {
        phone(p).hangUp()
        run(1)
    }

    /// Port `p`'s bell rings now (between bursts of the cadence too).
    func rings(_ p: Int) -> Bool { phone(p).bell.isRinging || system.port(p).line.isRinging }

    /// Port `p`'s bell made no sound since `since`.
    func silent(_ p: Int, since: Instant) -> Bool { phone(p).bell.bursts.allSatisfy { $0.start < since } }
}

/// Feature codes dialled on simulated telephones, through the simulated exchange, in virtual
/// time: what each person hears, which bell rings, who ends up talking to whom.
@Suite("Telephone features on the simulated board and exchange (virtual time)")
struct FeatureScenarioTests {
    /// Alice (port 1) and Carol (port 3) hear each other: a tone into each mouthpiece arrives
    /// at the other's earpiece.
    static func hearEachOther(_ rig: ScenarioRig, _ a: Int, _ b: Int) throws -> Bool {
        rig.phone(a).mouthpiece.play(try Tone("1004", level: -10))
        rig.phone(b).mouthpiece.play(try Tone("1804", level: -16))
        rig.run(1)
        let t0 = rig.s.now
        rig.run(1.5)
        let atB = rig.phone(b).earpiece.sine(from: t0, to: rig.s.now), atA = rig.phone(a).earpiece.sine(from: t0, to: rig.s.now)
        return abs(atB.frequency - 1004) < 10.04 && abs(atA.frequency - 1804) < 18.04
    }

    @Test("*72: Bob forwards his calls to Carol (confirmation tone, then stutter dial tone); Alice calls Bob — Bob's bell stays silent, Carol's rings, Alice and Carol talk; *73 ends it")
    func forwardAlways() throws {
        let rig = try ScenarioRig(ports: 3)
        rig.lift(2, dialling: "*721003")  // the plan knows 1003 is whole: no '#' needed
        #expect(rig.listen(2, 1.5) == .confirmation)
        rig.putDown(2)
        rig.phone(2).liftHandset()
        #expect(rig.listen(2, 1.5) == .stutterDial)
        rig.putDown(2)
        let before = rig.s.now
        rig.lift(1, dialling: "1002")
        rig.run(3)
        #expect(rig.silent(2, since: before), "Bob's bell rang")
        #expect(rig.rings(3), "Carol's bell is silent: \(rig.line(3))")
        #expect(rig.wire.contains { $0.status == 302 })
        rig.phone(3).liftHandset()
        rig.run(1)
        guard case .connected = rig.line(1), case .connected = rig.line(3) else { Issue.record("\(rig.line(1)) / \(rig.line(3))"); return }
        #expect(try Self.hearEachOther(rig, 1, 3))
        rig.phone(1).hangUp()
        rig.putDown(3)
        rig.lift(2, dialling: "*73")
        #expect(rig.listen(2, 1.5) == .confirmation)
        rig.putDown(2)
        rig.phone(2).liftHandset()
        #expect(rig.listen(2, 1.5) == .dial)
    }

    @Test("forward by a new call: Bob's port calls Carol itself (no 302), Bob's bell silent; Carol answers, Alice and Carol talk through Bob's port; Bob's phone is free; Alice hangs up and Carol's call ends")
    func forwardByNewCall() throws {
        let rig = try ScenarioRig(ports: 3) { port, settings, _ in
            if port == 2 {
                settings.forwardBy = .invite
                settings.features.forwards[.always] = "1003"
            }
        }
        let before = rig.s.now
        rig.lift(1, dialling: "1002")
        rig.run(2)
        #expect(rig.silent(2, since: before), "Bob's bell rang")
        #expect(rig.rings(3), "Carol's bell is silent: \(rig.line(3))")
        #expect(!rig.wire.contains { $0.status == 302 })
        #expect(rig.listen(1, 6) == .ringback)
        rig.phone(3).liftHandset()
        rig.run(1)
        guard case .connected = rig.line(1), case .connected = rig.line(3) else { Issue.record("\(rig.line(1)) / \(rig.line(3))"); return }
        #expect(try Self.hearEachOther(rig, 1, 3))
        #expect(rig.line(2) == .idle && rig.system.port(2).controller.machine.calls.count == 2)
        rig.phone(2).liftHandset()
        #expect(rig.listen(2, 1.5) == .stutterDial)  // free, and reminded that calls are forwarded
        rig.putDown(2)
        rig.phone(1).hangUp()
        rig.run(2)
        #expect(rig.line(3) == .disconnected(.busy), "\(rig.line(3))")
        #expect(rig.system.port(2).controller.machine.calls.isEmpty && rig.system.port(2).userAgent.activeCalls.isEmpty)
    }

    @Test("forward on no answer from the configuration: Bob's bell rings for its 20 s, then Carol's; Carol answers and hears Alice")
    func forwardNoAnswer() throws {
        let rig = try ScenarioRig(ports: 3) { port, settings, _ in
            if port == 2 { settings.features.forwards[.noAnswer] = "1003" }
        }
        let start = rig.s.now
        rig.lift(1, dialling: "1002")
        rig.run(9)
        #expect(rig.listen(1, 6) == .ringback)
        #expect(rig.rings(2))
        #expect(rig.silent(3, since: start))
        rig.run(6)
        #expect(rig.line(2) == .idle)
        #expect(rig.rings(3), "\(rig.line(3))")
        rig.phone(3).liftHandset()
        rig.run(1)
        #expect(try Self.hearEachOther(rig, 1, 3))
    }

    @Test("*78: Bob does not want calls — Alice hears busy, Bob's bell is silent; *79 and he is reachable again")
    func doNotDisturb() throws {
        let rig = try ScenarioRig()
        rig.lift(2, dialling: "*78")
        #expect(rig.listen(2, 1.5) == .confirmation)
        rig.putDown(2)
        let before = rig.s.now
        rig.lift(1, dialling: "1002")
        rig.run(1)
        #expect(rig.listen(1, 2) == .busy)
        #expect(rig.silent(2, since: before))
        rig.phone(1).hangUp()
        rig.lift(2, dialling: "*79")
        rig.run(1)
        rig.putDown(2)
        rig.lift(1, dialling: "1002")
        rig.run(2)
        #expect(rig.rings(2))
    }

    @Test("*74 then a code: Alice's speed dial 12 calls Carol; *66 calls her again; *69 calls back whoever called last; *67 hides Alice's number from Carol's display")
    func speedDialRedialReturnAndCLIR() throws {
        let rig = try ScenarioRig(ports: 3)
        func call(_ keys: String) {
            rig.phone(1).liftHandset()
            rig.run(1)
            rig.dial(1, keys)
            rig.run(2)
        }
        func ringsAndEnd(_ port: Int) -> Bool {
            let rang = rig.phone(port).bell.isRinging || rig.system.port(port).line.isRinging
            rig.phone(1).hangUp()
            rig.run(2)
            return rang
        }
        call("*74121003")
        #expect(rig.line(1) == .disconnected(.confirmation))
        rig.putDown(1)
        call("12#")
        #expect(ringsAndEnd(3))
        call("*66")
        #expect(ringsAndEnd(3))
        // Bob calls Alice and gives up; *69 rings Bob.
        rig.lift(2, dialling: "1001")
        rig.run(3)
        rig.phone(2).hangUp()
        rig.run(2)
        call("*69")
        #expect(ringsAndEnd(2))
        let shownFrom = rig.s.now
        call("*671003")
        rig.run(6)
        let shown = rig.phone(3).earpiece.callerID(from: shownFrom, to: rig.s.now, scheme: .bell202(.multiple))
        guard case .callerID(let info) = try #require(shown.first) else { Issue.record("no caller ID"); return }
        #expect(info.number == nil && info.numberAbsence == .private, "Carol's display: \(info)")
        // None of it reached the exchange as a number.
        #expect(!rig.wire.contains { m in if case .request(_, let uri) = m.startLine { uri.contains("*") || uri.contains("%2A") } else { false } })
    }
}
