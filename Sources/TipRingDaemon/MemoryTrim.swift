#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore

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
        guard let maps = try? String(decoding: FileIO.readAll(path: "/proc/self/maps"), as: UTF8.self), let exe = readLink("/proc/self/exe") else {
            report.failures.append("cannot read /proc/self/maps or /proc/self/exe")
            return report
        }
        let pageOut: Int32 = 21  // MADV_PAGEOUT (Linux 5.4)
        for m in ownReadOnlyMappings(maps: maps, executable: exe) {
            guard let p = UnsafeMutableRawPointer(bitPattern: m.start) else { continue }
            let length = Int(m.end - m.start)
            _ = madvise(p, length, MADV_RANDOM)
            if madvise(p, length, pageOut) == 0 {
                report.mappings += 1
                report.bytes += length
            } else {
                // Older kernels (EINVAL): nothing lost, the pages simply stay.
                report.failures.append("madvise: \(String(cString: strerror(errno)))")
            }
        }
        #if canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
        #endif
        return report
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count - 1) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (declared in <malloc.h>, which the Glibc module leaves out).
@_silgen_name("malloc_trim")
func glibcMallocTrim(_ pad: Int) -> Int32
#endif
