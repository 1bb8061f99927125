import Foundation
import Testing

/// System calls live in one room (ARCHITECTURE.md, "Rules"): sockets, threads, `stat`,
/// `madvise`, `malloc_trim` in `SystemCalls` (over its C shim), the hardware's in `LinuxHAL`,
/// and only the clock, lock, scheduler thread and whole-file reads in the base.
@Suite("System calls in one room")
struct SystemCallRoomTests {
    static let allowed = ["Sources/SystemCalls/", "Sources/LinuxHAL/", "Sources/TipRingCore/"]
    static let call = try! NSRegularExpression(pattern: #"(?<![\w.])(?<!func )(?<!case )(socket|bind|sendto|recvfrom|getsockname|setsockopt|getsockopt|pthread_create|madvise|malloc_trim|listen|accept|readlink|stat|inet_pton|inet_ntop|getaddrinfo)\("#)

    /// `file:line: text` for each system call outside the room, in `text` of `file`.
    static func outside(_ text: String, file: String) -> [String] {
        var found: [String] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = String(line)
            if l.trimmingCharacters(in: .whitespaces).hasPrefix("//") { continue }
            let range = NSRange(l.startIndex..., in: l)
            if call.firstMatch(in: l, range: range) != nil || l.contains("Glibc.") || l.contains("@_exported import Glibc") {
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
                found += Self.outside(try String(contentsOfFile: folder + "/" + file, encoding: .utf8), file: path)
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
    }
}
