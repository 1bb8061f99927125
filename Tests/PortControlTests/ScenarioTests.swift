import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import PortControl
import BoardSimulator
import SimulatorApp

/// The simulated board and exchange in virtual time, with helpers to act as the person at
/// each phone and to check what they hear, see and feel.
final class ScenarioRig {
    let s = VirtualScheduler(seed: 3)
    let system: SimulatedSystem

    init(region: Region = .us, callerID: CallerIDStandard? = nil, ports: Int = 2,
         configure: (Int, inout PortSettings, inout CallSettings) -> Void = { _, _, _ in }) throws {
        var plan = RegionTonePlan.forRegion(region)
        if let callerID { plan?.callerID = callerID }
        system = try SimulatedSystem(scheduler: s, region: region, tonePlan: plan, ports: ports, names: [1: "Alice", 2: "Bob", 3: "Carol"], configure: configure)
        system.powerOn()
        run(2)
    }

    func run(_ seconds: Double) { s.run(until: s.now + .milliseconds(Int64(seconds * 1000))) }
    func phone(_ p: Int) -> SimulatedTelephone { system.port(p).phone }
    func line(_ p: Int) -> PortStateMachine.Line { system.port(p).controller.machine.line }

    /// What port `p`'s earpiece heard over the next `seconds`.
    func listen(_ p: Int, _ seconds: Double) -> ToneKind? {
        let from = s.now
        run(seconds)
        return phone(p).earpiece.tone(from: from, to: s.now, plan: system.plan)
    }

    func dial(_ p: Int, _ keys: String) { s.run(until: phone(p).press(keys)) }

    var wire: [SIPMessage] { system.network.messages.map(\.message) }
}

@Suite("Port control on the simulated board and exchange (virtual time)")
struct ScenarioTests {
    @Test("a call from port 1 to port 2: dial tone, ringback, ringing with caller ID, answer, hang-up, busy then howler")
    func basicCall() throws {
        let rig = try ScenarioRig()
        #expect(rig.system.ports.values.allSatisfy { $0.controller.machine.registration == .registered })
        rig.phone(1).liftHandset()
        #expect(rig.listen(1, 1.5) == .dial)
        let dialStart = rig.s.now
        rig.dial(1, "1002")
        rig.run(0.5)
        #expect(rig.line(2) == .ringing(rig.system.port(2).userAgent.activeCalls.first ?? CallHandle(id: 0)))
        #expect(rig.listen(1, 6) == .ringback)
        // Port 2's bell: the US cadence (2 s on, 4 s off) at 20 Hz; caller ID in the first silence.
        let bursts = rig.phone(2).bell.bursts.filter { $0.start >= dialStart }
        #expect(bursts.count >= 1)
        // 2 s within GR-506's ±10 %, shortened to keep the Ag1171's RM within a third of the time.
        #expect((1800...2000).contains(try #require(bursts.first).duration.milliseconds))
        let shown = rig.phone(2).earpiece.callerID(from: dialStart, to: rig.s.now, scheme: .bell202(.multiple))
        guard case .callerID(let info) = try #require(shown.first) else { Issue.record("no caller ID"); return }
        #expect(info.number == "1001" && info.name == "Alice")
        rig.phone(2).liftHandset()
        rig.run(1)
        guard case .connected = rig.line(1), case .connected = rig.line(2) else {
            Issue.record("not connected: \(rig.line(1)) / \(rig.line(2))")
            return
        }
        #expect(!rig.phone(2).bell.isRinging)
        rig.phone(1).hangUp()
        rig.run(1)
        #expect(rig.line(1) == .idle)
        #expect(rig.line(2) == .disconnected(.busy))
        #expect(rig.listen(2, 3) == .busy)
        rig.run(28)
        #expect(rig.line(2) == .howler)
        #expect(rig.listen(2, 2) == .howler)
        rig.phone(2).hangUp()
        rig.run(1)
        #expect(rig.line(2) == .idle)
        #expect(rig.system.ports.values.allSatisfy { $0.userAgent.activeCalls.isEmpty })
    }

