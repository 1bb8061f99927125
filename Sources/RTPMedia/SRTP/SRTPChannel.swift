import TipRingCore
import SIPCore

/// One encrypted call's SRTP, as the media threads use it: the audio thread protects what
/// the bridge sends (and the control plane its RTCP), a socket thread checks and decrypts
/// what arrives. Each direction has its lock and its own buffer, made once per call: no
/// allocation per packet. Drops are counted by kind.
final class SRTPChannel: @unchecked Sendable {
    let keys: SRTPKeys
    private let sendLock = ConditionLock(), receiveLock = ConditionLock()
    private var sender: SRTPSender
    private var receiver: SRTPReceiver
    private var outbound = [UInt8](repeating: 0, count: SRTPChannel.largest + SRTPSender.largestOverhead)
    private var inbound = [UInt8](repeating: 0, count: SRTPChannel.largest + SRTPSender.largestOverhead)
    private var dropCounts = (malformed: 0, authentication: 0, replay: 0)
    /// The largest datagram taken (an Ethernet MTU's worth).
    static let largest = 1500

    init(_ keys: SRTPKeys) {
        self.keys = keys
        sender = SRTPSender(keys.send)
        receiver = SRTPReceiver(keys.receive)
    }

    /// Packets refused (unauthentic, replayed, not SRTP) so far.
    var dropped: Int { receiveLock.withLock { dropCounts.malformed + dropCounts.authentication + dropCounts.replay } }
    var drops: (malformed: Int, authentication: Int, replay: Int) { receiveLock.withLock { dropCounts } }

    /// Our RTP packet protected, handed to `send` (nothing when it is not RTP or too big).
    func protect(_ packet: UnsafeRawBufferPointer, _ send: (UnsafeRawBufferPointer) -> Void) {
        sendLock.withLock {
            outbound.withUnsafeMutableBytes { out in
                guard packet.count <= Self.largest, let n = sender.protect(packet, into: out) else { return }
                send(UnsafeRawBufferPointer(rebasing: out[0..<n]))
            }
        }
    }

    func protectControl(_ packet: UnsafeRawBufferPointer, _ send: (UnsafeRawBufferPointer) -> Void) {
        sendLock.withLock {
            outbound.withUnsafeMutableBytes { out in
                guard packet.count <= Self.largest, let n = sender.protectControl(packet, into: out) else { return }
                send(UnsafeRawBufferPointer(rebasing: out[0..<n]))
            }
        }
    }

    /// A packet from the network checked and decrypted, handed to `deliver`; false when it
    /// was refused (and counted).
    @discardableResult
    func unprotect(_ packet: UnsafeRawBufferPointer, control: Bool = false, _ deliver: (UnsafeRawBufferPointer) -> Void) -> Bool {
        receiveLock.withLock {
            inbound.withUnsafeMutableBytes { buffer in
                guard packet.count <= buffer.count else {
                    dropCounts.malformed &+= 1
                    return false
                }
                let b = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<packet.count])
                b.copyMemory(from: packet)
                switch control ? receiver.unprotectControl(b) : receiver.unprotect(b) {
                case .success(let n):
                    deliver(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    return true
                case .failure(.malformed): dropCounts.malformed &+= 1
                case .failure(.authentication): dropCounts.authentication &+= 1
                case .failure(.replay): dropCounts.replay &+= 1
                }
                return false
            }
        }
    }
}
