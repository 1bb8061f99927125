#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import TipRingCore
import TelephonyDSP

/// `tipring calls` for people: one row per call, newest last, times in local time.
public enum CallTable {
    /// The daemon's answer to `calls` (a JSON array of history lines) as a table.
    public static func render(_ json: String) throws(DocumentError) -> String {
        var rows: [[String]] = [["time", "port", "", "who", "talked", "end", "quality"]]
        for call in try DocumentValue.parse(Array(json.utf8), file: "calls").array() {
            let o = try call.object(allowed: ["time", "port", "direction", "peer", "name", "answered", "ringSeconds", "talkSeconds", "end",
                                              "codec", "received", "lost", "jitterMs", "passThrough"])
            let peer = try o.required("peer").string()
            var who = peer
            if let name = o.optional("name") { who = "\(try name.string()) <\(peer)>" }
            let answered = try o.required("answered").bool()
            let talked = answered ? duration(try o.required("talkSeconds").number(in: 0...1e9)) : "—"
            var quality = ""
            if let codec = try o.optional("codec")?.string() {
                let received = try o.required("received").integer(in: 0...Int64.max), lost = try o.required("lost").integer(in: 0...Int64.max)
                let share = received + lost == 0 ? 0 : Double(lost) * 100 / Double(received + lost)
                quality = "\(codec), \((share * 10).rounded() / 10) % lost, jitter \(try o.required("jitterMs").number(in: 0...1e9)) ms"
                if received + lost > 0 { quality += ", MOS \(EModel.mos(codec: codec, received: received, lost: lost))" }
            }
            if let tone = try o.optional("passThrough")?.string() { quality += (quality.isEmpty ? "" : "; ") + "fax/modem pass-through (\(tone))" }
            rows.append([localTime(try o.required("time").integer(in: 0...Int64.max)), "\(try o.required("port").int(in: 1...64))",
                         try o.required("direction").string() == "incoming" ? "in" : "out", who, talked, try o.required("end").string(), quality]
                .map(StatusTable.printable))
        }
        return rows.count == 1 ? "no calls yet\n" : TextTable.render(rows)
    }

    /// "1:05" for 65 s, "1:02:03" past an hour.
    package static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(s / 60):\(two(s % 60))"
    }

    /// "2026-12-02 23:41" in the box's time zone.
    static func localTime(_ seconds: Int64) -> String {
        var t = time_t(seconds), tm = tm()
        localtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday)) \(two(tm.tm_hour)):\(two(tm.tm_min))"
    }
}
