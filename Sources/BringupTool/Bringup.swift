#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import TipRingCore
import SystemCalls
public import TelephonyDSP
public import LineHAL
import PortAudio
import LinuxHAL
import PortStack
import BoardSimulator

/// `tipring bringup`: what an engineer runs on a new board. On real hardware the board
/// file's GPIO chips and ALSA devices are opened; on the simulated board (`boards/sim.json5`)
/// the same checks run in virtual time and the simulated telephone does what the engineer
/// would (lift, dial, hang up) — so every check is exercised where there is no hardware.
public final class BringupTool {
    public let board: BoardDescription
    let print: (String) -> Void
    let simulated: SimulatedBoard?
    let virtual: VirtualScheduler?
    let scheduler: any Scheduler
    /// The board's chips and sound devices, real or simulated.
    let backend: any BoardBackend

    /// The board file's `gpioChip` "sim0" (and audio "sim") mean the simulated board.
    public init(board: BoardDescription, print: @escaping (String) -> Void) throws(SystemError) {
        self.board = board
        self.print = print
        if board.ports.allSatisfy({ $0.gpioChip.hasPrefix("sim") }) {
            let v = VirtualScheduler(seed: 1)
            virtual = v
            scheduler = v
            let s = SimulatedBoard(board: board, scheduler: v)
            simulated = s
            backend = s
        } else {
            virtual = nil
            simulated = nil
            backend = LinuxBoardBackend()
            let w = WallClockScheduler()
            try w.start()
            scheduler = w
        }
    }

    deinit { (scheduler as? WallClockScheduler)?.shutdown() }

    var isSimulated: Bool { simulated != nil }

    /// Lets time pass (virtual time on the simulated board).
    func wait(_ d: Duration) {
        if let v = virtual { v.run(until: v.now + d) } else {
            var ts = timespec(tv_sec: Int(d.nanoseconds / 1_000_000_000), tv_nsec: Int(d.nanoseconds % 1_000_000_000))
            nanosleep(&ts, nil)
        }
    }

    func port(_ id: Int) throws(HALError) -> PortDescription {
        guard let p = board.port(id) else {
            throw HALError.unsupported("board \(board.name) has no port \(id) (ports: \(board.ports.map { String($0.id) }.joined(separator: ", ")))")
        }
        return p
    }

    func chip(_ name: String) throws(HALError) -> any GPIOChip { try backend.chip(named: name) }

    /// The port's line: its SLIC driver, hook decoder and ringer.
    func line(_ id: Int) throws(HALError) -> PortLine {
        let l = PortLine(driver: try backend.lineDriver(for: try port(id), driver: board.driver, scheduler: scheduler),
                         profile: board.timingProfile, scheduler: scheduler)
        try l.start()
        l.setFeed(.forward)
        return l
    }

    /// The port's audio engine, running.
    func audio(_ id: Int) throws(HALError) -> (AudioEngine, any AudioPort) {
        let engine = AudioEngine()
        let device = try backend.audioPort(for: try port(id))
        try device.start(handler: engine)
        return (engine, device)
    }

    func phone(_ id: Int) -> SimulatedTelephone? { simulated?.telephone(id) }

    func result(_ pass: Bool, _ what: String) -> Bool {
        print((pass ? "PASS  " : "FAIL  ") + what)
        return pass
    }

    // MARK: discover

