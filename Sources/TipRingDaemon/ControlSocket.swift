import TipRingCore
import SystemCalls

/// The daemon's Unix socket: one command per connection (a line), the answer as lines.
final class ControlSocket: @unchecked Sendable {
    let listener: UnixStreamListener
    let handler: @Sendable (String) -> [String]
    var thread: SystemThread?
    private let state = ConditionLock()
    /// Set by ``close()`` on the daemon's side, read by the accepting thread.
    private var closedFlag = false
    var closed: Bool { state.withLock { closedFlag } }
    var path: String { listener.path }

    init(path: String, handler: @escaping @Sendable (String) -> [String]) throws {
        do {
            listener = try UnixStreamListener(path: path, mode: 0o660)
        } catch {
            throw ControlSocketError(description: "cannot listen on \(path): \(error)")
        }
        self.handler = handler
        thread = try SystemThread.start { [self] in loop() }
    }

    func loop() {
        while !closed {
            guard let connection = try? listener.accept() else { return }
            // Each connection on its own thread: a `listen` may take seconds.
            let handler = self.handler
            try? SystemThread.detach { Self.serve(connection, handler) }
        }
    }

    static func serve(_ connection: UnixStream, _ handler: (String) -> [String]) {
        guard let line = try? connection.readLine() else { return }
        try? connection.write(Array((handler(line).joined(separator: "\n") + "\n").utf8))
    }

    /// Stops accepting: wakes the accepting thread, waits for it to end, then closes the
    /// socket (closing it under a blocked accept could hand its number to another file).
    func close() {
        let first = state.withLock { () -> Bool in
            defer { closedFlag = true }
            return !closedFlag
        }
        guard first else { return }
        listener.shutdown()
        thread?.join()
        listener.close()
    }
}

/// Sends one command to a running daemon's socket; the answer's lines.
public func controlRequest(_ path: String, _ command: String) throws -> [String] {
    let connection: UnixStream
    do {
        connection = try UnixStream(connectingTo: path)
    } catch {
        throw ControlSocketError(description: "no daemon at \(path) (\(error)); is `tipring run` running?")
    }
    try connection.write(Array((command + "\n").utf8))
    var out: [UInt8] = []
    while let chunk = try? connection.read(), !chunk.isEmpty { out += chunk }
    return String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
}

/// The control socket could not be opened, or no daemon answers on it.
public struct ControlSocketError: Error, CustomStringConvertible {
    public var description: String
}
