import Testing
import TipRingCore
import TelephonyDSP
import SIPCore
import RTPMedia
import PortControl
import SimulatorApp
@testable import SIPAgent

/// A stateful, seeded fuzz of the whole port: a call is up between the two simulated ports,
/// and a hostile peer replays, mutates and forges SIP (requests and responses, from its own
/// address and — in the second test — from the exchange's) and sprays RTP at the call's
/// media port. Invariants: nothing traps; from a stranger, the call, the registration and
/// the audio are untouched; afterwards no call, transaction or timer is left behind.
@Suite("A hostile peer during a live call (seeded stateful fuzz, virtual time)")
struct HostilePeerTests {
    static let attacker = SIPNetworkAddress("203.0.113.66", 5060)

    /// One mutation of a message someone legitimately sent.
    static func mutate(_ bytes: [UInt8], _ r: inout SeededRandom) -> [UInt8] {
        var b = bytes
        guard !b.isEmpty else { return b }
        func spot() -> Int { Int(r.next() % UInt64(b.count)) }
        switch r.next() % 8 {
        case 0: b[spot()] ^= UInt8(truncatingIfNeeded: r.next() | 1)
        case 1: let i = spot(); b.removeSubrange(i..<min(b.count, i + Int(r.next() % 24)))
        case 2: b.insert(contentsOf: Array("١".utf8), at: spot())
        case 3: b.insert(contentsOf: Array("99999999999999999999999".utf8), at: spot())
        case 4: b = Array(b.prefix(spot()))
        case 5:  // a number in a header becomes enormous
            if let i = b.indices.first(where: { b[$0] >= 48 && b[$0] <= 57 && r.next() % 3 == 0 }) {
                b.insert(contentsOf: Array("000000000000000000000".utf8), at: i + 1)
            }
        case 6: let i = spot(); b.insert(contentsOf: b[i..<min(b.count, i + 40)], at: i)  // a duplicated fragment
        default: break  // replayed as it was
        }
        return b
    }

    func rtp(_ r: inout SeededRandom, tone: inout ToneSynthesizer) -> [UInt8] {
        var pcm = [Int16](repeating: 0, count: 160), payload = [UInt8](repeating: 0, count: 160)
        pcm.withUnsafeMutableBufferPointer { tone.render(into: $0) }
        pcm.withUnsafeBufferPointer { p in payload.withUnsafeMutableBufferPointer { G711.encode(.ulaw, p, into: $0) } }
        let pt: UInt8 = r.next() % 4 == 0 ? UInt8(truncatingIfNeeded: r.next() % 128) : 0
        return RTPPacket(payloadType: pt, marker: false, sequence: UInt16(truncatingIfNeeded: r.next()),
                         timestamp: UInt32(truncatingIfNeeded: r.next()), ssrc: UInt32(truncatingIfNeeded: r.next()), payload: payload).serialized()
    }

    /// The call, the exchange's messages so far as templates, and where port 1 listens.
    func setUp() throws -> (ScenarioRig, templates: [[UInt8]], sip: SIPNetworkAddress, media: SIPNetworkAddress, call: CallHandle) {
        let rig = try MediaScenarioTests().connectedRig()
        guard case .connected(let h, _) = rig.line(1) else { throw Failure("not connected: \(rig.line(1))") }
        let port1 = rig.system.port(1)
        let local = try #require(port1.userAgent.media(of: h)).local
        rig.system.network.attach(Self.attacker) { _, _ in }
        rig.system.mediaNetwork.attach(Self.attacker) { _, _ in }
        return (rig, rig.system.network.sent.map(\.bytes), port1.agent.localAddress, SIPNetworkAddress(local.address, local.port), h)
    }

    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    @Test("from a stranger: replays, mutations, forgeries and RTP leave the call, the registration and the audio alone",
          arguments: UInt64(1)...12)
    func strangerChangesNothing(seed: UInt64) throws {
        let (rig, templates, sip, media, call) = try setUp()
        var r = SeededRandom(seed: seed)
        var noise = ToneSynthesizer(try Tone("3000", level: -3))
        rig.phone(2).mouthpiece.play(try Tone("1804", level: -16))
        for _ in 0..<400 {
            if r.next() % 3 == 0 {
                rig.system.mediaNetwork.send(rtp(&r, tone: &noise), from: Self.attacker, to: media)
            } else {
                let template = templates[Int(r.next() % UInt64(templates.count))]
                rig.system.network.send(Self.mutate(template, &r), from: Self.attacker, to: sip)
            }
            rig.s.run(until: rig.s.now + .milliseconds(Int64(r.next() % 15)))
        }
        let t0 = rig.s.now
        rig.run(2)
        let port1 = rig.system.port(1)
        #expect(rig.line(1) == .connected(call, other: nil), "\(rig.line(1))")
        #expect(port1.controller.machine.registration == .registered)
        let heard = rig.phone(1).earpiece.sine(from: t0, to: rig.s.now)
        #expect(abs(heard.frequency - 1804) < 18 && abs(heard.level - -16) < 1, "\(heard)")
        #expect(port1.agent.droppedRequests + port1.agent.droppedResponses > 0)
        #expect(port1.media.droppedPackets > 0)
        try hangUpAndCheckNothingLeft(rig)
    }

    @Test("from the exchange's own address: mutated traffic may end the call, but nothing traps or leaks",
          arguments: UInt64(100)...105)
    func serverSourceNeverTrapsOrLeaks(seed: UInt64) throws {
        let (rig, templates, sip, _, _) = try setUp()
        var r = SeededRandom(seed: seed)
        let exchange = SimulatedSystem.exchangeAddress
        for _ in 0..<300 {
            let template = templates[Int(r.next() % UInt64(templates.count))]
            rig.system.network.send(Self.mutate(template, &r), from: exchange, to: sip)
            rig.s.run(until: rig.s.now + .milliseconds(Int64(r.next() % 15)))
        }
        rig.run(2)
        try hangUpAndCheckNothingLeft(rig)
    }

    /// Both phones down, time for every transaction to end: no call, no transaction, and the
    /// scheduler back to the timers an idle registered port keeps.
    func hangUpAndCheckNothingLeft(_ rig: ScenarioRig) throws {
        rig.phone(1).hangUp()
        rig.phone(2).hangUp()
        rig.run(70)  // beyond Timer B/F/H (64·T1) and any provisional wait
        for p in rig.system.ports.values {
            #expect(p.userAgent.activeCalls.isEmpty, "port \(p.id): \(p.userAgent.activeCalls)")
            #expect(p.userAgent.clients.isEmpty, "port \(p.id): client transactions left: \(p.userAgent.clients.keys.sorted())")
            #expect(p.userAgent.servers.isEmpty, "port \(p.id): server transactions left: \(p.userAgent.servers.keys.sorted())")
            #expect(p.controller.machine.line == .idle, "port \(p.id): \(p.controller.machine.line)")
        }
        // As many timers as two idle registered ports keep (refreshes, keep-alives, audio periods).
        let idle = try ScenarioRig()
        idle.run(70)
        #expect(rig.s.pendingCount <= idle.s.pendingCount, "timers pending: \(rig.s.pendingCount), an idle system keeps \(idle.s.pendingCount)")
    }
}
