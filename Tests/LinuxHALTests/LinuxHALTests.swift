#if canImport(Glibc)
import Glibc
#endif
import Testing
import TipRingCore
import LineHAL
import LinuxHAL
import TestSupport

/// A per-test folder.
final class TempDir {
    let path: String
    init(_ tag: String) {
        var template = Array("/tmp/tipring-\(tag)-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { _ = try? runRemove(path) }
    func runRemove(_ p: String) throws {
        if let d = opendir(p) {
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if n == "." || n == ".." { continue }
                let child = p + "/" + n
                var st = stat()
                if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { try runRemove(child) } else { unlink(child) }
            }
            closedir(d)
        }
        rmdir(p)
    }
}

func repositoryRoot() -> String {
    var path = #filePath
    while !path.isEmpty {
        path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if access(path + "/Package.swift", F_OK) == 0 { return path }
    }
    return "."
}

@Suite("libgpiod backend")
struct LibgpiodTests {
    @Test("built against the system's libgpiod (v1 on Debian 12)")
    func api() {
        #expect(LibgpiodChip.api.hasPrefix("v1 ") || LibgpiodChip.api.hasPrefix("v2 "))
    }

    @Test("opening a chip that does not exist: the documented ENOENT, naming the chip, by path, name and label", arguments: ["/dev/gpiochip99", "gpiochip99", "no-such-label"])
    func missingChip(which: String) {
        do {
            _ = try LibgpiodChip.open(which)
            Issue.record("\(which) opened")
        } catch {
            guard case .deviceNotFound(let device, let reason, let available) = error else { Issue.record("\(error)"); return }
            #expect(device == "GPIO chip '\(which)'")
            #expect(reason == String(cString: strerror(ENOENT)))
            #expect(available == LibgpiodChip.availableChips())
            #expect("\(error)".contains("cannot open GPIO chip '\(which)': No such file or directory"))
        }
    }
}

@Suite("sysfs GPIO backend (a fake /sys/class/gpio)")
struct SysfsGPIOTests {
    func fakeTree() throws -> TempDir {
        let d = TempDir("sysfs")
        mkdir(d.file("gpiochip32"), 0o755)
        try FileIO.writeAll(path: d.file("gpiochip32/base"), bytes: Array("32\n".utf8))
        try FileIO.writeAll(path: d.file("gpiochip32/ngpio"), bytes: Array("16\n".utf8))
        try FileIO.writeAll(path: d.file("gpiochip32/label"), bytes: Array("fake-slic\n".utf8))
        try FileIO.writeAll(path: d.file("export"), bytes: [])
        // What the kernel creates on export: the test makes the lines it uses beforehand.
        for n in [33, 34, 35] {
            mkdir(d.file("gpio\(n)"), 0o755)
            for f in ["direction", "value", "edge"] { try FileIO.writeAll(path: d.file("gpio\(n)/\(f)"), bytes: Array("0\n".utf8)) }
        }
        return d
    }

    func text(_ p: String) -> String { String(String(decoding: (try? FileIO.readAll(path: p)) ?? [], as: UTF8.self).filter { !$0.isWhitespace }) }

