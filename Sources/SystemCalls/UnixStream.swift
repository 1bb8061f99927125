public import TipRingCore
import CTipRingSys

/// A Unix stream socket listening at a path (the daemon's control socket).
public final class UnixStreamListener: @unchecked Sendable {
    public let descriptor: Int32
    public let path: String

    /// Listens at `path`: a stale socket there is replaced, a missing directory made, the
    /// socket given `mode`.
    public init(path: String, backlog: Int32 = 8, mode: UInt32 = 0o660) throws(SystemError) {
        descriptor = try check(tr_unix_listen(path, backlog, mode), "listen", path)
        self.path = path
    }

    /// The next connection; throws once the listener is shut down.
    public func accept() throws(SystemError) -> UnixStream {
        UnixStream(descriptor: try check(tr_accept(descriptor), "accept", path))
    }

    /// Wakes a thread blocked in ``accept()``: it throws from then on.
    public func shutdown() { tr_shutdown(descriptor) }

    /// Closes the socket and removes its path — after the accepting thread has ended, or the
    /// descriptor's number could go to another file under it.
    public func close() {
        _ = tr_close(descriptor)
        _ = tr_unlink(path)
    }
}

/// One connection on a Unix stream socket.
public final class UnixStream: @unchecked Sendable {
    public let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// Connects to the socket at `path`.
    public init(connectingTo path: String) throws(SystemError) {
        descriptor = try check(tr_unix_connect(path), "connect", path)
    }

    deinit { _ = tr_close(descriptor) }

    /// Reads and writes that make no progress for `timeout` fail instead of blocking for ever
    /// (a client that connects and says nothing, or stops reading).
    public func setTimeout(_ timeout: Duration) throws(SystemError) {
        let ms = Int32(clamping: max(1, timeout.nanoseconds / 1_000_000))
        _ = try check(tr_socket_timeouts(descriptor, ms), "setsockopt", "socket timeouts")
    }

    /// What has arrived, up to `limit` bytes; empty at the end of the stream.
    public func read(limit: Int = 4096) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = try check(buffer.withUnsafeMutableBytes { tr_read(descriptor, $0.baseAddress, $0.count) }, "read", "socket")
        return Array(buffer[0..<Int(n)])
    }

    /// Reads until a newline (kept out) or the end, at most `limit` bytes.
    public func readLine(limit: Int = 4096) throws(SystemError) -> String {
        var line: [UInt8] = []
        while !line.contains(10) && line.count < limit {
            let chunk = try read(limit: 1024)
            if chunk.isEmpty { break }
            line += chunk
        }
        return String(decoding: line.prefix { $0 != 10 && $0 != 13 }, as: UTF8.self)
    }

    public func write(_ bytes: [UInt8]) throws(SystemError) {
        _ = try check(bytes.withUnsafeBytes { tr_write_all(descriptor, $0.baseAddress, $0.count) }, "write", "socket")
    }
}
