public import TipRingCore
import CTipRingSys

/// A non-blocking UDP socket on an exact local port: datagrams out without waiting, the ones
/// waiting read on demand. For media driven by the audio period (no threads, no wake-ups).
public final class DatagramSocket: @unchecked Sendable {
    public let descriptor: Int32
    public let local: IPEndpoint
    private var closed = false

    /// Binds `local`, marking outgoing packets with DSCP `dscp` (nil: unmarked).
    public init(binding local: IPEndpoint, dscp: Int? = nil) throws(SystemError) {
        let tos = dscp.map { Int32(clamping: $0 << 2) } ?? -1
        var address = local.raw
        descriptor = try check(tr_udp_open(&address, tos), "bind", local.description)
        self.local = local
    }

    deinit { close() }

    /// The DSCP value the socket marks packets with (read back from the socket; 0 if unknown).
    public var dscp: Int { max(0, Int(tr_udp_tos(descriptor, local.family == .ipv6 ? 6 : 4))) >> 2 }

    /// Sends one datagram; a full buffer or an unreachable network drops it (RTP is loss
    /// tolerant), and says so.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: IPEndpoint) -> Bool {
        guard !closed else { return false }
        var d = destination.raw
        return tr_udp_send(descriptor, bytes.baseAddress, bytes.count, &d) >= 0
    }

    /// Waits (in the kernel, not a sleep loop) until a datagram can be read or `timeout`
    /// passes; whether one can.
    public func waitReadable(timeout: Duration) -> Bool {
        guard !closed else { return false }
        let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return tr_wait_readable(descriptor, ms) == 1
    }

    /// The next waiting datagram into `buffer`: its length and source; nil when none waits.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, source: IPEndpoint)? {
        guard !closed else { return nil }
        var source = tr_endpoint()
        let n = tr_udp_receive(descriptor, buffer.baseAddress, buffer.count, &source)
        guard n >= 0 else { return nil }
        return (n, IPEndpoint(source))
    }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = tr_close(descriptor)
    }
}
