package import TipRingCore
package import PortControl
package import RTPMedia

/// The last calls of every port, one JSON object per line in the state directory
/// (`calls.jsonl`). A line is appended when a call ends; at ``linesPerFile`` the file becomes
/// `calls.jsonl.1` (the one before it goes) — so at most twice that many calls, a few hundred
/// kB, written once per call (flash wears by writes).
package final class CallHistory {
    let path: String
    private(set) var linesInFile: Int
    /// The file ends in the middle of a line (a power cut during a write): the next line
    /// starts on a line of its own.
    private var tornLine: Bool
    package static let linesPerFile = 1000

    package init(directory: String) {
        path = directory + "/calls.jsonl"
        let bytes = (try? FileIO.readAll(path: path, limit: 4 << 20)) ?? []
        linesInFile = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        tornLine = bytes.last.map { $0 != 0x0A } ?? false
    }

    /// One finished call with its port and the quality its media had (if it had any).
    package static func line(_ r: CallRecord, port: Int, quality: CallStatistics?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("time", .integer(r.startedAt)), ("port", .integer(Int64(port))), ("direction", .string(r.direction.rawValue)),
            ("peer", .string(r.peer)),
        ]
        if let name = r.peerName { members.append(("name", .string(name))) }
        members += [("answered", .bool(r.answered)), ("ringSeconds", .number((r.ringSeconds * 10).rounded() / 10)),
                    ("talkSeconds", .number((r.talkSeconds * 10).rounded() / 10)), ("end", .string(r.end))]
        if let q = quality {
            members += [("codec", .string(q.codec)), ("received", .integer(Int64(q.packetsReceived))), ("lost", .integer(Int64(q.packetsLost))),
                        ("jitterMs", .number((q.jitterMilliseconds * 10).rounded() / 10))]
            if let tone = q.passThrough { members.append(("passThrough", .string(tone))) }
        }
        return .object(members)
    }

    /// Appends the call (rotating first when the file is full). Throws what the file system
    /// said; the caller logs it — a full flash must not stop a call.
    package func append(_ line: JSONValue) throws(SystemError) {
        if linesInFile >= Self.linesPerFile {
            try FileIO.move(path, to: path + ".1")
            linesInFile = 0
            tornLine = false
        }
        try FileIO.append(path: path, bytes: Array(((tornLine ? "\n" : "") + line.rendered + "\n").utf8), mode: 0o640)
        linesInFile += 1
        tornLine = false
    }

    /// The last `count` calls, newest last, as they were written (lines that do not parse —
    /// a torn last line after a power cut — are left out).
    package func recent(_ count: Int) -> [String] {
        var lines: [String] = []
        for file in [path + ".1", path] {
            guard let bytes = try? FileIO.readAll(path: file, limit: 4 << 20) else { continue }
            lines += bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        }
        // Only the newest are parsed (the page asks every few seconds; a router is slow).
        return lines.suffix(count + 1).filter { (try? DocumentValue.parse(Array($0.utf8), file: "calls")) != nil }.suffix(count)
    }
}
