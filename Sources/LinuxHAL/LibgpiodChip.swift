#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CTipRingGPIO
public import LineHAL
import TipRingCore

/// A GPIO chip through libgpiod (v1 or v2, whichever the system has): lines requested with a
/// consumer name, edge events read on a dedicated thread with monotonic timestamps.
public final class LibgpiodChip: GPIOChip, @unchecked Sendable {
    let chip: OpaquePointer
    public let name: String
    public let label: String
    public let lineCount: Int

    /// "v1 1.6.3" / "v2 2.1.3".
    public static var api: String { String(cString: tipring_gpio_api()) }

    init(chip: OpaquePointer) {
        self.chip = chip
        var n = [CChar](repeating: 0, count: 64), l = [CChar](repeating: 0, count: 64)
        var count: UInt32 = 0
        tipring_gpio_chip_info(chip, &n, 64, &l, 64, &count)
        name = Self.string(n)
        label = Self.string(l)
        lineCount = Int(count)
    }

    deinit { tipring_gpio_close(chip) }

    /// Opens a chip by path (`/dev/gpiochip0`), name (`gpiochip0`) or label. The error names
    /// the chip and lists the chips that exist.
    public static func open(_ which: String) throws(HALError) -> LibgpiodChip {
        var err: Int32 = 0
        guard let c = tipring_gpio_open(which, &err) else {
            throw HALError.deviceNotFound(device: "GPIO chip '\(which)'", reason: String(cString: strerror(err)), available: availableChips())
        }
        return LibgpiodChip(chip: c)
    }

