import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import PortControl
import BoardSimulator
public import PortStack

/// `tipring demo`: two simulated phones on the simulated board call each other through the
/// simulated exchange. Prints a timeline (hook, tones heard, ringing, caller ID, SIP) and
/// returns whether every step happened.
public enum DemoRunner {
    public static func run(clock: any ControlPlane, print: @escaping (String) -> Void) -> Bool {
        let scheduler = clock.scheduler
        let start = clock.sync { scheduler.now }
        var ok = true
        func stamp(_ t: Instant) -> String {
            let ms = (t - start).nanoseconds / 1_000_000
            let s = "\(ms / 1000).\(String(repeating: "0", count: 3 - String(ms % 1000).count))\(ms % 1000)"
            return String(repeating: " ", count: max(0, 7 - s.count)) + s + " s"
        }
        let out = Printer(print)
        func line(_ t: Instant, _ who: String, _ text: String) { out.say("\(stamp(t))  \(who.padding(8))  \(text)") }
        func step(_ what: String, _ passed: Bool) {
            let t = clock.sync { scheduler.now }
            line(t, "check", (passed ? "✓ " : "✗ ") + what)
            if !passed { ok = false }
        }

        let built: Result<SimulatedSystem, any Error> = clock.sync {
            Result { try SimulatedSystem(scheduler: scheduler) }
        }
        guard case .success(let system) = built else {
            if case .failure(let e) = built { print("demo: cannot build the simulated system: \(e)") }
            return false
        }
        clock.sync {
            for (id, p) in system.ports {
                p.controller.onLog = { s in line(scheduler.now, "port \(id)", s) }
                p.phone.bell.onBurstEnd = { b in
                    line(scheduler.now, "phone \(id)", "bell rang \(Int(b.duration.milliseconds)) ms" + (b.frequency.map { " at \(Int($0.rounded())) Hz" } ?? ""))
                }
            }
            system.network.observer = { d in
                guard let m = try? SIPParser.parse(d.bytes) else { return }
                let who = d.from == SimulatedSystem.exchangeAddress ? "exchange" : "port \(d.from.host.split(separator: ".").last.map { String((Int($0) ?? 0) / 10) } ?? "?")"
                let to = d.to == SimulatedSystem.exchangeAddress ? "exchange" : "port \(d.to.host.split(separator: ".").last.map { String((Int($0) ?? 0) / 10) } ?? "?")"
                let first: String
                switch m.startLine {
                case .request(let method, let uri): first = "\(method) \(uri)"
                case .response(let s, let r): first = "\(s) \(r) (\(m["CSeq"] ?? ""))"
                }
                line(d.sentAt, "sip", "\(who) → \(to): \(first)")
            }
        }
        print("TipRing demo: two phones on the simulated board (region \(system.plan.region), B222s timing), simulated exchange \(SimulatedSystem.domain)")

        func wait(upTo seconds: Double, _ condition: @escaping () -> Bool) -> Bool { clock.wait(upTo: seconds, until: condition) }
        func heard(_ port: Int, for seconds: Double) -> ToneKind? {
            let from = clock.sync { scheduler.now }
            clock.advance(by: .milliseconds(Int64(seconds * 1000)))
            return clock.sync {
                let t = system.port(port).phone.earpiece.tone(from: from, to: scheduler.now, plan: system.plan)
                line(scheduler.now, "phone \(port)", "earpiece heard: \(t.map { "\($0) tone" } ?? "no tone")")
                return t
            }
        }
        func lineState(_ p: Int) -> PortStateMachine.Line { system.port(p).controller.machine.line }

        clock.sync { system.powerOn() }
        step("both ports registered", wait(upTo: 5) { system.ports.values.allSatisfy { $0.controller.machine.registration == .registered } })

        clock.sync { line(scheduler.now, "phone 1", "handset lifted"); system.port(1).phone.liftHandset() }
        step("port 1 hears dial tone", heard(1, for: 1.2) == .dial)

        let dialled = clock.sync { () -> Instant in
            line(scheduler.now, "phone 1", "keys 1 0 0 2")
            return system.port(1).phone.press("1002")
        }
        step("port 2 rings", wait(upTo: 5) { if case .ringing = lineState(2) { true } else { false } })
        step("port 1 hears ringback", heard(1, for: 3.5) == .ringback)
        let shown = clock.sync { system.port(2).phone.earpiece.callerID(from: dialled, to: scheduler.now, scheme: .bell202(.multiple)) }
        var display = "nothing"
        if case .callerID(let info)? = shown.first { display = "\(info.number ?? "?") \"\(info.name ?? "")\"" }
        clock.sync { line(scheduler.now, "phone 2", "caller-ID display: \(display)") }
        step("port 2's display shows 1001 \"Alice\"", display == "1001 \"Alice\"")

        clock.sync { line(scheduler.now, "phone 2", "handset lifted"); system.port(2).phone.liftHandset() }
        step("the call is answered on both ports", wait(upTo: 3) {
            if case .connected = lineState(1), case .connected = lineState(2), !system.port(2).phone.bell.isRinging { true } else { false }
        })
        clock.advance(by: .seconds(1))

        clock.sync { line(scheduler.now, "phone 1", "handset down"); system.port(1).phone.hangUp() }
        step("port 2 hears busy after port 1 hangs up", wait(upTo: 3) { lineState(2) == .disconnected(.busy) } && heard(2, for: 1.5) == .busy)

        clock.sync { line(scheduler.now, "phone 2", "handset down"); system.port(2).phone.hangUp() }
        step("both ports idle, no call left", wait(upTo: 3) {
            lineState(1) == .idle && lineState(2) == .idle && system.ports.values.allSatisfy { $0.userAgent.activeCalls.isEmpty }
        })
        clock.sync { system.shutdown() }
        let violations = clock.sync { system.board.violations }
        for v in violations { print("  datasheet: \(v)") }
        step("the SLICs were driven as their datasheet allows", violations.isEmpty)
        print(ok ? "demo: every step happened" : "demo: FAILED (see ✗ above)")
        return ok
    }

    final class Printer {
        let print: (String) -> Void
        init(_ p: @escaping (String) -> Void) { print = p }
        func say(_ s: String) { print(s) }
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
