import TipRingCore
import SystemCalls

/// The daemon's Unix socket: one command per connection (a line), the answer as lines. At
/// most ``maxClients`` at once, each given ``timeout`` to send its line and to take its
/// answer: a stuck or hostile client costs one thread for a bounded time, never the daemon.
final class ControlSocket: @unchecked Sendable {
    let listener: UnixStreamListener
    let handler: @Sendable (String) -> [String]
    let timeout: Duration
    var thread: SystemThread?
    private let state = ConditionLock()
    /// Set by ``close()`` on the daemon's side, read by the accepting thread.
    private var closedFlag = false
    /// Connections being served now.
    private var clients = 0
    var closed: Bool { state.withLock { closedFlag } }
    var path: String { listener.path }
    static let maxClients = 8

    init(path: String, timeout: Duration = .seconds(5), handler: @escaping @Sendable (String) -> [String]) throws {
        do {
            listener = try UnixStreamListener(path: path, mode: 0o660)
        } catch {
            throw ControlSocketError(description: "cannot listen on \(path): \(error)")
        }
        self.handler = handler
        self.timeout = timeout
        thread = try SystemThread.start { [self] in loop() }
    }

    func loop() {
        while !closed {
            guard let connection = try? listener.accept() else { return }
            try? connection.setTimeout(timeout)
            let admitted = state.withLock { () -> Bool in
                guard clients < Self.maxClients else { return false }
                clients += 1
                return true
            }
            guard admitted else {
                try? connection.write(Array("error: busy (\(Self.maxClients) requests in progress); try again\n".utf8))
                continue
            }
            // Each connection on its own thread: a `listen` may take seconds.
            let handler = self.handler
            do {
                try SystemThread.detach { [self] in
                    Self.serve(connection, handler)
                    state.withLock { clients -= 1 }
                }
            } catch {
                state.withLock { clients -= 1 }
            }
        }
    }

    static func serve(_ connection: UnixStream, _ handler: (String) -> [String]) {
        guard let line = try? connection.readLine(), !line.isEmpty else { return }
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
