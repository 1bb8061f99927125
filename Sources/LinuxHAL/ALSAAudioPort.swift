#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CTipRingALSA
public import LineHAL
import TipRingCore
import SystemCalls

/// One direction of PCM audio: what ``ALSAAudioPort`` reads from and writes to. alsa-lib's
/// PCM implements it; tests wrap it to inject errors such as an xrun.
public protocol PCMStream: AnyObject {
    /// Frames moved, or a negative errno.
    func read(_ buffer: UnsafeMutableBufferPointer<Int16>) -> Int
    func write(_ buffer: UnsafeBufferPointer<Int16>) -> Int
    /// Recovers from an xrun (-EPIPE) or suspend (-ESTRPIPE); 0 when streaming again.
    func recover(_ error: Int32) -> Int32
    /// Frames between what is written now and what the device plays now (`snd_pcm_delay`),
    /// or a negative errno.
    func delay() -> Int
    /// Stops the stream at once (`snd_pcm_drop`): the device's clock stops with it.
    func halt()
    /// Readies a halted stream to run again (`snd_pcm_prepare`); 0 or a negative errno.
    func prepare() -> Int32
    func close()
}

extension PCMStream {
    public func delay() -> Int { -Int(ENOTSUP) }
    public func halt() {}
    public func prepare() -> Int32 { 0 }
}

/// What a PCM was opened with, as the device granted it (frames).
public struct PCMGeometry: Sendable, Hashable {
    public var periodFrames: Int
    public var bufferFrames: Int
    public var startThreshold: Int

    public init(periodFrames: Int, bufferFrames: Int, startThreshold: Int) {
        self.periodFrames = periodFrames
        self.bufferFrames = bufferFrames
        self.startThreshold = startThreshold
    }
}

/// An alsa-lib PCM (S16_LE mono at the port's rate).
public final class ALSAPCM: PCMStream, @unchecked Sendable {
    var pcm: UnsafeMutableRawPointer?
    public let name: String

    /// Opens a PCM by name; `config` replaces the system's ALSA configuration (tests). The
    /// error names the device and lists the PCMs that exist.
    public init(name: String, capture: Bool, format: AudioFormat, config: String? = nil) throws(HALError) {
        self.name = name
        var err: Int32 = 0
        let p: UnsafeMutableRawPointer?
        if let config {
            p = config.withCString { tipring_pcm_open(name, capture ? 1 : 0, UInt32(format.sampleRate), UInt32(format.framesPerPeriod), $0, &err) }
        } else {
            p = tipring_pcm_open(name, capture ? 1 : 0, UInt32(format.sampleRate), UInt32(format.framesPerPeriod), nil, &err)
        }
        guard let p else {
            throw HALError.deviceNotFound(device: "ALSA \(capture ? "capture" : "playback") device '\(name)'",
                                          reason: String(cString: tipring_pcm_error(err)), available: Self.names())
        }
        pcm = p
    }

    /// The PCM names the system's ALSA configuration knows.
    public static func names() -> [String] {
        var buf = [CChar](repeating: 0, count: 8192)
        tipring_pcm_names(nil, &buf, buf.count)
        let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "\n").map(String.init)
    }

    public func read(_ buffer: UnsafeMutableBufferPointer<Int16>) -> Int {
        guard let pcm else { return -Int(EBADF) }
        return tipring_pcm_read(pcm, buffer.baseAddress, UInt(buffer.count))
    }

    public func write(_ buffer: UnsafeBufferPointer<Int16>) -> Int {
        guard let pcm else { return -Int(EBADF) }
        return tipring_pcm_write(pcm, buffer.baseAddress, UInt(buffer.count))
    }

    public func recover(_ error: Int32) -> Int32 {
        guard let pcm else { return -EBADF }
        return tipring_pcm_recover(pcm, error)
    }

    public func delay() -> Int {
        guard let pcm else { return -Int(EBADF) }
        return tipring_pcm_delay(pcm)
    }
    public func halt() {
        if let pcm { _ = tipring_pcm_drop(pcm) }
    }
    public func prepare() -> Int32 {
        guard let pcm else { return -EBADF }
        return tipring_pcm_prepare(pcm)
    }

    /// The period, buffer and start threshold the device granted (nil once closed).
    public var geometry: PCMGeometry? {
        guard let pcm else { return nil }
        var period: UInt = 0, buffer: UInt = 0, start: UInt = 0
        guard tipring_pcm_geometry(pcm, &period, &buffer, &start) == 0 else { return nil }
        return PCMGeometry(periodFrames: Int(period), bufferFrames: Int(buffer), startThreshold: Int(start))
    }

    public func close() {
        if let pcm { tipring_pcm_close(pcm) }
        pcm = nil
    }

    deinit { close() }
}

/// A port's audio over ALSA: a dedicated thread reads a capture period, runs the handler,
/// writes the playback period; xruns and suspends are recovered (`snd_pcm_recover`) and
/// counted; buffers are allocated once. The device's clock paces the loop.
public final class ALSAAudioPort: AudioPort, @unchecked Sendable {
    public let name: String
    public let format: AudioFormat
    let capture: any PCMStream
    let playback: any PCMStream
    let lock = ConditionLock()
    var running = false
    var thread: SystemThread?
    var handler: (any AudioPeriodHandler)?
    let captureBuffer: UnsafeMutableBufferPointer<Int16>
    let playbackBuffer: UnsafeMutableBufferPointer<Int16>
    /// Periods of silence written before the first period: the playback delay the loop keeps.
    static let primedPeriods = 2
    /// The playback delay last told to the handler (frames).
    var reportedDelay = -1
    /// Periods run, xruns recovered, and the last error that could not be recovered.
    public private(set) var periods = 0
    public private(set) var xruns = 0
    public private(set) var lastError: String?

