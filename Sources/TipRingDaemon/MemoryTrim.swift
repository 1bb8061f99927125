import TipRingCore
import SystemCalls

/// Gives back what only starting up needed. Argument parsing, decoding the configuration and
/// board files and building the ports run once, but their code stays mapped: the kernel maps
/// file pages around every page touched (fault-around, large page-cache folios, readahead), so
/// a daemon that touched a little of everything while starting keeps most of its executable
/// resident. Once the ports are up, the executable's read-only mappings are handed back
/// (`MADV_PAGEOUT`) and marked for random access (`MADV_RANDOM`: no readahead around a later
/// fault), and the C heap is trimmed; what an idle daemon runs — timers, registration refresh,
/// the status socket — faults back in page by page.
public enum MemoryTrim {
    /// What was handed back.
    public struct Report: Sendable, Equatable {
        public var mappings = 0
        public var bytes = 0
        public var failures: [String] = []
    }

    /// The executable's read-only mappings (text, read-only data) from `/proc/self/maps`.
    public static func ownReadOnlyMappings(maps: String, executable: String) -> [(start: UInt, end: UInt)] {
        var out: [(start: UInt, end: UInt)] = []
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, String(fields[5...].joined(separator: " ")) == executable else { continue }
            let perms = fields[1]
            guard perms.hasPrefix("r"), !perms.contains("w") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start else { continue }
            out.append((start, end))
        }
        return out
    }

    /// Hands the executable's read-only pages back to the kernel and trims the heap.
    @discardableResult
    public static func releaseStartupPages() -> Report {
        var report = Report()
        #if os(Linux)
        guard let maps = try? String(decoding: FileIO.readAll(path: "/proc/self/maps"), as: UTF8.self),
              let exe = try? FileInfo.linkTarget("/proc/self/exe") else {
            report.failures.append("cannot read /proc/self/maps or /proc/self/exe")
            return report
        }
        for m in ownReadOnlyMappings(maps: maps, executable: exe) {
            guard let p = UnsafeMutableRawPointer(bitPattern: m.start) else { continue }
            let length = Int(m.end - m.start)
            do {
                try Memory.pageOut(p, length: length)
                report.mappings += 1
                report.bytes += length
            } catch {
                // Older kernels (EINVAL): nothing lost, the pages simply stay.
                report.failures.append("\(error)")
            }
        }
        Memory.trimHeap()
        #endif
        return report
    }
}
