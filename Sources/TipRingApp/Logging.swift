#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Logging

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
        // The daemon's JSON is flat enough to read field by field.
        var rows: [[String]] = [["port", "enabled", "hook", "registration", "line", "call"]]
        for item in json.components(separatedByString: "{\"port\": ").dropFirst() {
            func field(_ name: String) -> String {
                guard let r = item.range(ofString: "\"\(name)\": ") else { return "" }
                let rest = item[r.upperBound...]
                if rest.hasPrefix("\"") {
                    let body = rest.dropFirst()
                    return String(body.prefix { $0 != "\"" })
                }
                if rest.hasPrefix("{") { return String(rest.prefix { $0 != "}" }) + "}" }
                return String(rest.prefix { $0 != "," && $0 != "}" })
            }
            let port = String(item.prefix { $0.isNumber })
            var reg = field("state")
            switch reg {
            case "registered": reg += ", expires in " + field("expiresInSeconds") + " s"
            case "retrying": reg += " in " + field("retryInSeconds") + " s (" + field("reason") + ")"
            case "failed": reg += ": " + field("reason")
            default: break
            }
            var call = "-"
            if !field("call").isEmpty {
                call = (field("direction") == "incoming" ? "from " : "to ") + field("peer")
                if !field("codec").isEmpty {
                    call += ", " + field("codec") + " " + field("seconds") + " s, lost " + field("lost") + ", jitter " + field("jitterMs") + " ms"
                }
            }
            rows.append([port, field("enabled"), field("hook"), reg, field("line"), call])
        }
        return TextTable.render(rows)
    }
}

extension String {
    func components(separatedByString s: String) -> [String] {
        var out: [String] = []
        var rest = Substring(self)
        while let r = rest.range(ofString: s) {
            out.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        out.append(String(rest))
        return out
    }
    func replacingAllOccurrences(_ a: String, _ b: String) -> String { components(separatedByString: a).joined(separator: b) }
}

extension StringProtocol {
    func range(ofString s: String) -> Range<Index>? { self.firstRange(of: s) }
}
