import Testing
import TipRingCore
import LineHAL
import PortAudio
import SIPCore
@testable import RTPMedia

/// Media from the LTE side: only the negotiated far end is heard; nothing a stranger sends
/// overflows a counter or traps.
@Suite("Hostile media: source screening, clamped statistics, random ports")
struct HostileMediaTests {
    let peer = SIPNetworkAddress("198.51.100.7", 40000)
    let nat = SIPNetworkAddress("203.0.113.5", 61000)
    let stranger = SIPNetworkAddress("203.0.113.66", 5004)

    func packet(pt: UInt8 = 0, ssrc: UInt32 = 0x1111, sequence: UInt16 = 1) -> [UInt8] {
        RTPPacket(payloadType: pt, marker: false, sequence: sequence, timestamp: 160, ssrc: ssrc, payload: [UInt8](repeating: 0xFF, count: 160)).serialized()
    }

    func screen(_ s: inout RTPSourceScreen, _ bytes: [UInt8], from: SIPNetworkAddress) -> RTPSourceScreen.Verdict {
        bytes.withUnsafeBytes { s.screen($0, from: from) }
    }

    @Test("the SDP's address is latched at once; a stranger is dropped and counted")
    func sdpAddress() {
        var s = RTPSourceScreen(expected: peer, payloadTypes: [0, 101])
        #expect(screen(&s, packet(), from: stranger) == .accept)  // nothing latched yet: the first PCMU source (NAT case)
        var t = RTPSourceScreen(expected: peer, payloadTypes: [0, 101])
        #expect(screen(&t, packet(), from: peer) == .accept)
        #expect(screen(&t, packet(ssrc: 9), from: stranger) == .drop)
        #expect(screen(&t, packet(), from: SIPNetworkAddress(peer.host, peer.port + 2)) == .drop)
        #expect(t.dropped == 2 && t.locked?.address == peer)
        _ = s
    }

    @Test("behind a NAT: locked to the first source sending a negotiated type; then its SSRC may restart, nobody else may join")
    func natLatch() {
        var s = RTPSourceScreen(expected: peer, payloadTypes: [8, 101])
        #expect(screen(&s, packet(pt: 0), from: stranger) == .drop)  // PCMU was not negotiated
        #expect(screen(&s, [0x80, 8, 0, 1], from: stranger) == .drop)  // not a whole header
        #expect(screen(&s, packet(pt: 8), from: nat) == .accept)
        #expect(s.locked?.address == nat && s.locked?.ssrc == 0x1111)
        #expect(screen(&s, packet(pt: 8, ssrc: 0x2222), from: nat) == .accept)  // RFC 3550 §8.2: a restarted stream
        #expect(s.locked?.ssrc == 0x2222)
        #expect(screen(&s, packet(pt: 8), from: stranger) == .drop)
        // The SDP's own address still wins over the NAT latch.
        #expect(screen(&s, packet(pt: 8, ssrc: 7), from: peer) == .accept)
        #expect(s.locked?.address == peer)
        #expect(screen(&s, packet(pt: 8), from: nat) == .drop)
        #expect(s.dropped == 4)
        #expect(s.screenControl(from: SIPNetworkAddress(peer.host, peer.port + 1)) == .accept)
        #expect(s.screenControl(from: stranger) == .drop)
    }

    @Test("a re-INVITE with a new address starts the latching over")
    func newSDP() {
        var s = RTPSourceScreen(expected: peer, payloadTypes: [0])
        _ = screen(&s, packet(), from: peer)
        s.update(expected: nat, payloadTypes: [0])
        #expect(s.locked == nil)
        #expect(screen(&s, packet(), from: nat) == .accept)
    }

