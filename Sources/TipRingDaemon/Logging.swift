#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
import TipRingCore
import SystemCalls

/// Where log lines go, and so how they are written.
public enum LogDestination: Sendable, Equatable {
    /// A person reads standard error: time, level, metadata, message.
    case terminal
    /// Standard error is journald's stream (systemd sets `JOURNAL_STREAM`): `<priority>` then
    /// the message — journald takes the level from the prefix and adds name and pid itself.
    case journal
    /// Standard error goes to a file or a pipe: `<priority>tipring[pid]: message`.
    case stream
    /// The system log socket (`/dev/log`, or another path): OpenWrt's logd, at each line's
    /// level — procd would log everything on standard error as an error, under a second
    /// prefix. RFC 3164 lines, daemon facility.
    case syslog(path: String)

    /// For standard error: a terminal, journald's stream, or something else.
    public static func forStandardError(environment: [String: String]) -> LogDestination {
        if isatty(2) != 0 { return .terminal }
        // JOURNAL_STREAM is "device:inode" of the stream systemd connected; it counts only if
        // standard error is still that stream (not redirected by a wrapper).
        if let stream = environment["JOURNAL_STREAM"], stream == FileInfo.identity(ofDescriptor: 2) { return .journal }
        return .stream
    }
}

/// Log lines for a terminal, journald, a file or the system log (``LogDestination``).
public struct TipRingLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let destination: LogDestination

    public init(label: String, destination: LogDestination) {
        self.label = label
        self.destination = destination
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The syslog priority of a level (RFC 5424 severities).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One line as `destination` takes it (without the newline for the system log).
    package static func format(_ level: Logger.Level, tags: String, message: String, label: String, destination: LogDestination, pid: Int32) -> String {
        let tagged = (tags.isEmpty ? "" : "[\(tags)] ") + message
        switch destination {
        case .terminal:
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            var tm = tm()
            var t = ts.tv_sec
            localtime_r(&t, &tm)
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let ms = ts.tv_nsec / 1_000_000
            let stamp = "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
            return "\(stamp) \(level) \(tagged)\n"
        case .journal: return "<\(priority(level))>\(tagged)\n"
        case .stream: return "<\(priority(level))>\(label)[\(pid)]: \(tagged)\n"
        case .syslog: return "<\(3 * 8 + priority(level))>\(label)[\(pid)]: \(tagged)"
        }
    }

    public func log(event: LogEvent) {
        var meta = metadata
        if let m = event.metadata { meta.merge(m) { _, new in new } }
        let tags = meta.keys.sorted().map { "\($0)=\(meta[$0]!)" }.joined(separator: " ")
        let line = Self.format(event.level, tags: tags, message: "\(event.message)", label: label, destination: destination, pid: getpid())
        // A line the system log does not take (logd restarting) goes to standard error: never lost.
        if case .syslog(let path) = destination, UnixDatagram.send(line, to: path) { return }
        var bytes = Array((line.last == "\n" ? line : line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
