import Testing
import TipRingCore
import TelephonyDSP
import SIPCore
import PortControl
import BoardSimulator
import SimulatorApp

extension ScenarioRig {
    /// A flash on port `p` (in the board's window), then `settle` seconds.
    func flash(_ p: Int, settle: Double = 1) {
        s.run(until: phone(p).flash(for: .milliseconds(400)))
        run(settle)
    }

    /// Alice (port 1) calls Bob (port 2), who answers.
    func aliceCallsBob() {
        lift(1, dialling: "1002")
        run(1)
        phone(2).liftHandset()
        run(1)
    }

    /// Alice flashes (Bob held) and dials Carol (port 3), who answers unless told not to.
    func aliceConsultsCarol(answered: Bool = true) {
        flash(1)
        dial(1, "1003")
        run(1)
        guard answered else { return }
        phone(3).liftHandset()
        run(1)
    }
}

/// Transfers and three-way calls made from a telephone, through the simulated exchange, with
/// the other ends TipRing ports too (so both sides of REFER and Replaces run): what each
/// earpiece hears, whose bell rings, who ends up talking to whom.
@Suite("Transfer and three-way calling from the telephone (virtual time)")
struct TransferScenarioTests {
    /// Alice (port 1) talking to Bob (port 2), Carol (port 3) idle.
    static func aliceTalksToBob() throws -> ScenarioRig {
        let rig = try ScenarioRig(ports: 3)
        rig.aliceCallsBob()
        guard case .connected(_, nil) = rig.line(1), case .connected = rig.line(2) else {
            throw ScenarioFailure("Alice and Bob not connected: \(rig.line(1)) / \(rig.line(2))")
        }
        return rig
    }

    /// Each telephone speaks its own tone; what each earpiece hears of the others' (dBm0).
    static func voices(_ rig: ScenarioRig, _ ports: [Int]) throws -> [Int: [Int: Double]] {
        let tones = [1: 697.0, 2: 1209.0, 3: 1633.0]
        for p in ports { rig.phone(p).mouthpiece.play(try Tone("\(Int(tones[p]!))", level: -12)) }
        rig.run(1)
        let t0 = rig.s.now
        rig.run(1.5)
        var heard: [Int: [Int: Double]] = [:]
        for p in ports {
            for q in ports where q != p { heard[p, default: [:]][q] = rig.phone(p).earpiece.level(at: tones[q]!, from: t0, to: rig.s.now) }
        }
        for p in ports { rig.phone(p).mouthpiece.generator = nil }
        return heard
    }

    static func noCalls(_ rig: ScenarioRig, _ port: Int) -> Bool {
        rig.system.port(port).controller.machine.calls.isEmpty && rig.system.port(port).userAgent.activeCalls.isEmpty
    }

    @Test("flash holds Bob and gives the recall dial tone; flash again with nothing dialled brings Bob back")
    func consultAndReturn() throws {
        let rig = try Self.aliceTalksToBob()
        rig.s.run(until: rig.phone(1).flash(for: .milliseconds(400)))
        #expect(rig.listen(1, 1.5) == .dialRecall)
        // Bob is on hold: he hears nothing of Alice.
        let held = try Self.voices(rig, [1, 2])
        #expect(held[2]![1]! < -50, "Bob hears Alice while held: \(held)")
        rig.flash(1)
        let back = try Self.voices(rig, [1, 2])
        #expect(back[1]![2]! > -20 && back[2]![1]! > -20, "\(back)")
    }

    @Test("blind: Alice flashes, dials Carol, hangs up while it rings — Bob's call rings Carol, Carol answers and talks to Bob")
    func blindTransfer() throws {
        let rig = try Self.aliceTalksToBob()
        rig.aliceConsultsCarol(answered: false)
        #expect(rig.rings(3))
        rig.putDown(1)
        rig.run(2)
        #expect(rig.wire.contains { $0.method == .refer })
        #expect(!rig.wire.contains { $0.method == .refer && $0["Refer-To"]?.contains("Replaces") == true })
        #expect(rig.rings(3), "Carol's bell: \(rig.line(3))")
        rig.phone(3).liftHandset()
        rig.run(2)
        guard case .connected = rig.line(2), case .connected = rig.line(3) else { Issue.record("\(rig.line(2)) / \(rig.line(3))"); return }
        let heard = try Self.voices(rig, [2, 3])
        #expect(heard[2]![3]! > -20 && heard[3]![2]! > -20, "\(heard)")
        rig.run(2)
        #expect(Self.noCalls(rig, 1), "Alice still has \(rig.system.port(1).controller.machine.calls)")
        #expect(rig.line(1) == .idle)
    }

