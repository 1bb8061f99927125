#if canImport(Glibc)
import Glibc
#endif
import Testing
import TipRingCore
@testable import LinuxHAL

/// The thread that waits for GPIO edge events, on a pipe standing in for the event file.
@Suite("Edge watcher: a device that hangs up or fails ends the watch, with the reason")
struct FDWatcherTests {
    final class Calls: @unchecked Sendable {
        let lock = ConditionLock()
        var count = 0
        func add() { lock.withLock { count += 1; lock.broadcast() } }
    }

    func waitForFailure(_ w: FDWatcher, _ calls: Calls) -> String? {
        let deadline = Instant.monotonicNow() + .seconds(5)
        return calls.lock.withLock {
            while w.failure == nil && Instant.monotonicNow() < deadline { calls.lock.wait(until: Instant.monotonicNow() + .milliseconds(5)) }
            return w.failure
        }
    }

    @Test("the writer goes away (POLLHUP): the watch ends saying so, instead of spinning on an event nobody clears")
    func hangUpEndsTheWatch() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let calls = Calls()
        let w = FDWatcher(fd: fds[0], events: Int16(POLLIN)) {
            calls.add()
            var b: UInt8 = 0
            _ = read(fds[0], &b, 1)
            return nil
        }
        try w.start(subject: "test pipe")
        var one: UInt8 = 1
        _ = write(fds[1], &one, 1)
        close(fds[1])
        let failure = waitForFailure(w, calls)
        #expect(failure == "the device hung up (gone?)")
        // One read for the byte (and at most one more at the end of the stream), not thousands.
        #expect(calls.lock.withLock { calls.count } <= 2)
        w.stop()
        close(fds[0])
    }

    @Test("an event that cannot be read ends the watch with the read's reason")
    func failedReadEndsTheWatch() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let calls = Calls()
        let w = FDWatcher(fd: fds[0], events: Int16(POLLIN)) {
            calls.add()
            return "reading an edge event: No such device"
        }
        try w.start(subject: "test pipe")
        var one: UInt8 = 1
        _ = write(fds[1], &one, 1)
        #expect(waitForFailure(w, calls) == "reading an edge event: No such device")
        #expect(calls.lock.withLock { calls.count } == 1)
        w.stop()
        close(fds[0])
        close(fds[1])
    }
}