    @Test("not registered: off-hook gives the no-service tone, not dial tone; service back → dial tone")
    func noService() throws {
        let rig = try ScenarioRig()
        rig.system.exchange.registrar.mode = .forbidden
        rig.system.exchange.registrar.restart()
        rig.system.port(1).controller.handle(.disable)
        rig.system.port(1).controller.handle(.enable)
        rig.run(2)
        #expect(rig.system.port(1).controller.machine.registration == .failed)
        rig.phone(1).liftHandset()
        #expect(rig.listen(1, 3) == .noService)
        #expect(rig.line(1) == .noService)
    }

    @Test("no digit: reorder after the first-digit timeout, then the howler, then silence")
    func firstDigitTimeout() throws {
        let rig = try ScenarioRig()
        rig.phone(1).liftHandset()
        rig.run(10.5)
        #expect(rig.listen(1, 3) == .congestion)
        rig.run(28)
        #expect(rig.listen(1, 3) == .howler)
        rig.run(60)
        #expect(rig.line(1) == .lockout)
        #expect(rig.listen(1, 2) == nil)
        #expect(rig.phone(1).earpiece.samples.suffix(8000).allSatisfy { abs(Int($0)) < 50 })
    }

    @Test("calling a busy port: 486 and the busy tone; an unknown number: the special information tone")
    func busyAndUnknown() throws {
        let rig = try ScenarioRig()
        rig.phone(2).liftHandset()
        rig.run(1)
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1002")
        rig.run(1)
        #expect(rig.line(1) == .disconnected(.busy))
        #expect(rig.listen(1, 2) == .busy)
        #expect(rig.wire.contains { $0.status == 486 })
        rig.phone(1).hangUp()
        rig.run(1.5)
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1009")
        rig.run(1)
        #expect(rig.line(1) == .disconnected(.congestion))  // 480 from the exchange: not registered
        #expect(rig.listen(1, 2) == .congestion)
    }

    @Test("hanging up before the answer: CANCEL, and the called phone stops ringing")
    func hangUpWhileRinging() throws {
        let rig = try ScenarioRig()
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1002")
        rig.run(3)
        #expect(rig.phone(2).bell.isRinging || rig.system.port(2).line.isRinging)
        rig.phone(1).hangUp()
        rig.run(2)
        #expect(!rig.system.port(2).line.isRinging)
        #expect(rig.line(2) == .idle)
        #expect(rig.wire.contains { $0.method == .cancel })
        let after = rig.phone(2).bell.bursts.count
        rig.run(10)
        #expect(rig.phone(2).bell.bursts.count == after)
    }

    @Test("rotary dialling places the call as keypad dialling does")
    func pulseDialling() throws {
        let rig = try ScenarioRig()
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.s.run(until: rig.phone(1).dialPulses("1002"))
        rig.run(1)
        if case .ringing = rig.line(2) {} else { Issue.record("port 2 does not ring: \(rig.line(2))") }
    }

    @Test("CLIR: the called phone's display shows a private number")
    func withheldNumber() throws {
        let rig = try ScenarioRig { id, port, _ in if id == 1 { port.withholdIdentity = true } }
        rig.phone(1).liftHandset()
        rig.run(1)
        let t0 = rig.s.now
        rig.dial(1, "1002")
        rig.run(6)
        let shown = rig.phone(2).earpiece.callerID(from: t0, to: rig.s.now, scheme: .bell202(.multiple))
        guard case .callerID(let info) = try #require(shown.first) else { Issue.record("no caller ID"); return }
        #expect(info.number == nil && info.numberAbsence == .private)
    }

