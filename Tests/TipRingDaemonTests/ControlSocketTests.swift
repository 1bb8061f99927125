import Testing
import TipRingCore
import SystemCalls
import TestSupport
@testable import TipRingDaemon

/// The control socket is local, but whatever connects to it must not be able to stop the
/// daemon answering: silent clients are bounded in number and in time, and one that goes away
/// before its answer costs nothing (no SIGPIPE).
@Suite("Control socket: bounded clients", .serialized)
struct ControlSocketTests {
    func path() -> String { "/tmp/tipring-control-\(SecureRandom.token().prefix(10)).sock" }

    @Test("8 silent clients: the 9th is told the socket is busy; the silent ones are dropped after the timeout; then requests are served again")
    func silentClientsAreBoundedAndTimedOut() throws {
        let socket = try ControlSocket(path: path(), timeout: .milliseconds(300)) { line in ["echo \(line)"] }
        defer { socket.close() }
        let silent = try (0..<ControlSocket.maxClients).map { _ in try UnixStream(connectingTo: socket.path) }
        // Each silent client holds a place once it is accepted; a request that gets through
        // before all of them are counted is answered, so ask until the socket says busy.
        var busy = ""
        for _ in 0..<50 where !busy.hasPrefix("error: busy") {
            let extra = try UnixStream(connectingTo: socket.path)
            try extra.write(Array("status\n".utf8))
            busy = String(decoding: try extra.read(), as: UTF8.self)
        }
        #expect(busy.hasPrefix("error: busy"), "\(busy)")
        // The silent ones are closed by the daemon's side (a read that ends, without a sleep here).
        for s in silent { #expect(try s.read().isEmpty) }
        let next = try UnixStream(connectingTo: socket.path)
        try next.write(Array("status\n".utf8))
        #expect(try next.readLine() == "echo status")
    }

    @Test("a client that leaves before its answer: the answer's write fails quietly (EPIPE, no SIGPIPE), the next client is served")
    func aClientThatLeavesCostsNothing() throws {
        final class Gate: @unchecked Sendable {
            let lock = ConditionLock()
            var open = false
        }
        let gate = Gate()
        let socket = try ControlSocket(path: path(), timeout: .seconds(2)) { line in
            // Bounded: a test that failed before opening the gate must not hang the run.
            let deadline = Instant.monotonicNow() + .seconds(20)
            gate.lock.withLock { while !gate.open && Instant.monotonicNow() < deadline { gate.lock.wait(until: deadline) } }
            return [String(repeating: "x", count: 1_000_000)]  // more than a socket buffer holds
        }
        defer { socket.close() }
        do {
            let leaving = try UnixStream(connectingTo: socket.path)
            try leaving.write(Array("listen\n".utf8))
        }  // closed here, before the answer
        gate.lock.withLock { gate.open = true; gate.lock.broadcast() }
        let next = try UnixStream(connectingTo: socket.path)
        try next.write(Array("status\n".utf8))
        var got = 0
        while let chunk = try? next.read(limit: 65536), !chunk.isEmpty { got += chunk.count }
        #expect(got == 1_000_001)
    }
}
