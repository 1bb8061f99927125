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

/// `tipring status` for people: a table from the daemon's JSON.
public enum StatusReport {
    public static func render(_ json: String) -> String {
        var rows: [[String]] = [["port", "enabled", "hook", "registration", "line", "call"]]
        var dropped: [String] = []
        guard let status = try? JSON5Parser.parse(json) else { return "unreadable status from the daemon: \(json)" }
        for port in status["ports"]?.items ?? [] {
            func field(_ name: String, in node: JSON5Node? = port) -> String { node?[name]?.text ?? "" }
            let registration = port["registration"]
            var reg = field("state", in: registration)
            switch reg {
            case "registered": reg += ", expires in " + field("expiresInSeconds", in: registration) + " s"
            case "retrying": reg += " in " + field("retryInSeconds", in: registration) + " s (" + field("reason", in: registration) + ")"
            case "failed": reg += ": " + field("reason", in: registration)
            default: break
            }
            var call = "-"
            if let c = port["call"] {
                call = (field("direction", in: c) == "incoming" ? "from " : "to ") + field("peer", in: c)
                if c["codec"] != nil {
                    call += ", " + field("codec", in: c) + " " + field("seconds", in: c) + " s, lost " + field("lost", in: c)
                        + ", jitter " + field("jitterMs", in: c) + " ms"
                }
            }
            rows.append([field("port"), field("enabled"), field("hook"), reg, field("line"), call].map(printable))
            if let d = port["dropped"] {
                func count(_ k: String) -> Int { Int(field(k, in: d)) ?? 0 }
                let s = DropCounts.sentence(requests: count("requests"), responses: count("responses"), malformed: count("malformed"), media: count("rtp"))
                if !s.isEmpty { dropped.append("port \(field("port")) dropped: \(s)") }
            }
        }
        return TextTable.render(rows) + dropped.map { $0 + "\n" }.joined()
    }

    /// A cell as it may reach a terminal: control bytes (an ESC in a caller's name would
    /// drive the admin's terminal) are shown as `\u{1B}`, not sent.
    static func printable(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || (0x7F...0x9F).contains(u.value) {
                out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

extension JSON5Node {
    /// A member of an object.
    subscript(_ key: String) -> JSON5Node? {
        guard case .object(let members) = kind else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The elements of an array.
    var items: [JSON5Node]? {
        guard case .array(let items) = kind else { return nil }
        return items
    }

    /// A scalar as a person reads it.
    var text: String? {
        switch kind {
        case .string(let s): s
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"
        case .bool(let b): "\(b)"
        case .null, .array, .object: nil
        }
    }
}