    /// The `/dev/gpiochip*` that exist.
    public static func availableChips(dev: String = "/dev") -> [String] {
        guard let d = opendir(dev) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n.hasPrefix("gpiochip") { out.append(dev + "/" + n) }
        }
        return out.sorted()
    }

    public func lineInfo(offset: UInt32) throws(HALError) -> GPIOLineInfo {
        try check(offset)
        var n = [CChar](repeating: 0, count: 64), c = [CChar](repeating: 0, count: 64)
        var used: Int32 = 0, output: Int32 = 0
        let rc = tipring_gpio_line_info(chip, offset, &n, 64, &c, 64, &used, &output)
        if rc < 0 { throw HALError.systemCall(call: "line info", subject: "\(name) line \(offset)", errno: -rc, message: String(cString: strerror(-rc))) }
        let ln = Self.string(n), cn = Self.string(c)
        return GPIOLineInfo(offset: offset, name: ln.isEmpty ? nil : ln, consumer: cn.isEmpty ? nil : cn,
                            direction: output != 0 ? .output : .input, isUsed: used != 0)
    }

    public func requestOutput(offset: UInt32, consumer: String, initial: GPIOLevel, drive: GPIODrive, bias: GPIOBias) throws(HALError) -> any GPIOOutputLine {
        try check(offset)
        var err: Int32 = 0
        guard let r = tipring_gpio_request_output(chip, offset, consumer, drive == .openDrain ? 1 : 0, Self.code(bias), initial.isHigh ? 1 : 0, &err) else {
            throw requestError(offset, err)
        }
        return Output(request: r, offset: offset, chip: name)
    }

    /// The shim's code for a pull.
    static func code(_ bias: GPIOBias) -> Int32 {
        switch bias {
        case .asIs: TIPRING_GPIO_BIAS_AS_IS
        case .disabled: TIPRING_GPIO_BIAS_DISABLED
        case .pullUp: TIPRING_GPIO_BIAS_PULL_UP
        case .pullDown: TIPRING_GPIO_BIAS_PULL_DOWN
        }
    }

    public func requestInput(offset: UInt32, consumer: String, bias: GPIOBias, onEdge: GPIOEdgeHandler?) throws(HALError) -> any GPIOInputLine {
        try check(offset)
        var err: Int32 = 0
        guard let r = tipring_gpio_request_input(chip, offset, consumer, 0, Self.code(bias), &err) else { throw requestError(offset, err) }
        let line = Input(request: r, offset: offset, chip: name)
        if let onEdge {
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

    func requestError(_ offset: UInt32, _ err: Int32) -> HALError {
        if err == EBUSY { return .lineBusy(chip: name, offset: offset, consumer: (try? lineInfo(offset: offset))?.consumer) }
        return .systemCall(call: "request line", subject: "\(name) line \(offset)", errno: err, message: String(cString: strerror(err)))
    }

    static func string(_ c: [CChar]) -> String { String(decoding: c.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

    final class Output: GPIOOutputLine, @unchecked Sendable {
        var request: OpaquePointer?
        let offset: UInt32
        let chip: String
        init(request: OpaquePointer, offset: UInt32, chip: String) {
            self.request = request
            self.offset = offset
            self.chip = chip
        }
        func set(_ level: GPIOLevel) throws(HALError) {
            guard let r = request else { throw HALError.released("\(chip) line \(offset)") }
            let rc = tipring_gpio_set(r, level.isHigh ? 1 : 0)
            if rc < 0 { throw HALError.systemCall(call: "set value", subject: "\(chip) line \(offset)", errno: -rc, message: String(cString: strerror(-rc))) }
        }
        func release() {
            if let r = request { tipring_gpio_release(r) }
            request = nil
        }
        deinit { release() }
    }

    final class Input: GPIOInputLine, @unchecked Sendable {
        var request: OpaquePointer?
        let offset: UInt32
        let chip: String
        var watcher: FDWatcher?
        /// Edges the kernel dropped, noticed and mended on the watcher's thread.
        let continuity = Continuity()
        final class Continuity: @unchecked Sendable {
            let lock = ConditionLock()
            var value = EdgeContinuity()
        }
        var lostEdges: Int { continuity.lock.withLock { continuity.value.lost } }
        static func monotonicNow() -> Int64 {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }
        init(request: OpaquePointer, offset: UInt32, chip: String) {
            self.request = request
            self.offset = offset
            self.chip = chip
        }
        func watch(_ onEdge: @escaping GPIOEdgeHandler) throws(HALError) {
            guard let r = request else { return }
            let offset = self.offset
            let continuity = self.continuity
            let w = FDWatcher(fd: tipring_gpio_event_fd(r), events: Int16(POLLIN)) {
                var rising: Int32 = 0
                var ns: UInt64 = 0, seqno: UInt64 = 0
                let n = tipring_gpio_read_event(r, &rising, &ns, &seqno)
                if n == 1 {
                    let e = GPIOEdgeEvent(offset: offset, edge: rising != 0 ? .rising : .falling, timestamp: Instant(nanoseconds: Int64(truncatingIfNeeded: ns)))
                    for edge in continuity.lock.withLock({ continuity.value.admit(e, sequence: seqno) }) { onEdge(edge) }
                    // Nothing more queued: the level must be where the edges left it.
                    var pfd = pollfd(fd: tipring_gpio_event_fd(r), events: Int16(POLLIN), revents: 0)
                    let level = tipring_gpio_get(r)
                    if poll(&pfd, 1, 0) == 0, level >= 0,
                       let mend = continuity.lock.withLock({ continuity.value.settled(at: GPIOLevel(level != 0), offset: offset, now: Instant(nanoseconds: Self.monotonicNow())) }) {
                        onEdge(mend)
                    }
                }
                if n < 0, -n != EAGAIN, -n != EINTR { return "reading an edge event: \(String(cString: strerror(-n)))" }
                return nil
            }
            watcher = w
            try w.start(subject: "\(chip) line \(offset)")
        }
        var failure: String? { watcher?.failure.map { "\(chip) line \(offset): \($0)" } }
        func read() throws(HALError) -> GPIOLevel {
            guard let r = request else { throw HALError.released("\(chip) line \(offset)") }
            let v = tipring_gpio_get(r)
            if v < 0 { throw HALError.systemCall(call: "get value", subject: "\(chip) line \(offset)", errno: -v, message: String(cString: strerror(-v))) }
            return GPIOLevel(v != 0)
        }
        func release() {
            watcher?.stop()
            watcher = nil
            if let r = request { tipring_gpio_release(r) }
            request = nil
        }
        deinit { release() }
    }
}
