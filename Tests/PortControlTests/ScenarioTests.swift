import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import PortControl
import BoardSimulator
import TipRingApp

/// The simulated board and exchange in virtual time, with helpers to act as the person at
/// each phone and to check what they hear, see and feel.
final class ScenarioRig {
    let s = VirtualScheduler(seed: 3)
    let system: SimulatedSystem

    init(region: Region = .us, configure: (Int, inout PortSettings, inout CallSettings) -> Void = { _, _, _ in }) throws {
        system = try SimulatedSystem(scheduler: s, region: region, configure: configure)
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
        #expect(abs(Double(try #require(bursts.first).duration.milliseconds) - 2000) < 60)
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
}
