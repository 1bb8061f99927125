import Testing
import TipRingCore
import PortAudio
import TelephonyDSP
import SIPCore
@testable import RTPMedia

/// Two ports' media joined by an in-memory network: each socket's datagrams go to the socket
/// at the address they were sent to, with the sender's address as their source.
final class MemoryNetwork: MediaSocketFactory {
    final class Socket: MediaSocket {
        let address: SIPNetworkAddress
        weak var network: MemoryNetwork?
        var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)?
        var localPort: Int { address.port }
        init(_ a: SIPNetworkAddress, _ n: MemoryNetwork) { address = a; network = n }
        func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress) { network?.carry(Array(bytes), from: address, to: to) }
        func close() {}
    }
    let host: String
    let shared: Shared
    final class Shared {
        var sockets: [SIPNetworkAddress: Socket] = [:]
        var wire: [(from: SIPNetworkAddress, to: SIPNetworkAddress, bytes: [UInt8])] = []
        var now = Instant(nanoseconds: 0)
    }
    init(host: String, shared: Shared) {
        self.host = host
        self.shared = shared
    }
    func open(port: Int) -> (any MediaSocket)? {
        let s = Socket(SIPNetworkAddress(host, port), self)
        shared.sockets[s.address] = s
        return s
    }
    func carry(_ bytes: [UInt8], from: SIPNetworkAddress, to: SIPNetworkAddress) {
        shared.wire.append((from, to, bytes))
        bytes.withUnsafeBytes { shared.sockets[to]?.onPacket?($0, from, shared.now) }
    }
}

@Suite("SRTP in a call's media: encrypted on the wire, heard in clear, strangers dropped")
struct SRTPMediaTests {
    struct End {
        let media: PortMedia
        let port: Int
    }

    /// Port A and port B in a call whose SDP agreed `keys` (A's view; B's is the mirror).
    func call(srtp: SRTPKeys?, required: Bool = false, bHasKeys: Bool = true) -> (a: PortMedia, b: PortMedia, shared: MemoryNetwork.Shared, h: CallHandle) {
        let shared = MemoryNetwork.Shared(), scheduler = VirtualScheduler(seed: 3)
        let a = PortMedia(engine: AudioEngine(), factory: MemoryNetwork(host: "192.0.2.10", shared: shared), scheduler: scheduler, ports: 4000...4001, cname: "a")
        let b = PortMedia(engine: AudioEngine(), factory: MemoryNetwork(host: "198.51.100.7", shared: shared), scheduler: scheduler, ports: 6000...6001, cname: "b")
        let h = CallHandle(id: 1)
        let pa = a.allocate(h), pb = b.allocate(h)
        let sa = SessionDescription(address: "192.0.2.10", port: pa, formats: [.pcmu]), sb = SessionDescription(address: "198.51.100.7", port: pb, formats: [.pcmu])
        var ma = MediaSession(local: sa, remote: sb, codec: .pcmu, telephoneEvent: nil, sending: true, receiving: true)
        var mb = MediaSession(local: sb, remote: sa, codec: .pcmu, telephoneEvent: nil, sending: true, receiving: true)
        ma.srtp = srtp
        mb.srtp = bHasKeys ? srtp.map { SRTPKeys(send: $0.receive, receive: $0.send) } : nil
        ma.encryptionRequired = required
        mb.encryptionRequired = required
        a.mediaChanged(h, ma)
        b.mediaChanged(h, mb)
        a.connect(h)
        b.connect(h)
        return (a, b, shared, h)
    }