    @Test("attended: Alice talks to Carol first, then hangs up — Bob's new call replaces hers with Carol, without ringing; Bob and Carol talk")
    func attendedTransfer() throws {
        let rig = try Self.aliceTalksToBob()
        rig.aliceConsultsCarol()
        let consulting = try Self.voices(rig, [1, 2, 3])
        #expect(consulting[1]![3]! > -20 && consulting[3]![1]! > -20, "Alice and Carol: \(consulting)")
        #expect(consulting[2]![1]! < -50 && consulting[2]![3]! < -50, "Bob (held) hears: \(consulting)")
        let ringsBefore = rig.phone(3).bell.bursts.count
        rig.putDown(1)
        rig.run(2)
        #expect(rig.wire.contains { $0.method == .refer && $0["Refer-To"]?.contains("Replaces=") == true })
        #expect(rig.wire.contains { $0.method == .invite && $0["Replaces"] != nil })
        #expect(rig.phone(3).bell.bursts.count == ringsBefore && !rig.rings(3), "Carol's bell rang for the replacing call")
        guard case .connected = rig.line(2), case .connected = rig.line(3) else { Issue.record("\(rig.line(2)) / \(rig.line(3))"); return }
        let heard = try Self.voices(rig, [2, 3])
        #expect(heard[2]![3]! > -20 && heard[3]![2]! > -20, "\(heard)")
        #expect(Self.noCalls(rig, 1), "Alice still has \(rig.system.port(1).controller.machine.calls)")
        #expect(rig.system.port(3).userAgent.activeCalls.count == 1)
    }

    @Test("three-way: flash with Carol answered joins all three — each hears the other two at their own level; flash drops Carol; on-hook leaves Bob and Carol talking")
    func threeWay() throws {
        let rig = try Self.aliceTalksToBob()
        rig.aliceConsultsCarol()
        rig.flash(1)
        guard case .conference = rig.line(1) else { Issue.record("not three-way: \(rig.line(1))"); return }
        let all = try Self.voices(rig, [1, 2, 3])
        for p in [1, 2, 3] {
            for q in [1, 2, 3] where q != p {
                // -12 dBm0 spoken; G.711 twice and the echo canceller's residue cost little.
                #expect(all[p]![q]! > -16, "port \(p) hears port \(q) at \(all[p]![q]!) dBm0")
            }
        }
        // Flash drops the party added last: Carol.
        rig.flash(1)
        guard case .connected(_, nil) = rig.line(1) else { Issue.record("\(rig.line(1))"); return }
        #expect(rig.line(3) == .disconnected(.busy))
        rig.putDown(3)
        // Again, and this time Alice hangs up: Bob and Carol go on (the transfer setting).
        rig.aliceConsultsCarol()
        rig.flash(1)
        rig.putDown(1)
        rig.run(2)
        let left = try Self.voices(rig, [2, 3])
        #expect(left[2]![3]! > -20 && left[3]![2]! > -20, "\(left)")
        #expect(Self.noCalls(rig, 1))
    }

    @Test("three-way set to end on hang-up: Alice hangs up and both calls end")
    func threeWayEndsBoth() throws {
        let rig = try ScenarioRig(ports: 3) { port, settings, _ in
            if port == 1 { settings.conferenceHangUp = .end }
        }
        rig.aliceCallsBob()
        rig.aliceConsultsCarol()
        rig.flash(1)
        rig.putDown(1)
        rig.run(1)
        #expect(rig.line(2) == .disconnected(.busy) && rig.line(3) == .disconnected(.busy), "\(rig.line(2)) / \(rig.line(3))")
        #expect(Self.noCalls(rig, 1) && Self.noCalls(rig, 2) && Self.noCalls(rig, 3))
    }

    @Test("a transfer Bob's side declines (603 in its NOTIFY): Alice's phone rings back, lifting it she talks to Bob again; Carol is let go")
    func refusedTransferRingsBack() throws {
        let rig = try Self.aliceTalksToBob()
        // Bob consults too (Alice on hold at his end): his port cannot take a transfer now.
        rig.flash(2)
        rig.aliceConsultsCarol()
        rig.putDown(1)
        rig.run(1)
        #expect(rig.wire.contains { $0.method == .notify && String(decoding: $0.body, as: UTF8.self).contains("603") })
        #expect(rig.line(1) == .recalling(CallHandle(id: 1)), "\(rig.line(1))")
        #expect(rig.rings(1))
        #expect(rig.line(3) == .disconnected(.busy))
        rig.phone(1).liftHandset()
        rig.run(1)
        // Bob comes back from his own consultation.
        rig.flash(2)
        let heard = try Self.voices(rig, [1, 2])
        #expect(heard[1]![2]! > -20 && heard[2]![1]! > -20, "\(heard)")
    }

