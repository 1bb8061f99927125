public import TipRingCore
import CTipRingSys

/// The service manager's notification socket (systemd's `sd_notify` protocol, without
/// libsystemd — OpenWrt has none): `READY=1` once the ports are up, `WATCHDOG=1` while the
/// daemon is healthy, `STOPPING=1` on the way out, `STATUS=…` for `systemctl status`.
public struct ServiceManager: Sendable {
    /// Where the notifications go (`NOTIFY_SOCKET`); nil when no manager asked for them.
    public let socket: String?
    /// How often the manager wants a `WATCHDOG=1` (`WATCHDOG_USEC`), when it watches.
    public let watchdogInterval: Duration?

    /// From the process's environment as systemd sets it. `WATCHDOG_PID`, when set, must be
    /// ours: a watchdog meant for another process is not ours to pet.
    public init(environment: [String: String], pid: Int32) {
        socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forUs = environment["WATCHDOG_PID"].map { ASCIIDecimal.exact($0, in: 1...Int(Int32.max)) == Int(pid) } ?? true
        if forUs, let text = environment["WATCHDOG_USEC"], let usec = ASCIIDecimal.exact(text, in: 1...86_400_000_000) {
            watchdogInterval = .microseconds(usec)
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends `message` (lines of `KEY=value`); false when there is no manager or it failed.
    @discardableResult
    public func notify(_ message: String) -> Bool {
        guard let socket else { return false }
        return tr_notify(socket, message) == 0
    }

    /// This process's id.
    public static var pid: Int32 { tr_getpid() }
}

/// One datagram to a Unix socket by its path (a leading `@`: the abstract namespace) —
/// systemd's notification socket, the system log's `/dev/log`.
public enum UnixDatagram {
    /// Whether it was sent (false: no such socket, nobody reading, or too long).
    @discardableResult
    public static func send(_ message: String, to path: String) -> Bool { tr_notify(path, message) == 0 }
}
