public import TipRingCore
import CTipRingSys

/// A non-blocking UDP socket on an exact local port: datagrams out without waiting, the ones
/// waiting read on demand. For media driven by the audio period (no threads, no wake-ups).
public final class DatagramSocket: @unchecked Sendable {
    public let descriptor: Int32
    public let local: IPv4Endpoint
    private var closed = false

    /// Binds `local`, marking outgoing packets with DSCP `dscp` (nil: unmarked).
    public init(binding local: IPv4Endpoint, dscp: Int? = nil) throws(SystemError) {
        let tos = dscp.map { Int32(clamping: $0 << 2) } ?? -1
        descriptor = try check(tr_udp_open(local.address, local.port, tos), "bind", local.description)
        self.local = local
    }

    deinit { close() }

    /// The DSCP value the socket marks packets with (read back from the socket; 0 if unknown).
    public var dscp: Int { max(0, Int(tr_udp_tos(descriptor))) >> 2 }

    /// Sends one datagram; a full buffer or an unreachable network drops it (RTP is loss
    /// tolerant), and says so.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: IPv4Endpoint) -> Bool {
        guard !closed else { return false }
        return tr_udp_send(descriptor, bytes.baseAddress, bytes.count, destination.address, destination.port) >= 0
    }

    /// Waits (in the kernel, not a sleep loop) until a datagram can be read or `timeout`
    /// passes; whether one can.
    public func waitReadable(timeout: Duration) -> Bool {
        guard !closed else { return false }
        let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return tr_wait_readable(descriptor, ms) == 1
    }

    /// The next waiting datagram into `buffer`: its length and source; nil when none waits.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, source: IPv4Endpoint)? {
        guard !closed else { return nil }
        var address: UInt32 = 0, port: UInt16 = 0
        let n = tr_udp_receive(descriptor, buffer.baseAddress, buffer.count, &address, &port)
        guard n >= 0 else { return nil }
        return (n, IPv4Endpoint(address: address, port: port))
    }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = tr_close(descriptor)
    }
}
