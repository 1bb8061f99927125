#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore
import LineHAL
import SystemCalls

/// A dedicated thread (never the cooperative pool) that waits on one file descriptor for
/// `events` and calls `ready` each time; stopped through a pipe. `ready` returns why the
/// read failed, or nil; a failed read, a hang-up (`POLLHUP`: the chip went away) or an
/// invalid descriptor ends the watch and is kept in ``failure`` — never a loop that spins on
/// an event nobody clears.
final class FDWatcher: @unchecked Sendable {
    let fd: Int32
    let events: Int16
    let ready: () -> String?
    var stopPipe: [Int32] = [-1, -1]
    var thread: SystemThread?
    private let lock = ConditionLock()
    private var lost: String?
    /// Why the watch ended by itself.
    var failure: String? { lock.withLock { lost } }

    init(fd: Int32, events: Int16, ready: @escaping () -> String?) {
        self.fd = fd
        self.events = events
        self.ready = ready
    }

    private func end(_ reason: String) {
        lock.withLock { lost = reason }
    }

    /// Starts watching; fails (naming the call) when no pipe or thread can be made — a line
    /// whose edges would silently never arrive is worse than an error.
    func start(subject: String) throws(HALError) {
        let rc = stopPipe.withUnsafeMutableBufferPointer { pipe($0.baseAddress!) }
        if rc != 0 { throw HALError.systemCall(call: "pipe", subject: subject, errno: errno, message: String(cString: strerror(errno))) }
        do {
            thread = try SystemThread.start { [self] in loop() }
        } catch {
            close(stopPipe[0])
            close(stopPipe[1])
            throw HALError.systemCall(call: error.call, subject: subject, errno: error.errno, message: String(cString: strerror(error.errno)))
        }
    }

    func loop() {
        var fds = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: stopPipe[0], events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                return end("poll: \(String(cString: strerror(errno)))")
            }
            if fds[1].revents != 0 { return }
            let r = fds[0].revents
            if r & (events | Int16(POLLERR)) != 0, let failed = ready() { return end(failed) }
            if r & Int16(POLLNVAL) != 0 { return end("the descriptor was closed") }
            if r & Int16(POLLHUP) != 0 { return end("the device hung up (gone?)") }
        }
    }

    func stop() {
        guard let t = thread else { return }
        var one: UInt8 = 1
        _ = write(stopPipe[1], &one, 1)
        if t.id != SystemThread.currentID { t.join() }
        close(stopPipe[0])
        close(stopPipe[1])
        thread = nil
    }
}
