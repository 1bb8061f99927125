public import TipRingCore
public import TelephonyDSP
public import LineHAL
import PortAudio
import PortStack
import BoardSimulator

/// A scenario for the simulated board, one command per line (a line starting with `#`,
/// or a lone `#` word, starts a comment):
///
///     offhook 1                     lift port 1's handset
///     onhook 1                      hang it up
///     flash 1 [400ms]               press the hook switch (default 400 ms)
///     dial 1 5551234 pulse [pps=10] [ratio=0.6]   rotary dial
///     dial 1 123# keypad            keypad presses
///     ring 2 gb [6s]                ring port 2 with a region's cadence [for a time]
///     stopring 2                    stop ringing
///     feed 1 forward|reverse|power-down|on-hook-transmission
///     bounce 1 on|off               make the hook contact bounce
///     region gb                     the region of the tones below (default us)
///     play 1 dial                   play a tone of the region to port 1's earpiece
///     stop 1                        stop playing
///     listen 1 3s                   let 3 s pass and report the tone port 1's earpiece heard
///     wait 2s                       let time pass (ms or s)
///
/// Commands run one after another in virtual time; a `dial` lasts as long as the dialling.
public struct SimScript: Sendable {
    public enum Command: Sendable, Hashable {
        case offHook(port: Int)
        case onHook(port: Int)
        case flash(port: Int, duration: Duration)
        case dialPulse(port: Int, digits: String, pps: Double, ratio: Double)
        case dialKeypad(port: Int, keys: String)
        case ring(port: Int, region: Region, duration: Duration?)
        case stopRing(port: Int)
        case feed(port: Int, LineFeed)
        case bounce(port: Int, Bool)
        case region(Region)
        case play(port: Int, ToneKind)
        case stop(port: Int)
        case listen(port: Int, Duration)
        case wait(Duration)
    }

    public struct Line: Sendable, Hashable {
        public var number: Int
        public var command: Command
    }

    public var lines: [Line]

