#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore

/// libc's close(2), named apart from `ControlSocket.close()` (which would shadow it there).
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }

/// The daemon's Unix socket: one command per connection (a line), the answer as lines.
final class ControlSocket: @unchecked Sendable {
    let fd: Int32
    let path: String
    let handler: (String) -> [String]
    var thread: pthread_t?
    /// Set by ``close()`` on the daemon's side, read by the accepting thread.
    private let state = ConditionLock()
    private var closedFlag = false
    var closed: Bool { state.withLock { closedFlag } }

    init(path: String, handler: @escaping (String) -> [String]) throws {
        self.path = path
        self.handler = handler
        // The socket's own directory (/var/run/tipring) is made when missing.
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let dir = String(path[..<slash])
            if access(dir, F_OK) != 0 { _ = mkdir(dir, 0o755) }
        }
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw ControlSocketError(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0, listen(fd, 8) == 0 else {
            let why = String(cString: strerror(errno))
            closeDescriptor(fd)
            throw ControlSocketError(description: "cannot listen on \(path): \(why)")
        }
        chmod(path, 0o660)
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        pthread_create(&t, nil, { raw in
            let me = Unmanaged<ControlSocket>.fromOpaque(raw!).takeRetainedValue()
            me.loop()
            return nil
        }, box.toOpaque())
        thread = t
    }

    func loop() {
        while !closed {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                return
            }
            // Each connection on its own thread: a `listen` may take seconds.
            let box = Unmanaged.passRetained(Connection(fd: c, handler: handler))
            var t = pthread_t()
            pthread_create(&t, nil, { raw in
                let conn = Unmanaged<Connection>.fromOpaque(raw!).takeRetainedValue()
                conn.serve()
                return nil
            }, box.toOpaque())
            pthread_detach(t)
        }
    }

    final class Connection {
        let fd: Int32
        let handler: (String) -> [String]
        init(fd: Int32, handler: @escaping (String) -> [String]) {
            self.fd = fd
            self.handler = handler
        }
        func serve() {
            defer { closeDescriptor(fd) }
            var buf = [UInt8](repeating: 0, count: 1024)
            var request: [UInt8] = []
            while !request.contains(10) && request.count < 4096 {
                let n = read(fd, &buf, buf.count)
                if n <= 0 { break }
                request += buf[0..<n]
            }
            let line = String(decoding: request.prefix { $0 != 10 && $0 != 13 }, as: UTF8.self)
            let answer = Array((handler(line).joined(separator: "\n") + "\n").utf8)
            var sent = 0
            while sent < answer.count {
                let n = answer[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                sent += n
            }
        }
    }

    /// Stops accepting: wakes the accepting thread, waits for it to end, then closes the
    /// socket (closing it under a blocked accept could hand its number to another file).
    func close() {
        let first = state.withLock { () -> Bool in
            defer { closedFlag = true }
            return !closedFlag
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        if let thread { pthread_join(thread, nil) }
        closeDescriptor(fd)
        unlink(path)
    }
}

/// Sends one command to a running daemon's socket; the answer's lines.
public func controlRequest(_ path: String, _ command: String) throws -> [String] {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b } }
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    guard rc == 0 else { throw ControlSocketError(description: "no daemon at \(path) (\(String(cString: strerror(errno)))); is `tipring run` running?") }
    let req = Array((command + "\n").utf8)
    _ = req.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
}

/// The control socket could not be opened, or no daemon answers on it.
public struct ControlSocketError: Error, CustomStringConvertible {
    public var description: String
}