    @Test("chip facts, output direction and values, input with edges, errors that name the line")
    func tree() throws {
        let d = try fakeTree()
        let chip = try SysfsGPIOChip(chip: "gpiochip32", root: d.path)
        #expect(chip.base == 32 && chip.lineCount == 16 && chip.label == "fake-slic")
        #expect(SysfsGPIOChip.chips(root: d.path) == ["gpiochip32"])
        let out = try chip.requestOutput(offset: 1, consumer: "tipring", initial: .high)
        #expect(text(d.file("gpio33/direction")) == "high")
        try out.set(.low)
        #expect(text(d.file("gpio33/value")) == "0")
        try out.set(.high)
        #expect(text(d.file("gpio33/value")) == "1")
        #expect(try chip.lineInfo(offset: 1).isUsed)
        // Open drain (the Ag1171's PD): "high" releases the pin, "low" drives 0; never "high".
        let od = try chip.requestOutput(offset: 3, consumer: "tipring", initial: .high, drive: .openDrain)
        #expect(text(d.file("gpio35/direction")) == "in")
        try od.set(.low)
        #expect(text(d.file("gpio35/direction")) == "low")
        try od.set(.high)
        #expect(text(d.file("gpio35/direction")) == "in")

        final class Edges: @unchecked Sendable { var list: [GPIOEdgeEvent.Edge] = [] }
        let edges = Edges()
        let input = try chip.requestInput(offset: 2, consumer: "tipring", onEdge: nil)
        #expect(text(d.file("gpio34/direction")) == "in")
        let sysfsInput = try #require(input as? SysfsGPIOChip.Input)
        #expect(try input.read() == .low)
        try FileIO.writeAll(path: d.file("gpio34/value"), bytes: Array("1\n".utf8))
        #expect(try input.read() == .high)
        // Edges: the value file changes and the poll reports each change once (the test drives
        // poll() itself: a fake tree has no POLLPRI to wake a watcher).
        sysfsInput.handlerForTests = { e in edges.list.append(e.edge) }
        sysfsInput.poll()
        try FileIO.writeAll(path: d.file("gpio34/value"), bytes: Array("0\n".utf8))
        sysfsInput.poll()
        sysfsInput.poll()
        #expect(edges.list == [.rising, .falling])
        input.release()
        let watched = try chip.requestInput(offset: 2, consumer: "tipring") { _ in }
        #expect(text(d.file("gpio34/edge")) == "both")
        watched.release()

        #expect(throws: HALError.noSuchLine(chip: "gpiochip32", offset: 16, lineCount: 16)) { try chip.requestOutput(offset: 16, consumer: "x", initial: .low) }
        do {
            _ = try SysfsGPIOChip(chip: "gpiochip99", root: d.path)
            Issue.record("opened")
        } catch {
            #expect("\(error)".contains("gpiochip99") && "\(error)".contains("gpiochip32"))
        }
    }

    @Test("the Linux backend: a chip named 'sysfs:gpiochipN' goes through sysfs; a character-device chip that is missing where sysfs has one says how to name it; a pull sysfs cannot set is refused by name")
    func backendWiresSysfs() throws {
        let d = try fakeTree()
        let backend = LinuxBoardBackend(sysfsRoot: d.path)
        let chip = try backend.chip(named: "sysfs:gpiochip32")
        #expect(chip is SysfsGPIOChip)
        #expect(try backend.chip(named: "sysfs:gpiochip32") === chip)  // opened once, shared by the ports
        let out = try chip.requestOutput(offset: 1, consumer: "tipring", initial: .low)
        #expect(text(d.file("gpio33/direction")) == "low")
        out.release()
        do {
            _ = try backend.chip(named: "gpiochip32")
            Issue.record("a missing /dev/gpiochip32 opened")
        } catch {
            #expect("\(error)".contains("sysfs GPIO has gpiochip32 — for it write gpioChip: \"sysfs:gpiochip32\""), "\(error)")
        }
        #expect(throws: HALError.unsupported("gpiochip32 line 2: sysfs GPIO cannot set bias 'pull-up' (set the pull in the device tree, fit a resistor, or use the character device with libgpiod)")) {
            try chip.requestInput(offset: 2, consumer: "tipring", bias: .pullUp, onEdge: nil)
        }
    }

    @Test("edges from the value file, reported once per change with the level")
    func edges() throws {
        let d = try fakeTree()
        let chip = try SysfsGPIOChip(chip: "gpiochip32", root: d.path)
        final class Edges: @unchecked Sendable { var list: [GPIOEdgeEvent.Edge] = [] }
        let edges = Edges()
        let line = try #require(try chip.requestInput(offset: 1, consumer: "tipring", onEdge: nil) as? SysfsGPIOChip.Input)
        line.handlerForTests = { e in edges.list.append(e.edge) }
        for v in ["1", "1", "0", "1", "0", "0"] {
            try FileIO.writeAll(path: d.file("gpio33/value"), bytes: Array((v + "\n").utf8))
            line.poll()
        }
        #expect(edges.list == [.rising, .falling, .rising, .falling])
        line.release()
        #expect(throws: HALError.released("gpiochip32 line 1")) { try line.read() }
    }
}

@Suite("ALSA backend through alsa-lib's file/null plugins", .serialized)
struct ALSATests {
    func config(_ dir: TempDir) throws -> String {
        let text = String(decoding: try FileIO.readAll(path: repositoryRoot() + "/Tests/Fixtures/alsa/asound.conf.in"), as: UTF8.self)
        return text.replacingAll("@DIR@", with: dir.path)
    }