    /// A's handset says a 1004 Hz tone for a second; what B's handset hears (after 0.5 s).
    func talk(_ a: PortMedia, _ b: PortMedia, _ shared: MemoryNetwork.Shared) throws -> [Int16] {
        let sender = try #require(a.source as? MediaBridge), receiver = try #require(b.source as? MediaBridge)
        var synth = ToneSynthesizer(try Tone("1004", level: -16))
        var frame = [Int16](repeating: 0, count: 160), out = [Int16](repeating: 0, count: 160), heard: [Int16] = []
        for p in 0..<50 {
            shared.now = Instant(nanoseconds: Int64(p) * 20_000_000)
            frame.withUnsafeMutableBufferPointer { synth.render(into: $0) }
            frame.withUnsafeBufferPointer { sender.consume($0, at: shared.now) }
            out.withUnsafeMutableBufferPointer { receiver.render(into: $0, at: shared.now) }
            if p >= 25 { heard += out }
        }
        return heard
    }

    @Test("every suite: the tone heard at its level and frequency; no packet on the wire carries the G.711 the plain call would", arguments: SRTPSuite.allCases)
    func encryptedCall(suite: SRTPSuite) throws {
        let keys = SRTPKeys(send: .random(suite), receive: .random(suite))
        let (a, b, shared, _) = call(srtp: keys)
        let heard = try talk(a, b, shared)
        let m = Level.sine(heard)
        #expect(abs(m.frequency - 1004) < 5 && abs(m.level - -16) < 0.6, "\(m)")
        #expect(a.current?.encryption == suite.rawValue && b.current?.encryption == suite.rawValue)
        // The same tone in clear, packet for packet: none of its payloads is on the wire.
        let (pa, pb, plainShared, _) = call(srtp: nil)
        _ = try talk(pa, pb, plainShared)
        #expect(pa.current?.encryption == nil)
        let plainPayloads = Set(plainShared.wire.filter { $0.bytes.count == 172 }.map { Array($0.bytes[12...]) })
        let sent = shared.wire.filter { $0.to.port % 2 == 0 }
        #expect(sent.count == 50 && sent.allSatisfy { $0.bytes.count == 172 + suite.rtpTagLength })
        #expect(!sent.contains { plainPayloads.contains(Array($0.bytes[12..<172])) })
    }

    @Test("a stranger's packets, a replay and a packet keyed otherwise are dropped and counted; the call is not latched to them")
    func strangers() throws {
        let keys = SRTPKeys(send: .random(.aesCM128HMACSHA1_80), receive: .random(.aesCM128HMACSHA1_80))
        let (a, b, shared, _) = call(srtp: keys)
        _ = try talk(a, b, shared)
        let bSocket = try #require(shared.sockets[SIPNetworkAddress("198.51.100.7", 6000)])
        let before = b.current?.packetsReceived ?? -1
        // A replay of A's first packet, from A's own address.
        let first = try #require(shared.wire.first { $0.to == bSocket.address })
        first.bytes.withUnsafeBytes { bSocket.onPacket?($0, first.from, shared.now) }
        // An attacker's packet with another key, from elsewhere, before anyone spoke... and from A's address.
        var forger = SRTPSender(.random(.aesCM128HMACSHA1_80))
        let forged = forger.protect(rtpPacket(sequence: 9000, ssrc: 0x5555))!
        forged.withUnsafeBytes { bSocket.onPacket?($0, SIPNetworkAddress("203.0.113.66", 4000), shared.now) }
        forged.withUnsafeBytes { bSocket.onPacket?($0, first.from, shared.now) }
        #expect(b.current?.packetsReceived == before)
        #expect(b.droppedPackets == 3, "\(b.droppedPackets)")
        let sent = shared.wire.count
        _ = try talk(a, b, shared)
        #expect(shared.wire.count > sent && b.current.map { $0.packetsReceived > before } == true)
        // B still answers to A, not to the stranger.
        #expect(!shared.wire.contains { $0.to.host == "203.0.113.66" })
    }

    @Test("encryption required and not agreed: nothing sent, nothing heard — never audio in clear")
    func requiredButMissing() throws {
        let (a, b, shared, _) = call(srtp: nil, required: true)
        let heard = try talk(a, b, shared)
        #expect(shared.wire.isEmpty && heard.allSatisfy { $0 == 0 } && a.current?.encryption == nil)
    }
}