    /// What the machine has: kernel, CPU, GPIO chips (with line names and consumers), sysfs
    /// GPIO, ALSA cards and PCMs, SPI devices.
    public static func discover(print: (String) -> Void) {
        var u = utsname()
        uname(&u)
        func field<T>(_ t: T) -> String { withUnsafeBytes(of: t) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
        print("kernel: \(field(u.sysname)) \(field(u.release)) (\(field(u.version)))")
        print("cpu: \(field(u.machine))")
        print("libgpiod: \(LibgpiodChip.api)")
        let chips = LibgpiodChip.availableChips()
        print("gpio chips (\(chips.count)):" + (chips.isEmpty ? " none (no kernel GPIO, or no permission on /dev/gpiochip*)" : ""))
        for path in chips {
            guard let c = try? LibgpiodChip.open(path) else {
                print("  \(path): cannot open")
                continue
            }
            print("  \(path): \(c.name) \"\(c.label)\", \(c.lineCount) lines")
            for o in 0..<UInt32(c.lineCount) {
                guard let info = try? c.lineInfo(offset: o), info.name != nil || info.isUsed else { continue }
                print("    line \(o): \(info.name ?? "unnamed")" + (info.isUsed ? ", used by \(info.consumer ?? "?") (\(info.direction == .output ? "output" : "input"))" : ""))
            }
        }
        let sysfs = SysfsGPIOChip.chips()
        print("sysfs gpio: " + (sysfs.isEmpty ? "none" : sysfs.joined(separator: ", ")))
        let cards = (try? FileIO.readAll(path: "/proc/asound/cards", limit: 65536)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        print("alsa cards: " + (cards.isEmpty || cards.contains("no soundcards") ? "none" : ""))
        for l in cards.split(separator: "\n") where !cards.contains("no soundcards") { print("  " + l) }
        print("alsa pcms: " + ALSAPCM.names().joined(separator: ", "))
        var spi: [String] = []
        if let d = opendir("/dev") {
            while let e = readdir(d) {
                let n = field(e.pointee.d_name)
                if n.hasPrefix("spidev") { spi.append("/dev/" + n) }
            }
            closedir(d)
        }
        print("spi devices: " + (spi.isEmpty ? "none" : spi.sorted().joined(separator: ", ")))
    }

    // MARK: probe

    /// Every configured signal line exists and is free; every audio device opens.
    public func probe() -> Bool {
        var rows: [[String]] = [["port", "what", "where", "result"]]
        var ok = true
        for p in board.ports {
            for (role, signal) in p.signals.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let place = "\(p.gpioChip) line \(signal.offset)"
                var outcome = "ok"
                do {
                    let c = try chip(p.gpioChip)
                    let info = try c.lineInfo(offset: signal.offset)
                    if info.isUsed && info.consumer != gpioConsumer { outcome = "busy (used by \(info.consumer ?? "?"))" }
                } catch {
                    outcome = "\(error)"
                }
                if outcome != "ok" { ok = false }
                rows.append(["\(p.id)", "\(role.rawValue)", place, outcome])
            }
            var audio = "ok"
            do {
                _ = try backend.audioPort(for: p)
            } catch {
                audio = "\(error)"
                ok = false
            }
            rows.append(["\(p.id)", "audio", p.audio.device, audio])
        }
        print(TextTable.render(rows).split(separator: "\n").joined(separator: "\n"))
        return result(ok, "probe of board \(board.name)")
    }

    // MARK: ring

    public func ring(port id: Int, region: Region, seconds: Double) throws(HALError) -> Bool {
        guard let ringing = RegionalRinging.forRegion(region) else { throw HALError.unsupported("no ring cadence for region \(region)") }
        let l = try line(id)
        defer { l.stop() }
        var tripped = false
        l.onRingTrip = { tripped = true }
        print("ringing port \(id): \(region) cadence \(ringing.cadence) at \(Int(ringing.frequency)) Hz for \(seconds) s")
        l.ring(cadence: ringing.cadence, frequency: ringing.frequency)
        wait(.milliseconds(Int64(seconds * 1000)))
        l.stopRinging()
        if let phone = phone(id) {
            let bursts = phone.bell.bursts
            for b in bursts { print("  bell rang \(Int(b.duration.milliseconds)) ms" + (b.frequency.map { " at \(Int($0.rounded())) Hz" } ?? "")) }
            let first = ringing.cadence.segments.first { $0.ring }?.duration.milliseconds ?? 0
            // Within the ±10 % GR-506 and ETSI allow (a SLIC's duty limit may shorten a burst).
            let good = !bursts.isEmpty && abs(bursts[0].duration.milliseconds - first) <= first / 10 && abs((bursts[0].frequency ?? 0) - ringing.frequency) < 2
            return result(good, "the bell rang with the cadence")
        }
        if tripped { print("  ring-trip: the handset was lifted") }
        return result(true, "ringing ran without a driver fault (listen for the bell)")
    }

    // MARK: hook

    public func hook(port id: Int, seconds: Double) throws(HALError) -> Bool {
        let l = try line(id)
        defer { l.stop() }
        var events: [HookEvent] = []
        let start = scheduler.now
        l.onHookEvent = { [print] e in
            events.append(e)
            let t = e.at - start
            print("  \(t.milliseconds / 1000) s  \(e)")
        }
        print("watching port \(id)'s hook switch for \(seconds) s (\(board.timingProfile.name) timing): lift, dial, flash, hang up")
        if let phone = phone(id) {
            // The engineer's hand, simulated: lift, dial 3 and 5, flash, hang up.
            phone.liftHandset(at: start + .milliseconds(300))
            let dialled = phone.dialPulses("35", at: start + .milliseconds(1500))
            _ = phone.flash(for: .milliseconds(400), at: dialled + .milliseconds(1200))
            phone.hangUp(at: dialled + .milliseconds(3000))
        }
        wait(.milliseconds(Int64(seconds * 1000)))
        let stats = l.hookStatistics
        print("break durations (ms): " + Self.histogram(stats.breakHistogram))
        print("make durations (ms): " + Self.histogram(stats.makeHistogram))
        print("bounces \(stats.bounces), ignored breaks \(stats.ignoredBreaks), aborted seizures \(stats.abortedSeizures), invalid pulse trains \(stats.invalidPulseTrains)")
        let seen = Set(events.map { "\($0.kind)".split(separator: "(").first.map(String.init) ?? "" })
        return result(events.contains { $0.kind == .offHook } && events.contains { $0.kind == .onHook },
                      "off-hook and on-hook seen (\(events.count) events: \(seen.sorted().joined(separator: ", ")))")
    }

    static func histogram(_ h: [Int: Int]) -> String {
        h.isEmpty ? "none" : h.keys.sorted().map { "\($0)×\(h[$0]!)" }.joined(separator: " ")
    }

    // MARK: tone

    public func tone(port id: Int, kind: ToneKind, region: Region, seconds: Double) throws(HALError) -> Bool {
        guard let plan = RegionTonePlan.forRegion(region), let t = plan.tones[kind] else { throw HALError.unsupported("no \(kind) tone for region \(region)") }
        let l = try line(id)
        defer { l.stop() }
        let (engine, device) = try audio(id)
        defer { device.stop() }
        print("playing \(region) \(kind) tone (\(t)) on port \(id) for \(seconds) s")
        phone(id)?.liftHandset()
        let from = scheduler.now
        engine.setSource(ToneSource(t, kind: kind))
        wait(.milliseconds(Int64(seconds * 1000)))
        engine.setSource(nil)
        if let phone = phone(id) {
            let heard = phone.earpiece.tone(from: from + .milliseconds(300), to: scheduler.now, plan: plan)
            print("  the earpiece heard: \(heard.map { "\($0) tone" } ?? "no tone")")
            return result(heard == kind, "\(kind) tone heard")
        }
        return result(true, "played (listen on the handset)")
    }

    // MARK: dtmf

    public func dtmf(port id: Int, seconds: Double) throws(HALError) -> Bool {
        let l = try line(id)
        defer { l.stop() }
        let (engine, device) = try audio(id)
        defer { device.stop() }
        var digits = ""
        engine.addConsumer(DTMFReceiver { [print] key, _ in
            digits.append(key)
            print("  digit \(key)")
        })
        print("press keys on port \(id)'s telephone (\(seconds) s)")
        if let phone = phone(id) {
            phone.liftHandset()
            _ = phone.press("159#", at: scheduler.now + .milliseconds(500))
        }
        wait(.milliseconds(Int64(seconds * 1000)))
        if phone(id) != nil { return result(digits == "159#", "digits received: \(digits.isEmpty ? "none" : digits)") }
        return result(!digits.isEmpty, "digits received: \(digits.isEmpty ? "none" : digits)")
    }

    // MARK: loopback

    /// Plays a 1 kHz burst and finds it in the capture: the round trip through the codec,
    /// the SLIC's hybrid and back (on the simulated board, a simulated hybrid echo).
    public func loopback(port id: Int) throws(HALError) -> Bool {
        let l = try line(id)
        defer { l.stop() }
        let (engine, device) = try audio(id)
        defer { device.stop() }
        if let phone = phone(id) {
            phone.liftHandset()
            // The simulated hybrid: what the earpiece gets comes back 6 dB down, 3 ms later.
            let ear = phone.earpiece
            phone.mouthpiece.generator = { frame, at in
                let delayed = ear.samples(from: at - .milliseconds(23), to: at - .milliseconds(3))
                for i in 0..<frame.count { frame[i] = i < delayed.count ? delayed[delayed.startIndex + i] / 2 : 0 }
            }
        }
        final class Probe: AudioCaptureConsumer, @unchecked Sendable {
            var onsetAt: Instant?
            func consume(_ frame: UnsafeBufferPointer<Int16>, at time: Instant) {
                guard onsetAt == nil else { return }
                for (i, s) in frame.enumerated() where abs(Int(s)) > 1500 {
                    onsetAt = time - .nanoseconds(Int64(frame.count - i) * 125_000)
                    return
                }
            }
        }
        let probe = Probe()
        engine.addConsumer(probe)
        wait(.milliseconds(200))
        var synth = ToneSynthesizer(try! Tone("1000/100", level: -6))
        var burst = [Int16](repeating: 0, count: 800)
        burst.withUnsafeMutableBufferPointer { synth.render(into: $0) }
        let sent = scheduler.now
        engine.setSource(SampleBufferSource(samples: burst))
        wait(.milliseconds(500))
        guard let onset = probe.onsetAt else { return result(false, "the burst did not come back (no echo path: is the handset off-hook?)") }
        let ms = Double((onset - sent).nanoseconds) / 1e6
        print("  round trip \(Int(ms.rounded())) ms (one audio period of \(device.format.periodMilliseconds) ms included)")
        return result(ms > 0 && ms < 200, "loopback latency measured")
    }

    // MARK: linetest

    /// Ring → off-hook → dial tone → digits → confirmation: the whole line.
    public func linetest(port id: Int, region: Region) throws(HALError) -> Bool {
        guard let plan = RegionTonePlan.forRegion(region) else { throw HALError.unsupported("no tone plan for region \(region)") }
        let l = try line(id)
        defer { l.stop() }
        let (engine, device) = try audio(id)
        defer { device.stop() }
        var offHook = false, digits = ""
        l.onHookEvent = { e in if e.kind == .offHook { offHook = true } }
        engine.addConsumer(DTMFReceiver { key, _ in digits.append(key) })
        print("1. ringing port \(id) — lift the handset")
        l.ring(cadence: plan.ringing.cadence, frequency: plan.ringing.frequency)
        if let phone = phone(id) { phone.liftHandset(at: scheduler.now + .seconds(3)) }
        var waited = 0
        while !offHook && waited < 300 { wait(.milliseconds(100)); waited += 1 }
        l.stopRinging()
        guard result(offHook, "off-hook answered the ring") else { return false }
        print("2. dial tone — dial 1 2 3")
        let toneFrom = scheduler.now
        engine.setSource(ToneSource(plan.tones[.dial]!, kind: .dial))
        if let phone = phone(id) { _ = phone.press("123", at: scheduler.now + .milliseconds(1500)) }
        waited = 0
        while digits.count < 3 && waited < 300 { wait(.milliseconds(100)); waited += 1 }
        engine.setSource(nil)
        if let phone = phone(id) {
            let heard = phone.earpiece.tone(from: toneFrom + .milliseconds(200), to: toneFrom + .milliseconds(1400), plan: plan)
            guard result(heard == .dial, "dial tone heard") else { return false }
        }
        guard result(digits == "123", "digits received: \(digits.isEmpty ? "none" : digits)") else { return false }
        print("3. confirmation tone")
        engine.setSource(ToneSource(plan.tones[.confirmation]!, kind: .confirmation))
        wait(.seconds(1))
        engine.setSource(nil)
        phone(id)?.hangUp()
        wait(.seconds(1))
        return result(true, "line test of port \(id)")
    }
}
