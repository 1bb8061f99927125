#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging
import TipRingCore

/// Log lines: readable on a terminal (time, level, metadata, message), syslog-style
/// (`<priority>tipring[pid]: …`) otherwise — what journald and OpenWrt's logd take.
public struct TipRingLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let terminal: Bool

    public init(label: String, terminal: Bool) {
        self.label = label
        self.terminal = terminal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var meta = metadata
        if let m = event.metadata { meta.merge(m) { _, new in new } }
        let tags = meta.keys.sorted().map { "\($0)=\(meta[$0]!)" }.joined(separator: " ")
        let line: String
        if terminal {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            var tm = tm()
            var t = ts.tv_sec
            localtime_r(&t, &tm)
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let ms = ts.tv_nsec / 1_000_000
            let stamp = "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
            line = "\(stamp) \(event.level)" + (tags.isEmpty ? "" : " [\(tags)]") + " \(event.message)\n"
        } else {
            let priority: Int
            switch event.level {
            case .trace, .debug: priority = 7
            case .info: priority = 6
            case .notice: priority = 5
            case .warning: priority = 4
            case .error: priority = 3
            case .critical: priority = 2
            }
            line = "<\(priority)>\(label)[\(getpid())]: " + (tags.isEmpty ? "" : "[\(tags)] ") + "\(event.message)\n"
        }
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
