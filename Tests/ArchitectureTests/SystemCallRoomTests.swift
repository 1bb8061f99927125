import Foundation
import Testing

/// System calls live in one room (ARCHITECTURE.md, "Rules"): sockets, threads, `stat`,
/// `madvise`, `malloc_trim` in `SystemCalls` (over its C shim), the hardware's in `LinuxHAL`,
/// and only the clock, locks and whole-file reads (`stat`) in the base.
@Suite("System calls in one room")
struct SystemCallRoomTests {
    static let allowed = ["Sources/SystemCalls/", "Sources/LinuxHAL/"]
    /// The base's whole-file reads check for a directory with `stat`; nothing else.
    static let baseAllows: Set<String> = ["stat"]
    static let call = try! NSRegularExpression(pattern: #"(?<![\w.])(?<!func )(?<!case )(socket|bind|sendto|recvfrom|getsockname|setsockopt|getsockopt|pthread_create|madvise|malloc_trim|listen|accept|readlink|stat|inet_pton|inet_ntop|getaddrinfo)\("#)

    /// `file:line: text` for each system call outside the room, in `text` of `file`.
    static func outside(_ text: String, file: String, allowing: Set<String> = []) -> [String] {
        var found: [String] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = String(line)
            if l.trimmingCharacters(in: .whitespaces).hasPrefix("//") { continue }
            let range = NSRange(l.startIndex..., in: l)
            let calls = call.matches(in: l, range: range).compactMap { Range($0.range(at: 1), in: l).map { String(l[$0]) } }
            if calls.contains(where: { !allowing.contains($0) }) || l.contains("Glibc.") || l.contains("@_exported import Glibc") {
                found.append("\(file):\(n + 1): \(l.trimmingCharacters(in: .whitespaces))")
            }
        }
        return found
    }

    @Test("no Swift file outside SystemCalls, LinuxHAL and the base makes a socket, thread, stat, madvise or malloc_trim call")
    func oneRoom() throws {
        var found: [String] = []
        for top in ["Sources", "Simulator"] {
            let folder = ModuleGraph.root + "/" + top
            guard let files = FileManager.default.enumerator(atPath: folder) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let path = top + "/" + file
                if Self.allowed.contains(where: { path.hasPrefix($0) }) { continue }
                let allowing = path.hasPrefix("Sources/TipRingCore/") ? Self.baseAllows : []
                found += Self.outside(try String(contentsOfFile: folder + "/" + file, encoding: .utf8), file: path, allowing: allowing)
            }
        }
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    @Test("the check finds a raw call, a Glibc-qualified one and a re-export, and passes declarations")
    func checkBites() {
        #expect(Self.outside("let fd = socket(AF_INET, 2, 0)", file: "x").count == 1)
        #expect(Self.outside("_ = Glibc.close(fd)", file: "x").count == 1)
        #expect(Self.outside("@_exported import Glibc", file: "x").count == 1)
        #expect(Self.outside("if stat(path, &st) == 0 {", file: "x").count == 1)
        #expect(Self.outside("public static func bind(host: String)", file: "x").isEmpty)
        #expect(Self.outside("case accept(offer: SessionDescription?)", file: "x").isEmpty)
        #expect(Self.outside("try listener.accept()", file: "x").isEmpty)
        #expect(Self.outside("var st = stat()", file: "x", allowing: Self.baseAllows).isEmpty)
        #expect(Self.outside("let rc = pthread_create(&t, nil, body, box)", file: "x", allowing: Self.baseAllows).count == 1)
    }
}
