#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import LineHAL
import TipRingCore

/// A GPIO chip through the legacy sysfs interface (`/sys/class/gpio`), for vendor kernels
/// older than 4.8 (the B222s's among them): export, direction, value, edge, and `poll`
/// (`POLLPRI`) on the value file for edges. Timestamps are taken when the edge is read.
/// libc's write(2), named apart from `SysfsGPIOChip.write(_:_:)` (which would shadow it there).
private func writeDescriptor(_ fd: Int32, _ bytes: [UInt8]) -> Int { write(fd, bytes, bytes.count) }

public final class SysfsGPIOChip: GPIOChip, @unchecked Sendable {
    public let root: String
    public let name: String
    public let label: String
    public let lineCount: Int
    public let base: Int

    /// Opens `root/<chip>` (`gpiochip0`, its `base`, `ngpio` and `label` files).
    public init(chip: String, root: String = "/sys/class/gpio") throws(HALError) {
        self.root = root
        name = chip
        let dir = root + "/" + chip
        guard let b = Self.readInt(dir + "/base"), let n = Self.readInt(dir + "/ngpio") else {
            throw HALError.deviceNotFound(device: "sysfs GPIO chip '\(dir)'", reason: "no base/ngpio there", available: Self.chips(root: root))
        }
        base = b
        lineCount = n
        label = Self.readText(dir + "/label") ?? ""
    }

