import Testing
import TipRingCore
import LineHAL

/// Edges the kernel dropped (its per-line event buffer full): noticed by the line's event
/// numbers, by two edges the same way, or by the level once the queue is empty — and mended
/// so the hook decoder ends on the true level.
@Suite("GPIO edges lost to a full kernel buffer: counted and mended")
struct EdgeContinuityTests {
    static func edge(_ e: GPIOEdgeEvent.Edge, ms: Int64) -> GPIOEdgeEvent {
        GPIOEdgeEvent(offset: 3, edge: e, timestamp: Instant(nanoseconds: ms * 1_000_000))
    }

    @Test("edges in order pass as they are; a gap of two numbers (a pair lost) is counted, nothing to mend")
    func inOrder() {
        var c = EdgeContinuity()
        #expect(c.admit(Self.edge(.rising, ms: 1), sequence: 1) == [Self.edge(.rising, ms: 1)])
        #expect(c.admit(Self.edge(.falling, ms: 2), sequence: 2) == [Self.edge(.falling, ms: 2)])
        #expect(c.lost == 0)
        #expect(c.admit(Self.edge(.rising, ms: 5), sequence: 5) == [Self.edge(.rising, ms: 5)])
        #expect(c.lost == 2)
    }

    @Test("two edges the same way (libgpiod v1 has no numbers; v2 shows a gap of one): the missing edge put a nanosecond before, counted once")
    func repeated() {
        for (first, second) in [(UInt64(0), UInt64(0)), (7, 9)] {
            var c = EdgeContinuity()
            _ = c.admit(Self.edge(.rising, ms: 1), sequence: first)
            let mended = c.admit(Self.edge(.rising, ms: 4), sequence: second)
            #expect(mended == [GPIOEdgeEvent(offset: 3, edge: .falling, timestamp: Instant(nanoseconds: 4_000_000 - 1)), Self.edge(.rising, ms: 4)])
            #expect(c.lost == 1)
        }
    }

    @Test("the last edge of a bouncing hang-up dropped: the level read once the queue is empty brings the decoder on-hook; without it the line stays off-hook")
    func lastEdgeLost() {
        let profile = HookTimingProfile.b222s
        func decode(_ edges: [GPIOEdgeEvent], until end: Instant) -> Bool {
            var d = HookDecoder(profile: profile)
            _ = d.handle(HookSenseEdge(state: .offHook, at: .zero))
            _ = d.wake(now: .zero + profile.seize + .milliseconds(10))
            for e in edges { _ = d.handle(HookSenseEdge(state: e.edge == .rising ? .offHook : .onHook, at: e.timestamp)) }
            _ = d.wake(now: end)
            return d.isOffHook
        }
        // Off-hook since 0; at 1 s the handset goes down, bouncing: ↓ ↑ ↓ ↑ and the final ↓ lost.
        var c = EdgeContinuity()
        _ = c.admit(Self.edge(.rising, ms: 0), sequence: 1)
        var delivered: [GPIOEdgeEvent] = []
        for (i, (e, ms)) in [(GPIOEdgeEvent.Edge.falling, Int64(1000)), (.rising, 1002), (.falling, 1004), (.rising, 1006)].enumerated() {
            delivered += c.admit(Self.edge(e, ms: ms), sequence: UInt64(i + 2))
        }
        let end = Instant(nanoseconds: 5_000_000_000)
        #expect(decode(delivered, until: end), "the dropped edge should leave the decoder off-hook (the fault this mends)")
        let mend = c.settled(at: .low, offset: 3, now: Instant(nanoseconds: 1_010_000_000))
        #expect(mend == Self.edge(.falling, ms: 1010) && c.lost == 1)
        #expect(!decode(delivered + [mend].compactMap { $0 }, until: end))
        // The level agreeing with the edges: nothing to add.
        #expect(c.settled(at: .low, offset: 3, now: end) == nil && c.lost == 1)
        var fresh = EdgeContinuity()
        #expect(fresh.settled(at: .high, offset: 3, now: end) == nil)
    }
}
