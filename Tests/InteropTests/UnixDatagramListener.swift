import Foundation  // tests only: files, processes

/// A Unix datagram socket standing in for systemd's notification socket or the system
/// log's `/dev/log`: what the daemon sends there.
final class UnixDatagramListener {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard fd >= 0, rc == 0 else { throw ToolError(description: "cannot bind \(path): errno \(errno)") }
    }

    /// The next notification, or nil when none comes within `seconds`.
    func next(within seconds: Double) -> String? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(seconds * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
    }

    /// Notifications until `predicate` holds for one, at most `seconds`; all of them.
    func collect(for seconds: Double, until predicate: (String) -> Bool = { _ in false }) -> [String] {
        var out: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, let m = next(within: deadline.timeIntervalSinceNow) {
            out.append(m)
            if predicate(m) { break }
        }
        return out
    }

    /// Closes and removes the socket (the manager or logd gone); sends to it then fail.
    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
        unlink(path)
    }
    private var closed = false

    deinit { close() }
}