    public static func chips(root: String = "/sys/class/gpio") -> [String] {
        guard let d = opendir(root) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n.hasPrefix("gpiochip") { out.append(n) }
        }
        return out.sorted()
    }

    func path(_ offset: UInt32) -> String { root + "/gpio\(base + Int(offset))" }

    public func lineInfo(offset: UInt32) throws(HALError) -> GPIOLineInfo {
        try check(offset)
        let exported = access(path(offset), F_OK) == 0
        let dir = exported ? (Self.readText(path(offset) + "/direction") ?? "in") : "in"
        return GPIOLineInfo(offset: offset, name: nil, consumer: exported ? "sysfs" : nil, direction: dir == "out" ? .output : .input, isUsed: exported)
    }

    /// sysfs has no way to set a pad's pull: a board that asks for one cannot be served here,
    /// and is told so rather than left floating.
    func checkBias(_ bias: GPIOBias, _ offset: UInt32) throws(HALError) {
        guard bias != .asIs else { return }
        throw HALError.unsupported("\(name) line \(offset): sysfs GPIO cannot set bias '\(bias.rawValue)' (set the pull in the device tree, fit a resistor, or use the character device with libgpiod)")
    }

    public func requestOutput(offset: UInt32, consumer: String, initial: GPIOLevel, drive: GPIODrive, bias: GPIOBias) throws(HALError) -> any GPIOOutputLine {
        try check(offset)
        try checkBias(bias, offset)
        try export(offset)
        let line = Output(path: path(offset), offset: offset, chip: name, drive: drive)
        if drive == .openDrain {
            try line.set(initial)
        } else {
            // "high"/"low" sets the direction and the first level in one write (no glitch).
            try Self.write(path(offset) + "/direction", initial.isHigh ? "high" : "low")
        }
        return line
    }

    public func requestInput(offset: UInt32, consumer: String, bias: GPIOBias, onEdge: GPIOEdgeHandler?) throws(HALError) -> any GPIOInputLine {
        try check(offset)
        try checkBias(bias, offset)
        try export(offset)
        try Self.write(path(offset) + "/direction", "in")
        let line = try Input(path: path(offset), offset: offset, chip: name)
        if let onEdge {
            try Self.write(path(offset) + "/edge", "both")
            do { try line.watch(onEdge) } catch {
                line.release()
                throw error
            }
        }
        return line
    }

    func check(_ offset: UInt32) throws(HALError) {
        guard Int(offset) < lineCount else { throw HALError.noSuchLine(chip: name, offset: offset, lineCount: lineCount) }
    }

    func export(_ offset: UInt32) throws(HALError) {
        if access(path(offset), F_OK) == 0 { return }
        try Self.write(root + "/export", "\(base + Int(offset))")
        guard access(path(offset), F_OK) == 0 else {
            throw HALError.systemCall(call: "export", subject: path(offset), errno: ENOENT, message: "the kernel did not create it")
        }
    }

    static func readText(_ p: String) -> String? {
        guard let b = try? FileIO.readAll(path: p, limit: 4096) else { return nil }
        return String(decoding: b, as: UTF8.self).filter { !$0.isWhitespace }
    }

    static func readInt(_ p: String) -> Int? { readText(p).flatMap { Int($0) } }

    static func write(_ p: String, _ text: String) throws(HALError) {
        let fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC)  // sysfs ignores O_TRUNC; a plain file (tests) needs it
        if fd < 0 { throw HALError.systemCall(call: "open", subject: p, errno: errno, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        if writeDescriptor(fd, bytes) < 0 {
            throw HALError.systemCall(call: "write '\(text)'", subject: p, errno: errno, message: String(cString: strerror(errno)))
        }
    }

    /// An output line. sysfs has no open-drain flag: such a line is emulated by switching
    /// the direction — "low" drives 0, "in" releases the pin.
    final class Output: GPIOOutputLine, @unchecked Sendable {
        let path: String, offset: UInt32, chip: String
        let drive: GPIODrive
        var released = false
        init(path: String, offset: UInt32, chip: String, drive: GPIODrive) {
            self.path = path
            self.offset = offset
            self.chip = chip
            self.drive = drive
        }
        func set(_ level: GPIOLevel) throws(HALError) {
            guard !released else { throw HALError.released("\(chip) line \(offset)") }
            if drive == .openDrain {
                try SysfsGPIOChip.write(path + "/direction", level.isHigh ? "in" : "low")
            } else {
                try SysfsGPIOChip.write(path + "/value", level.isHigh ? "1" : "0")
            }
        }
        func release() { released = true }
    }

    /// An input line; ``poll()`` reads the value and reports an edge when it changed (the
    /// watcher calls it when the kernel signals `POLLPRI`).
    public final class Input: GPIOInputLine, @unchecked Sendable {
        let path: String
        public let offset: UInt32
        let chip: String
        let fd: Int32
        var last: GPIOLevel
        var handler: GPIOEdgeHandler?
        var watcher: FDWatcher?
        var released = false

        init(path: String, offset: UInt32, chip: String) throws(HALError) {
            self.path = path
            self.offset = offset
            self.chip = chip
            fd = open(path + "/value", O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw HALError.systemCall(call: "open", subject: path + "/value", errno: errno, message: String(cString: strerror(errno))) }
            last = .low
            last = (try? read()) ?? .low
        }

        func watch(_ onEdge: @escaping GPIOEdgeHandler) throws(HALError) {
            handler = onEdge
            let w = FDWatcher(fd: fd, events: Int16(POLLPRI)) { [weak self] in self?.poll() }
            watcher = w
            try w.start(subject: "\(chip) line \(offset)")
        }

        public func read() throws(HALError) -> GPIOLevel {
            guard !released else { throw HALError.released("\(chip) line \(offset)") }
            var b: UInt8 = 0
            if pread(fd, &b, 1, 0) != 1 { throw HALError.systemCall(call: "read", subject: path + "/value", errno: errno, message: String(cString: strerror(errno))) }
            return GPIOLevel(b == UInt8(ascii: "1"))
        }

        /// Reads the value after an edge; why the read failed, or nil.
        @discardableResult
        public func poll() -> String? {
            let level: GPIOLevel
            do { level = try read() } catch { return "\(error)" }
            guard level != last else { return nil }
            last = level
            let e = GPIOEdgeEvent(offset: offset, edge: level.isHigh ? .rising : .falling, timestamp: .monotonicNow())
            handler?(e)
            handlerForTests?(e)
            return nil
        }

        public var failure: String? { watcher?.failure.map { "\(chip) line \(offset): \($0)" } }

        /// Receives edges found by ``poll()`` without a watcher thread (fake trees in tests).
        public var handlerForTests: GPIOEdgeHandler?

        public func release() {
            guard !released else { return }
            watcher?.stop()
            watcher = nil
            released = true
            close(fd)
        }
        deinit { release() }
    }
}
