#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from a system call, naming the call, its subject and errno's text.
public struct SystemError: Error, Sendable, CustomStringConvertible, Equatable {
    public var call: String
    public var subject: String
    public var errno: Int32

    public init(call: String, subject: String, errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        "\(call)(\(subject)): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Whole-file reads and writes with plain POSIX calls (no Foundation on the router).
public enum FileIO {
    /// Reads a whole file. Files over `limit` bytes are refused: configuration and board
    /// files are small, and a wrong path to a device or a huge file should not hang us.
    public static func readAll(path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SystemError(call: "open", subject: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw SystemError(call: "read", subject: path, errno: EISDIR)
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "read", subject: path, errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw SystemError(call: "read", subject: path, errno: EFBIG) }
        }
        return out
    }

    /// Reads up to `count` bytes from the start of a file or device (`/dev/urandom`).
    public static func readPrefix(path: String, count: Int) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SystemError(call: "open", subject: path, errno: errno) }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "read", subject: path, errno: errno)
            }
            if n == 0 { break }
            got += n
        }
        return Array(out.prefix(got))
    }

    /// Writes a whole file (created with `mode`, truncated if it exists).
    /// Replaces the file at `path` as a whole or not at all: written to a temporary file
    /// beside it, flushed to the device, then renamed over it — a power cut (a router is
    /// unplugged, not shut down) leaves the old file or the new one, never half of one.
    public static func replace(path: String, bytes: [UInt8], mode: UInt32 = 0o644) throws(SystemError) {
        let temporary = path + ".new"
        try writeAll(path: temporary, bytes: bytes, mode: mode, sync: true)
        if rename(temporary, path) != 0 {
            let e = errno
            unlink(temporary)
            throw SystemError(call: "rename", subject: path, errno: e)
        }
        // The rename itself must reach the device too.
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// Makes `path` and any missing parents (mode 0755); an existing directory is fine.
    public static func makeDirectories(_ path: String) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw SystemError(call: "mkdir", subject: current, errno: errno)
            }
        }
    }

    public static func writeAll(path: String, bytes: [UInt8], mode: UInt32 = 0o644) throws(SystemError) {
        try writeAll(path: path, bytes: bytes, mode: mode, sync: false)
    }

    /// Adds `bytes` at the end of the file (made if missing) in one write: lines appended by
    /// one process never interleave.
    public static func append(path: String, bytes: [UInt8], mode: UInt32 = 0o644) throws(SystemError) {
        try writeAll(path: path, bytes: bytes, mode: mode, sync: false, flags: O_APPEND)
    }

    /// `rename(2)`: atomic within a file system; an existing `to` is replaced.
    public static func move(_ from: String, to: String) throws(SystemError) {
        if rename(from, to) != 0 { throw SystemError(call: "rename", subject: from, errno: errno) }
    }

    static func writeAll(path: String, bytes: [UInt8], mode: UInt32, sync: Bool, flags: Int32 = O_TRUNC) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | flags | O_CLOEXEC, mode_t(mode))
        if fd < 0 { throw SystemError(call: "open", subject: path, errno: errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "write", subject: path, errno: errno)
            }
            offset += n
        }
        if sync && fsync(fd) != 0 { throw SystemError(call: "fsync", subject: path, errno: errno) }
    }
}