    @Test("Germany: ETSI caller ID after the first ring, 1 s / 4 s cadence at 25 Hz, German dial tone")
    func germany() throws {
        let rig = try ScenarioRig(region: .de)
        rig.phone(1).liftHandset()
        #expect(rig.listen(1, 1.5) == .dial)
        let t0 = rig.s.now
        rig.dial(1, "1002")
        rig.run(7)
        let bursts = rig.phone(2).bell.bursts.filter { $0.start >= t0 }
        #expect(abs(Double(try #require(bursts.first).duration.milliseconds) - 1000) < 60)
        #expect(abs((bursts.first?.frequency ?? 0) - 25) < 1)
        let shown = rig.phone(2).earpiece.callerID(from: t0, to: rig.s.now, scheme: .etsiAfterRing)
        guard case .callerID(let info) = try #require(shown.first) else { Issue.record("no caller ID"); return }
        #expect(info.number == "1001")
    }

    @Test("call waiting: the tone, flash to take the second call, flash to swap, on-hook with one held rings again")
    func callWaitingAndFlash() throws {
        let rig = try ScenarioRig(ports: 3)
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1002")
        rig.run(1)
        rig.phone(2).liftHandset()
        rig.run(1)
        guard case .connected(let first, nil) = rig.line(1) else { Issue.record("not connected: \(rig.line(1))"); return }
        rig.phone(3).liftHandset()
        rig.run(1)
        rig.dial(3, "1001")
        rig.run(0.5)
        guard case .connected(first, .waiting(let second)) = rig.line(1) else { Issue.record("no call waiting: \(rig.line(1))"); return }
        #expect(rig.listen(1, 0.5) == .callWaiting || rig.system.port(1).controller.tone == .callWaiting)
        // Flash: Bob is held, Carol answered.
        rig.s.run(until: rig.phone(1).flash(for: .milliseconds(400)))
        rig.run(1)
        #expect(rig.line(1) == .connected(second, other: .held(first)))
        guard case .connected = rig.line(3) else { Issue.record("Carol not connected: \(rig.line(3))"); return }
        #expect(rig.system.port(2).userAgent.media(of: rig.system.port(2).userAgent.activeCalls[0])?.receiving == true)
        #expect(rig.system.port(2).userAgent.media(of: rig.system.port(2).userAgent.activeCalls[0])?.sending == false)
        // Flash again: back to Bob, Carol held.
        rig.s.run(until: rig.phone(1).flash(for: .milliseconds(400)))
        rig.run(1)
        #expect(rig.line(1) == .connected(first, other: .held(second)))
        // Alice hangs up on Bob: her phone rings for Carol, still on hold.
        rig.phone(1).hangUp()
        rig.run(1.5)
        #expect(rig.line(1) == .recalling(second))
        #expect(rig.line(2) == .disconnected(.busy))
        rig.run(2)
        #expect(rig.phone(1).bell.isRinging || rig.system.port(1).line.isRinging)
        rig.phone(1).liftHandset()
        rig.run(1)
        #expect(rig.line(1) == .connected(second, other: nil))
        // Taken off hold, not merely "answered" again: Carol hears Alice.
        #expect(rig.system.port(3).userAgent.media(of: rig.system.port(3).userAgent.activeCalls[0])?.receiving == true)
    }

    @Test("message waiting: the lamp signal on-hook (FSK), stutter dial tone off-hook")
    func messageWaiting() throws {
        let rig = try ScenarioRig()
        let t0 = rig.s.now
        rig.system.exchange.setMessages(user: "1001", new: 3, old: 1)
        rig.run(2)
        let shown = rig.phone(1).earpiece.callerID(from: t0, to: rig.s.now, scheme: .bell202(.multiple))
        #expect(shown.contains(.messageWaiting(true)))
        // On-hook transmission needs no reversal on the Ag1171 (forward feed; a resistor across
        // tip and ring carries the FSK): the polarity never moved.
        #expect(rig.phone(1).polarityChanges.isEmpty)
        rig.phone(1).liftHandset()
        #expect(rig.listen(1, 1.5) == .stutterDial)
    }