    @Test("a flood of sequence jumps: loss stays a 24-bit number (RFC 3550 A.3), the RTCP report is built")
    func sequenceJumpFlood() {
        let sd = SessionDescription(address: peer.host, port: peer.port, formats: [.pcmu])
        let session = MediaSession(local: sd, remote: sd, codec: .pcmu, telephoneEvent: nil, sending: true, receiving: true)
        let bridge = MediaBridge(session: session, ssrc: 1, at: .zero) { _ in }
        var sequence: UInt16 = 0
        var timestamp: UInt32 = 0
        for i in 0..<20_000 {
            sequence &+= 30_000  // just under half the sequence space: a jump forward every time
            timestamp &+= 1_000_000_000
            let bytes = RTPPacket(payloadType: 0, marker: false, sequence: sequence, timestamp: timestamp, ssrc: 5, payload: [UInt8](repeating: 0xFF, count: 160)).serialized()
            bytes.withUnsafeBytes { bridge.receive($0, at: Instant(nanoseconds: Int64(i) * 20_000_000)) }
        }
        #expect(bridge.statistics.packetsLost == 0x7F_FFFF)
        let report = bridge.rtcpReport(ntp: 1 << 40, cname: String(repeating: "x", count: 400))
        #expect(report.count > 8)
    }

    final class Sockets: MediaSocketFactory {
        var opened: [Int] = []
        final class Socket: MediaSocket {
            let localPort: Int
            var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)?
            init(_ p: Int) { localPort = p }
            func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress) {}
            func close() {}
        }
        func open(port: Int) -> (any MediaSocket)? {
            opened.append(port)
            return Socket(port)
        }
    }

    @Test("a period under way when the call is disconnected (the BYE) sends nothing after the disconnect")
    func noRTPAfterDisconnect() throws {
        final class Counting: MediaSocketFactory {
            var sent = 0
            final class Socket: MediaSocket {
                let localPort: Int
                weak var owner: Counting?
                var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)?
                init(_ p: Int, _ o: Counting) { localPort = p; owner = o }
                func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress) { owner?.sent += 1 }
                func close() {}
            }
            func open(port: Int) -> (any MediaSocket)? { Socket(port, self) }
        }
        let scheduler = VirtualScheduler(seed: 1)
        let engine = AudioEngine()
        let sockets = Counting()
        let media = PortMedia(engine: engine, factory: sockets, scheduler: scheduler, cname: "t")
        let call = CallHandle(id: 1)
        _ = media.allocate(call)
        let sd = SessionDescription(address: peer.host, port: peer.port, formats: [.pcmu])
        media.mediaChanged(call, MediaSession(local: sd, remote: sd, codec: .pcmu, telephoneEvent: nil, sending: true, receiving: true))
        media.connect(call)
        let bridge = try #require(media.source as? MediaBridge)
        let frame = [Int16](repeating: 1000, count: 160)
        frame.withUnsafeBufferPointer { bridge.consume($0, at: .zero) }
        #expect(sockets.sent == 1, "a connected call sends")
        // The audio thread took the consumer list, then the control plane hangs up.
        media.connect(nil)
        frame.withUnsafeBufferPointer { bridge.consume($0, at: .milliseconds(20)) }
        #expect(sockets.sent == 1, "RTP after the disconnect")
    }

    @Test("RTP ports are drawn at random within the range, even, with room for RTCP")
    func randomPorts() throws {
        let scheduler = VirtualScheduler(seed: 1)
        let engine = AudioEngine()
        let sockets = Sockets()
        let media = PortMedia(engine: engine, factory: sockets, scheduler: scheduler, ports: 16384...16482, cname: "t")
        var ports: [Int] = []
        for id in 0..<12 { ports.append(media.allocate(CallHandle(id: UInt64(id)))) }
        #expect(ports.allSatisfy { $0 % 2 == 0 && (16384...16480).contains($0) })
        #expect(sockets.opened.allSatisfy { (16384...16481).contains($0) })
        // In order, every port would be the last + 2; drawn at random, hardly ever.
        #expect(zip(ports, ports.dropFirst()).contains { $1 != $0 + 2 })
        #expect(Set(ports).count > 1)
    }

    @Test("the statistics of ended calls are kept for the latest 50 calls, not for ever")
    func keptStatisticsAreBounded() {
        let media = PortMedia(engine: AudioEngine(), factory: Sockets(), scheduler: VirtualScheduler(seed: 1), ports: 16384...16482, cname: "t")
        for id in 0..<500 { media.keep(CallStatistics(codec: "PCMU"), of: CallHandle(id: UInt64(id))) }
        #expect(media.statistics.count == PortMedia.keptStatistics)
        #expect(Set(media.statistics.keys.map(\.id)) == Set(450..<500))
    }
}