    /// Parses a script; errors name the file and line and say what was expected.
    public static func parse(_ text: String, file: String) throws(DocumentError) -> SimScript {
        var out: [Line] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = i + 1
            // A comment is a word that is "#" alone or starts with "# " — so keypad
            // strings such as "12#" stay digits.
            var words: [String] = []
            for w in raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init) {
                if w == "#" || (w.hasPrefix("#") && words.isEmpty) { break }
                words.append(w)
            }
            guard let verb = words.first else { continue }
            func fail(_ message: String) -> DocumentError {
                DocumentError(file: file, position: SourcePosition(line: number, column: 1), path: "", message: message)
            }
            func port(_ at: Int) throws(DocumentError) -> Int {
                guard words.count > at, let p = Int(words[at]), p >= 1 else {
                    throw fail("'\(verb)' needs a port number (e.g. '\(verb) 1')")
                }
                return p
            }
            func duration(_ w: String) throws(DocumentError) -> Duration {
                guard let d = parseDuration(w) else { throw fail("'\(w)' is not a duration (write e.g. 500ms or 2s)") }
                return d
            }
            let command: Command
            switch verb {
            case "offhook": command = .offHook(port: try port(1))
            case "onhook": command = .onHook(port: try port(1))
            case "flash":
                command = .flash(port: try port(1), duration: words.count > 2 ? try duration(words[2]) : .milliseconds(400))
            case "dial":
                let p = try port(1)
                guard words.count >= 4 else { throw fail("'dial' needs a port, digits and 'pulse' or 'keypad' (e.g. 'dial 1 5551234 pulse')") }
                let digits = words[2]
                switch words[3] {
                case "pulse":
                    guard digits.allSatisfy(\.isNumber) else { throw fail("a rotary dial has only the digits 0-9, not '\(digits)'") }
                    var pps = 10.0, ratio = 0.6
                    for opt in words.dropFirst(4) {
                        let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
                        guard kv.count == 2, let v = Double(kv[1]) else { throw fail("option '\(opt)' is not key=value") }
                        switch kv[0] {
                        case "pps" where (5...20).contains(v): pps = v
                        case "ratio" where (0.3...0.8).contains(v): ratio = v
                        case "pps", "ratio": throw fail("\(kv[0])=\(kv[1]) is out of range (pps 5–20, ratio 0.3–0.8)")
                        default: throw fail("unknown option '\(kv[0])' (use pps= or ratio=)")
                        }
                    }
                    command = .dialPulse(port: p, digits: digits, pps: pps, ratio: ratio)
                case "keypad":
                    guard digits.allSatisfy({ "0123456789*#ABCD".contains($0) }) else { throw fail("a keypad has 0-9, *, #, A-D, not '\(digits)'") }
                    command = .dialKeypad(port: p, keys: digits)
                default:
                    throw fail("dial mode '\(words[3])' is not 'pulse' or 'keypad'")
                }
            case "ring":
                let p = try port(1)
                guard words.count >= 3, let region = Region(words[2]) else { throw fail("'ring' needs a port and a region code (e.g. 'ring 2 gb')") }
                guard RegionalRinging.forRegion(region) != nil else {
                    throw fail("no ring cadence for region '\(region)' yet (known: \(RegionTonePlan.all.keys.sorted().joined(separator: ", ")))")
                }
                command = .ring(port: p, region: region, duration: words.count > 3 ? try duration(words[3]) : nil)
            case "stopring": command = .stopRing(port: try port(1))
            case "feed":
                let p = try port(1)
                guard words.count == 3, let f = LineFeed.allCases.first(where: { $0.description == words[2] }) else {
                    throw fail("'feed' needs a port and one of: \(LineFeed.allCases.map(\.description).joined(separator: ", "))")
                }
                command = .feed(port: p, f)
            case "bounce":
                let p = try port(1)
                guard words.count == 3, words[2] == "on" || words[2] == "off" else { throw fail("'bounce' needs a port and on or off") }
                command = .bounce(port: p, words[2] == "on")
            case "wait":
                guard words.count == 2 else { throw fail("'wait' needs a duration (e.g. 'wait 2s')") }
                command = .wait(try duration(words[1]))
            case "region":
                guard words.count == 2, let r = Region(words[1]), RegionTonePlan.forRegion(r) != nil else {
                    throw fail("'region' needs a region with a tone plan (e.g. 'region gb')")
                }
                command = .region(r)
            case "play":
                let p = try port(1)
                guard words.count == 3, let k = ToneKind(rawValue: words[2]) else {
                    throw fail("'play' needs a port and a tone: \(ToneKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                command = .play(port: p, k)
            case "stop": command = .stop(port: try port(1))
            case "listen":
                let p = try port(1)
                guard words.count == 3 else { throw fail("'listen' needs a port and a duration (e.g. 'listen 1 3s')") }
                command = .listen(port: p, try duration(words[2]))
            default:
                var m = "unknown command '\(verb)'"
                let verbs = ["offhook", "onhook", "flash", "dial", "ring", "stopring", "feed", "bounce", "region", "play", "stop", "listen", "wait"]
                if let near = DocumentValue.suggestion(for: verb, among: verbs) { m += " (did you mean '\(near)'?)" }
                throw fail(m)
            }
            out.append(Line(number: number, command: command))
        }
        return SimScript(lines: out)
    }

    /// `500ms`, `2s`, `1.5s`.
    static func parseDuration(_ w: String) -> Duration? {
        if w.hasSuffix("ms"), let v = Double(w.dropLast(2)), v >= 0 { return .nanoseconds(Int64(v * 1e6)) }
        if w.hasSuffix("s"), let v = Double(w.dropLast()), v >= 0 { return .nanoseconds(Int64(v * 1e9)) }
        return nil
    }
}

