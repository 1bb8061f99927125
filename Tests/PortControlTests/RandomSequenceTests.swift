#if canImport(Glibc)
import Glibc
#endif
import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import SIPAgent
import PortControl
import BoardSimulator

@Suite("Random event sequences across two ports")
struct RandomSequenceTests {
    /// Runs one seeded sequence; returns the failure (seed, step, what, events) or nil.
    static func run(seed: UInt64, steps: Int, reached: inout Set<String>) -> String? {
        let w = RandomWorld(seed: seed)
        defer { reached.formUnion(w.reached) }
        if let v = w.violation() { return "seed \(seed): at start: \(v)" }
        for i in 0..<steps {
            w.step()
            w.noteStates()
            if let v = w.violation() {
                return "seed \(seed), step \(i + 1): \(v)\n  events: \(w.log.joined(separator: "; "))"
            }
        }
        if let v = w.quiesce() {
            return "seed \(seed), after the sequence: \(v)\n  events: \(w.log.joined(separator: "; "))"
        }
        return nil
    }

    /// 5,000 in `make test` (a sequence now reloads, attaches and follows DNS: twice the
    /// messages it once had); fewer under a sanitizer (scripts/test-sanitize sets
    /// TIPRING_SEQUENCES), where a sequence costs ten times as much and what matters is the
    /// code each one runs; a long campaign sets more, in slices (TIPRING_FIRST_SEED).
    static let sequences: UInt64 = {
        guard let v = getenv("TIPRING_SEQUENCES") else { return 5_000 }
        return UInt64(String(cString: v)) ?? 5_000
    }()

    /// `TIPRING_SEED=N` runs that one seed (what a failure prints to replay it);
    /// `TIPRING_FIRST_SEED` starts the run elsewhere (a long campaign in slices).
    static func environment(_ name: String) -> UInt64? {
        guard let v = getenv(name) else { return nil }
        return UInt64(String(cString: v))
    }

    @Test("thousands of sequences hold the invariants (a failing seed prints the command that replays it)")
    func thousandsOfSequences() {
        var failures: [String] = []
        var reached: Set<String> = []
        let first = Self.environment("TIPRING_SEED") ?? Self.environment("TIPRING_FIRST_SEED") ?? 1
        let count = Self.environment("TIPRING_SEED") != nil ? 1 : max(1, Self.sequences)
        for seed in first..<(first + count) {
            if let f = Self.run(seed: seed, steps: 12, reached: &reached) {
                failures.append(f + "\n  replay: TIPRING_SEED=\(seed) swift test --filter RandomSequenceTests/thousandsOfSequences")
                if failures.count >= 3 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        guard count > 1 else { return }
        // The sequences reach what a port can be in: a controller that never registered, never
        // rang or never connected would hold every invariant vacuously.
        let wanted: Set<String> = ["line idle", "line dialTone", "line collecting", "line outgoing", "line ringing", "line connected",
                                   "line disconnected", "line noService", "registration registered", "registration retrying",
                                   "registration failed", "registration disabled", "hardware out (audio)", "hardware out (gpio)",
                                   "DNS outage", "DNS noSuchName", "attach retried", "attach waited for an idle line",
                                   "reload waited for an idle line", "reload applied once the line was idle"]
        // The real line path must be reached that way too, where the run has seeds enough on
        // it (a short run under a sanitizer may have two).
        let realSeeds = (first..<(first + count)).filter(RandomWorld.takesRealLine).count
        let onRealLines: Set<String> = realSeeds < 10 ? [] : ["real line: off-hook decoded", "real line: the bell rang", "real line: keys decoded",
                                                               "real line: pulses decoded", "real line: connected"]
        let missing = wanted.union(onRealLines).subtracting(reached)
        #expect(missing.isEmpty, "never reached: \(missing.sorted()) (\(realSeeds) seeds on the real line path)")
    }

    @Test("a port numbers its calls once: the call it places and the one it receives never share a handle")
    func oneNumberingPerPort() throws {
        let w = RandomWorld(seed: 77)
        let port1 = w.controllers[0], hw = w.hardware[0]
        // Port 1 places a call to port 2 (1002) …
        hw.lift()
        for d in "1002" { port1.handle(.digit(d)) }
        w.s.run(until: w.s.now + .seconds(8))  // the dial plan's x.T waits for the inter-digit timeout
        let placed = try #require(port1.machine.calls.first, "\(port1.machine.line) \(port1.machine.registration) \(hw.tone.map { "\($0)" } ?? "-")")
        // … port 2 answers, and, with call waiting, the outside caller reaches port 1 during that call.
        w.hardware[1].lift()
        w.s.run(until: w.s.now + .seconds(2))
        let h = w.outside.newCallHandle()
        w.outside.execute(.invite(h, target: "1001", withholdIdentity: false))
        w.s.run(until: w.s.now + .seconds(2))
        let calls = port1.machine.calls
        #expect(calls.count == 2, "\(port1.machine.line)")
        #expect(Set(calls).count == calls.count)
        #expect(calls.first == placed)
        #expect(calls.map(\.id) == [1, 2])  // one numbering, in the order the calls began
        // The user agent carries exactly the port's calls, under the port's handles.
        #expect(Set(try #require(w.accounts[0]).ua.activeCalls) == Set(calls))
    }

    @Test("a sequence is reproducible from its seed")
    func reproducible() {
        let a = RandomWorld(seed: 4242), b = RandomWorld(seed: 4242)
        for _ in 0..<12 { a.step(); b.step() }
        _ = (a.quiesce(), b.quiesce())
        #expect(a.log == b.log)
        // The same messages between the same parties at the same times; only the identifiers
        // (Call-IDs, tags, branches, cnonces) differ — they come from the system's random source.
        func wire(_ w: RandomWorld) -> [String] {
            w.net.sent.map { d in
                let m = try? SIPParser.parse(d.bytes)
                return "\(d.sentAt) \(d.from)→\(d.to) " + (m.map { "\($0.method.map { "\($0)" } ?? "\($0.status ?? 0)") \($0["CSeq"] ?? "")" } ?? "\(d.bytes.count) bytes")
            }
        }
        #expect(!wire(a).isEmpty)
        #expect(wire(a) == wire(b))
        #expect(a.net.sent.map(\.bytes) != b.net.sent.map(\.bytes))
    }
}