    /// The UK: R (a flash, in the board's window) then a digit.
    static func recall(_ rig: ScenarioRig, _ port: Int, _ digit: String) {
        rig.flash(port, settle: 0.5)
        rig.dial(port, digit)
        rig.run(1)
    }

    @Test("UK: R gives the recall tone, Alice dials Carol; R2 swaps between Bob and Carol, R3 joins all three, R1 drops Carol, R and R again brings Bob back")
    func registerRecallUK() throws {
        let rig = try ScenarioRig(region: .gb, ports: 3) { _, settings, _ in settings.hookFlash = .recallDigits }
        rig.aliceCallsBob()
        rig.s.run(until: rig.phone(1).flash(for: .milliseconds(400)))
        #expect(rig.listen(1, 1) == .dial)  // BT's recall dial tone is its dial tone
        rig.dial(1, "1003")
        rig.run(1)
        rig.phone(3).liftHandset()
        rig.run(1)
        var heard = try Self.voices(rig, [1, 2, 3])
        #expect(heard[1]![3]! > -20 && heard[1]![2]! < -50, "talking to Carol, Bob held: \(heard)")
        Self.recall(rig, 1, "2")
        heard = try Self.voices(rig, [1, 2, 3])
        #expect(heard[1]![2]! > -20 && heard[1]![3]! < -50 && heard[3]![1]! < -50, "R2, back to Bob, Carol held: \(heard)")
        Self.recall(rig, 1, "3")
        guard case .conference = rig.line(1) else { Issue.record("R3: \(rig.line(1))"); return }
        heard = try Self.voices(rig, [1, 2, 3])
        for p in [1, 2, 3] { for q in [1, 2, 3] where q != p { #expect(heard[p]![q]! > -16, "R3: \(p) hears \(q) at \(heard[p]![q]!)") } }
        Self.recall(rig, 1, "1")
        heard = try Self.voices(rig, [1, 2])
        #expect(heard[1]![2]! > -20 && heard[2]![1]! > -20, "R1: Bob stays: \(heard)")
        #expect(rig.line(3) == .disconnected(.busy), "\(rig.line(3))")
        // One call: R holds Bob for a new number; R again with nothing dialled brings him back.
        rig.flash(1)
        #expect(rig.system.port(1).controller.machine.consultation != nil)
        rig.flash(1)
        heard = try Self.voices(rig, [1, 2])
        #expect(heard[1]![2]! > -20 && heard[2]![1]! > -20, "\(heard)")
    }

    @Test("UK: R4 connects Bob and Carol and Alice hears the confirmation tone; refused (Bob consulting too), the special-information tone and Bob back")
    func explicitTransferUK() throws {
        let rig = try ScenarioRig(region: .gb, ports: 3) { _, settings, _ in settings.hookFlash = .recallDigits }
        rig.aliceCallsBob()
        rig.aliceConsultsCarol()
        rig.flash(1, settle: 0.5)
        rig.dial(1, "4")
        #expect(rig.listen(1, 1.5) == .confirmation)
        let heard = try Self.voices(rig, [2, 3])
        #expect(heard[2]![3]! > -20 && heard[3]![2]! > -20, "\(heard)")
        #expect(Self.noCalls(rig, 1))
        rig.putDown(1)
        rig.putDown(2)
        rig.putDown(3)

        // Again, with Bob consulting himself: his port declines the transfer.
        rig.aliceCallsBob()
        rig.flash(2)
        rig.aliceConsultsCarol()
        rig.flash(1, settle: 0.5)
        rig.dial(1, "4")
        #expect(rig.listen(1, 1.5) == .specialInformation)
        rig.run(2)
        guard case .connected(let h, nil) = rig.line(1) else { Issue.record("\(rig.line(1))"); return }
        #expect(h == rig.system.port(1).controller.machine.calls.first && rig.system.port(1).controller.machine.calls.count == 1)
        #expect(rig.line(3) == .disconnected(.busy))
    }

    @Test("hung up in consultation with nothing dialled: Bob rings Alice's phone back, and answering takes him off hold")
    func hangUpWithBobHeld() throws {
        let rig = try Self.aliceTalksToBob()
        rig.flash(1)
        rig.putDown(1)
        rig.run(1)
        #expect(rig.rings(1))
        rig.phone(1).liftHandset()
        rig.run(1)
        let heard = try Self.voices(rig, [1, 2])
        #expect(heard[1]![2]! > -20 && heard[2]![1]! > -20, "\(heard)")
    }
}

struct ScenarioFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