    final class Loopback: AudioPeriodHandler, @unchecked Sendable {
        let lock = ConditionLock()
        var captured: [Int16] = []
        var count = 0
        var delays: [Duration] = []
        func playbackDelayChanged(_ delay: Duration) { lock.withLock { delays.append(delay) } }
        func processPeriod(capture: UnsafeBufferPointer<Int16>, playback: UnsafeMutableBufferPointer<Int16>, at time: Instant) {
            lock.withLock {
                captured += capture
                count += 1
                lock.broadcast()
            }
            for i in 0..<playback.count { playback[i] = capture[i] }
        }
        var periods: Int { lock.withLock { count } }

        /// Waits until the audio thread has run `n` periods (it is not paced by the null device,
        /// so this is a wait for work, bounded by `seconds`).
        func wait(forPeriods n: Int, seconds: Int64 = 10) -> Bool {
            let deadline = Instant.monotonicNow() + .seconds(seconds)
            return lock.withLock {
                while count < n && Instant.monotonicNow() < deadline { lock.wait(until: deadline) }
                return count >= n
            }
        }
    }

    func ramp(_ n: Int) -> [Int16] { (0..<n).map { Int16(truncatingIfNeeded: ($0 * 37) % 20000 - 10000) } }

    func run(periodMs: Int, periods: Int, inject: ((any PCMStream) -> any PCMStream)? = nil) throws -> (captured: [Int16], played: [Int16], port: ALSAAudioPort) {
        let d = TempDir("alsa")
        let input = ramp(8000 * 4)
        try FileIO.writeAll(path: d.file("in.raw"), bytes: input.withUnsafeBytes { Array($0) })
        let cfg = try config(d)
        let format = AudioFormat(sampleRate: 8000, periodMilliseconds: periodMs)
        var capture: any PCMStream = try ALSAPCM(name: "tipring_in", capture: true, format: format, config: cfg)
        if let inject { capture = inject(capture) }
        let playback = try ALSAPCM(name: "tipring_out", capture: false, format: format, config: cfg)
        let port = ALSAAudioPort(name: "port 1", format: format, capture: capture, playback: playback)
        let h = Loopback()
        try port.start(handler: h)
        #expect(h.wait(forPeriods: periods))
        port.stop()
        playback.close()
        capture.close()
        let out = try FileIO.readAll(path: d.file("out.raw"))
        let played = out.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        return (h.lock.withLock { h.captured }, played, port)
    }

    @Test("sample-exact capture and playback, 20 ms and 10 ms periods", arguments: [20, 10])
    func sampleExact(periodMs: Int) throws {
        let r = try run(periodMs: periodMs, periods: 100)
        let expected = ramp(8000 * 4)
        #expect(r.captured.count >= 100 * 8 * periodMs)
        #expect(Array(r.captured.prefix(8 * periodMs * 100)) == Array(expected.prefix(8 * periodMs * 100)))
        // Playback: two periods of priming silence, then the loopback of what was captured.
        let prime = 2 * 8 * periodMs
        #expect(r.played.prefix(prime).allSatisfy { $0 == 0 })
        let loop = Array(r.played.dropFirst(prime).prefix(8 * periodMs * 90))
        #expect(loop == Array(expected.prefix(loop.count)))
        #expect(r.port.xruns == 0 && r.port.lastError == nil)
    }