    public init(name: String, format: AudioFormat, capture: any PCMStream, playback: any PCMStream) {
        self.name = name
        self.format = format
        self.capture = capture
        self.playback = playback
        captureBuffer = .allocate(capacity: format.framesPerPeriod)
        playbackBuffer = .allocate(capacity: format.framesPerPeriod)
        captureBuffer.initialize(repeating: 0)
        playbackBuffer.initialize(repeating: 0)
    }

    /// Opens the board's playback and capture devices by name.
    public convenience init(name: String, device: String, captureDevice: String? = nil, format: AudioFormat, config: String? = nil) throws(HALError) {
        let play = try ALSAPCM(name: device, capture: false, format: format, config: config)
        let cap = try ALSAPCM(name: captureDevice ?? device, capture: true, format: format, config: config)
        self.init(name: name, format: format, capture: cap, playback: play)
    }

    deinit {
        stop()
        capture.close()
        playback.close()
        captureBuffer.deallocate()
        playbackBuffer.deallocate()
    }

    public func start(handler: any AudioPeriodHandler) throws(HALError) {
        let already = lock.withLock { () -> Bool in
            if running { return true }
            running = true
            self.handler = handler
            return false
        }
        if already { throw HALError.unsupported("\(name) is already started") }
        // Stopped before (the line went idle): both streams ready again, primed afresh.
        for (stream, call) in [(playback, "snd_pcm_prepare (playback)"), (capture, "snd_pcm_prepare (capture)")] {
            let err = stream.prepare()
            guard err >= 0 else {
                lock.withLock { running = false; self.handler = nil }
                throw HALError.systemCall(call: call, subject: name, errno: -err, message: String(cString: strerror(-err)))
            }
        }
        do {
            let t = try SystemThread.start { [self] in loop() }
            lock.withLock { thread = t }
        } catch {
            // No audio thread: say so, instead of a port that is "started" and silent.
            lock.withLock { running = false; self.handler = nil }
            throw HALError.systemCall(call: error.call, subject: name, errno: error.errno, message: String(cString: strerror(error.errno)))
        }
    }

    public func stop() {
        let t: SystemThread? = lock.withLock {
            running = false
            return thread
        }
        if let t, t.id != SystemThread.currentID { t.join() }
        lock.withLock { thread = nil }
        // The device stops too: no periods, no interrupts while nothing needs the audio.
        capture.halt()
        playback.halt()
    }

    var isRunning: Bool { lock.withLock { running } }
    /// Xruns recovered so far, read from another thread (the audio thread counts them).
    public var xrunsRecovered: Int { lock.withLock { xruns } }

    /// The device error that ended the period loop (nil while it runs or after a stop).
    public var failure: String? { lock.withLock { running || thread == nil ? nil : lastError } }

    func loop() {
        // Prime the playback buffer with silence so that capture and playback run together:
        // each period read is one played, so the delay stays at these periods.
        lock.withLock { reportedDelay = -1 }
        for _ in 0..<Self.primedPeriods { _ = playback.write(UnsafeBufferPointer(playbackBuffer)) }
        if let handler = lock.withLock({ self.handler }) { reportDelay(Self.primedPeriods * format.framesPerPeriod, to: handler) }
        while isRunning {
            var got = 0
            while got < captureBuffer.count && isRunning {
                let n = capture.read(UnsafeMutableBufferPointer(rebasing: captureBuffer[got...]))
                if n < 0 {
                    if !handle(Int32(n), capture) { return }
                    continue
                }
                got += n
            }
            guard let handler = lock.withLock({ self.handler }) else { return }
            handler.processPeriod(capture: UnsafeBufferPointer(captureBuffer), playback: playbackBuffer, at: .monotonicNow())
            var sent = 0
            while sent < playbackBuffer.count && isRunning {
                let n = playback.write(UnsafeBufferPointer(rebasing: playbackBuffer[sent...]))
                if n < 0 {
                    if !handle(Int32(n), playback) { return }
                    continue
                }
                sent += n
            }
            let queued = playback.delay()
            if queued >= 0 { reportDelay(queued, to: handler) }
            lock.withLock { periods += 1 }
        }
    }

    /// Tells the handler the playback delay when it moved by half a period or more (the
    /// device's pointer moves in steps; each small wobble is not news).
    func reportDelay(_ frames: Int, to handler: any AudioPeriodHandler) {
        guard reportedDelay < 0 || abs(frames - reportedDelay) >= format.framesPerPeriod / 2 else { return }
        lock.withLock { reportedDelay = frames }
        handler.playbackDelayChanged(.nanoseconds(Int64(frames) * 1_000_000_000 / Int64(format.sampleRate)))
    }

    /// The playback delay last reported (frames; -1 before the loop starts).
    public var playbackDelayFrames: Int { lock.withLock { reportedDelay } }

    /// An error from the device: recover xruns and suspends, give up on the rest.
    func handle(_ err: Int32, _ stream: any PCMStream) -> Bool {
        if err == -EAGAIN || err == -EINTR { return true }
        if err == -EPIPE || err == -ESTRPIPE {
            lock.withLock { xruns += 1 }
            if stream.recover(err) == 0 { return true }
        }
        lock.withLock {
            lastError = "\(name): \(String(cString: tipring_pcm_error(err)))"
            running = false
        }
        return false
    }
}