    @Test("disable: the line is powered down, the account unregistered, calls to it fail; enable brings it back")
    func disableAndEnable() throws {
        let rig = try ScenarioRig()
        rig.system.port(2).controller.handle(.disable)
        rig.run(1)
        #expect(!rig.phone(2).linePowered)
        #expect(rig.system.exchange.registrar.contacts(of: "sip:1002@\(SimulatedSystem.domain)").isEmpty)
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1002")
        rig.run(1)
        #expect(rig.line(1) == .disconnected(.congestion))
        rig.phone(1).hangUp()
        rig.system.port(2).controller.handle(.enable)
        rig.run(1)
        #expect(rig.phone(2).linePowered)
        #expect(rig.system.port(2).controller.machine.registration == .registered)
    }

    @Test("hot line: lifting the handset calls the configured number at once")
    func hotLine() throws {
        let rig = try ScenarioRig { id, port, _ in if id == 1 { port.autoDial = "1002" } }
        rig.phone(1).liftHandset()
        rig.run(1)
        if case .ringing = rig.line(2) {} else { Issue.record("port 2 does not ring: \(rig.line(2))") }
        #expect(rig.listen(1, 2) == .ringback)
    }

    @Test("United Kingdom: caller ID before the first ring (polarity reversal, DT-AS, V.23), then the double ring")
    func unitedKingdom() throws {
        let rig = try ScenarioRig(region: .gb)
        rig.phone(1).liftHandset()
        #expect(rig.listen(1, 1.5) == .dial)
        let t0 = rig.s.now
        rig.dial(1, "1002")
        rig.run(5)
        let firstRing = try #require(rig.phone(2).bell.bursts.first { $0.start >= t0 })
        #expect(abs(Double(firstRing.duration.milliseconds) - 400) < 60)
        let reversal = try #require(rig.phone(2).polarityChanges.first { $0.at >= t0 && $0.reversed })
        #expect(reversal.at < firstRing.start)
        let shown = rig.phone(2).earpiece.callerID(from: t0, to: firstRing.start, scheme: .etsiDTAS)
        guard case .callerID(let info) = try #require(shown.first) else { Issue.record("no caller ID before the ring"); return }
        #expect(info.number == "1001" && info.name == "Alice")
        // The line stays reversed until the data has been heard (EN 300 659-1: the reversal
        // announces the sequence; a change back mid-way is another reversal), and is forward
        // again before the ring.
        let changes = rig.phone(2).polarityChanges.filter { $0.at > reversal.at && $0.at < firstRing.start }
        let restored = try #require(changes.first, "the polarity is never restored before the ring")
        #expect(changes.count == 1 && !restored.reversed, "polarity changes \(changes.map { ($0.at - reversal.at, $0.reversed) })")
        let beforeRestore = rig.phone(2).earpiece.callerID(from: t0, to: restored.at, scheme: .etsiDTAS)
        #expect(beforeRestore.count == 1, "the whole message is heard before the polarity comes back (\(restored.at - reversal.at) after the reversal)")
    }

    @Test("polarity reversal on answer and back on hang-up, where the port asks for it")
    func polarityOnAnswer() throws {
        let rig = try ScenarioRig { id, port, _ in if id == 1 { port.reversePolarityOnAnswer = true } }
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1002")
        rig.run(1)
        #expect(!rig.phone(1).lineReversed)
        rig.phone(2).liftHandset()
        rig.run(1)
        #expect(rig.phone(1).lineReversed)
        rig.phone(2).hangUp()
        rig.run(1)
        #expect(!rig.phone(1).lineReversed)
    }

    @Test("'#' ends dialling at once when the plan has no use for it")
    func hashSends() throws {
        let rig = try ScenarioRig { id, port, _ in if id == 1 { port.dialPlan = try! DialPlan("(x.T)") } }
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1002#")
        rig.run(0.5)
        if case .ringing = rig.line(2) {} else { Issue.record("port 2 does not ring: \(rig.line(2))") }
    }
}