    @Test("the PCM as opened: the port's period exactly, three periods of buffer, playback started once two are queued, capture by the first read; the playback delay told to the handler")
    func explicitParameters() throws {
        let d = TempDir("alsageom")
        try FileIO.writeAll(path: d.file("in.raw"), bytes: ramp(8000 * 4).withUnsafeBytes { Array($0) })
        let cfg = try config(d)
        for periodMs in [20, 10] {
            let format = AudioFormat(sampleRate: 8000, periodMilliseconds: periodMs)
            let playback = try ALSAPCM(name: "tipring_out", capture: false, format: format, config: cfg)
            let capture = try ALSAPCM(name: "tipring_in", capture: true, format: format, config: cfg)
            let frames = 8 * periodMs
            #expect(playback.geometry == PCMGeometry(periodFrames: frames, bufferFrames: 3 * frames, startThreshold: 2 * frames))
            #expect(capture.geometry == PCMGeometry(periodFrames: frames, bufferFrames: 3 * frames, startThreshold: 1))
            let port = ALSAAudioPort(name: "port 1", format: format, capture: capture, playback: playback)
            let h = Loopback()
            try port.start(handler: h)
            #expect(h.wait(forPeriods: 20))
            port.stop()
            // First the two primed periods; then whatever snd_pcm_delay says, within the buffer.
            let delays = h.lock.withLock { h.delays }
            #expect(delays.first == .milliseconds(2 * periodMs))
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(3 * periodMs) }, "\(delays)")
            playback.close()
            capture.close()
        }
    }

    final class Injector: PCMStream {
        let inner: any PCMStream
        var reads = 0
        var recovered: [Int32] = []
        init(_ inner: any PCMStream) { self.inner = inner }
        func read(_ buffer: UnsafeMutableBufferPointer<Int16>) -> Int {
            reads += 1
            if reads == 5 { return -Int(EPIPE) }  // an overrun
            return inner.read(buffer)
        }
        func write(_ buffer: UnsafeBufferPointer<Int16>) -> Int { inner.write(buffer) }
        func recover(_ error: Int32) -> Int32 {
            recovered.append(error)
            return inner.recover(error)
        }
        func close() { inner.close() }
    }

    @Test("an xrun (-EPIPE) is recovered with snd_pcm_recover and the stream goes on")
    func xrunRecovery() throws {
        var injector: Injector?
        let r = try run(periodMs: 20, periods: 50) { inner in
            let i = Injector(inner)
            injector = i
            return i
        }
        #expect(r.port.xruns == 1)
        #expect(injector?.recovered == [-EPIPE])
        #expect(r.port.lastError == nil)
        #expect(r.captured.count >= 50 * 160)
    }

    @Test("a device whose writes fail (alsa-lib's file plugin on /dev/full): the period loop stops and says why, no xrun counted; a new port on a good device runs")
    func failingDevice() throws {
        let d = TempDir("alsafull")
        try FileIO.writeAll(path: d.file("in.raw"), bytes: ramp(8000 * 4).withUnsafeBytes { Array($0) })
        let cfg = try config(d)
        let format = AudioFormat.narrowband20ms
        let port = ALSAAudioPort(name: "port 1", format: format, capture: try ALSAPCM(name: "tipring_in", capture: true, format: format, config: cfg),
                                 playback: try ALSAPCM(name: "tipring_full", capture: false, format: format, config: cfg))
        let h = Loopback()
        try port.start(handler: h)
        #expect(port.failure == nil || port.failure!.contains("Input/output error"))
        // The loop is not paced by the null device: the failure comes within a few periods.
        let deadline = Instant.monotonicNow() + .seconds(10)
        h.lock.withLock {
            while port.failure == nil && Instant.monotonicNow() < deadline { h.lock.wait(until: Instant.monotonicNow() + .milliseconds(10)) }
        }
        let failure = try #require(port.failure)
        #expect(failure.hasPrefix("port 1: ") && failure.contains("Input/output error"), "\(failure)")
        #expect(port.xruns == 0)
        let stoppedAt = h.periods
        #expect(!h.wait(forPeriods: stoppedAt + 1, seconds: 1))
        port.stop()
        #expect(port.failure == nil)  // stopped: no longer a running port's fault
        // What the daemon does next: the device opened again (here a good one) runs.
        let again = ALSAAudioPort(name: "port 1", format: format, capture: try ALSAPCM(name: "tipring_in", capture: true, format: format, config: cfg),
                                  playback: try ALSAPCM(name: "tipring_out", capture: false, format: format, config: cfg))
        let h2 = Loopback()
        try again.start(handler: h2)
        #expect(h2.wait(forPeriods: 20))
        again.stop()
    }

    @Test("a missing device: the error names it and lists the PCMs that exist")
    func missingDevice() {
        do {
            _ = try ALSAPCM(name: "no_such_pcm", capture: false, format: .narrowband20ms)
            Issue.record("opened")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cannot open ALSA playback device 'no_such_pcm'"))
            #expect(text.contains("available:"))
            #expect(text.contains("null") || text.contains("default"))
        }
    }

    @Test("a device that insists on 16 kHz: the plug layer resamples (twice the samples)")
    func resampled() throws {
        let d = TempDir("alsa16")
        let cfg = try config(d)
        let format = AudioFormat.narrowband20ms
        let pcm = try ALSAPCM(name: "tipring_out16k", capture: false, format: format, config: cfg)
        var tone = [Int16](repeating: 1000, count: 160)
        for _ in 0..<50 { _ = tone.withUnsafeMutableBufferPointer { pcm.write(UnsafeBufferPointer($0)) } }
        pcm.close()
        let bytes = try FileIO.readAll(path: d.file("out16k.raw"))
        #expect(abs(bytes.count / 2 - 16000) <= 64)
    }
}

extension String {
    func replacingAll(_ a: String, with b: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