/// Runs a ``SimScript`` on a simulated board with the real line layer, in virtual time,
/// and returns the timeline: decoded hook events, keypad presses, rings as the bell heard
/// them.
public enum SimScriptRunner {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func run(_ script: SimScript, board: BoardDescription, seed: UInt64 = 1) throws(Failure) -> [String] {
        let scheduler = VirtualScheduler(seed: seed)
        let sim = SimulatedBoard(board: board, scheduler: scheduler)
        var timeline: [String] = []
        func log(_ port: Int?, _ text: String) {
            let t = scheduler.now.description
            let pad = String(repeating: " ", count: max(0, 9 - t.count))
            timeline.append("\(pad)\(t)  " + (port.map { "port \($0)  " } ?? "") + text)
        }
        var lines: [Int: PortLine] = [:]
        var engines: [Int: AudioEngine] = [:]
        var plan = RegionTonePlan.forRegion(.us)!
        for port in board.ports {
            // Ports are built as every product builds them (PortStack), on the simulated board.
            let running: PortStack.Line
            do {
                running = try PortStack.startLine(port, driver: board.driver, backend: sim, profile: board.timingProfile, scheduler: scheduler)
            } catch {
                throw Failure(description: error.description)
            }
            let line = running.line, engine = running.engine
            line.onHookEvent = { e in if e.kind != .loopClosed { log(port.id, e.description) } }
            line.onFault = { log(port.id, "fault: \($0)") }
            line.onRingTrip = { log(port.id, "ring-trip: ringing stopped") }
            line.setFeed(.forward)
            lines[port.id] = line
            let phone = sim.telephone(port.id)
            engine.addConsumer(DTMFReceiver { key, _ in log(port.id, "dtmf digit \(key)") })
            engines[port.id] = engine
            phone.bell.onBurstEnd = { b in
                let f = b.frequency.map { " at \(format($0)) Hz" } ?? ""
                log(port.id, "bell rang \(Int64(b.duration.milliseconds)) ms\(f)")
            }
        }
        log(nil, "board \(board.name): \(board.ports.count) port(s) powered, feed forward, profile \(board.timingProfile.name)")
        for entry in script.lines {
            func line(_ p: Int) throws(Failure) -> (PortLine, SimulatedTelephone) {
                guard let l = lines[p] else {
                    throw Failure(description: "line \(entry.number): board \(board.name) has no port \(p) (ports: \(board.ports.map { String($0.id) }.joined(separator: ", ")))")
                }
                return (l, sim.telephone(p))
            }
            switch entry.command {
            case .offHook(let p): try line(p).1.liftHandset()
            case .onHook(let p): try line(p).1.hangUp()
            case .flash(let p, let d): scheduler.run(until: try line(p).1.flash(for: d))
            case .dialPulse(let p, let digits, let pps, let ratio):
                let end = try line(p).1.dialPulses(digits, pulsesPerSecond: pps, breakRatio: ratio)
                scheduler.run(until: end)
            case .dialKeypad(let p, let keys):
                scheduler.run(until: try line(p).1.press(keys))
            case .ring(let p, let region, let duration):
                let (l, _) = try line(p)
                let r = RegionalRinging.forRegion(region)!
                log(p, "ringing (\(region): \(r.cadence))")
                l.ring(cadence: r.cadence, frequency: r.frequency)
                if let duration {
                    scheduler.schedule(after: duration) { if l.isRinging { l.stopRinging(); log(p, "ringing stopped") } }
                }
            case .stopRing(let p):
                let l = try line(p).0
                if l.isRinging { l.stopRinging(); log(p, "ringing stopped") }
            case .feed(let p, let f):
                try line(p).0.setFeed(f)
                log(p, "feed \(f)")
            case .bounce(let p, let on): try line(p).1.bounces = on
            case .region(let r):
                plan = RegionTonePlan.forRegion(r)!
                log(nil, "region \(r) (\(plan.name))")
            case .play(let p, let kind):
                _ = try line(p)
                engines[p]!.setSource(ToneSource(plan.tones[kind]!, kind: kind))
                log(p, "playing \(kind) tone (\(plan.region))")
            case .stop(let p):
                _ = try line(p)
                engines[p]!.setSource(nil)
            case .listen(let p, let d):
                let phone = try line(p).1
                let from = scheduler.now
                scheduler.run(until: from + d)
                let heard = phone.earpiece.tone(from: from, to: scheduler.now, plan: plan)
                log(p, "earpiece heard: \(heard.map { "\($0) tone" } ?? "no tone")")
            case .wait(let d): scheduler.run(until: scheduler.now + d)
            }
            scheduler.run(until: scheduler.now)
        }
        // Let pending decisions (digit ends, hang-up) settle.
        scheduler.run(until: scheduler.now + .seconds(2))
        for l in lines.values { l.stop() }
        for p in board.ports { sim.audioPort(p.id).stop() }
        return timeline
    }

    static func format(_ d: Double) -> String {
        let r = (d * 10).rounded() / 10
        return r == r.rounded() ? "\(Int(r)).0" : "\(r)"
    }
}
