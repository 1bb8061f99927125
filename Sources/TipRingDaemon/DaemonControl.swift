#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import PortControl
import BoardSimulator

/// What the control socket asks of the daemon: commands (`tipring status`, `tipring sim …`)
/// and the status as JSON.
extension Daemon {
    func command(_ line: String) -> [String] {
        let words = line.split(separator: " ").map(String.init)
        guard let verb = words.first else { return ["error: empty command"] }
        func port(_ i: Int) -> Port? { words.count > i ? Int(words[i]).flatMap { ports[$0] } : nil }
        switch verb {
        case "status":
            return [clock.sync { self.statusSnapshot().json.rendered }]
        case "calls":
            // The last N calls (50 unless asked), newest last, as one JSON array.
            let count = words.count > 1 ? ASCIIDecimal.exact(words[1], in: 1...CallHistory.linesPerFile * 2) ?? 50 : 50
            return ["[" + clock.sync { self.callHistory.recent(count) }.joined(separator: ", ") + "]"]
        case "offhook", "onhook", "flash":
            guard let p = port(1), let phone = p.phone else { return ["error: no simulated port \(words.dropFirst().first ?? "?") (sim commands need the simulated board)"] }
            clock.sync {
                switch verb {
                case "offhook": phone.liftHandset()
                case "onhook": phone.hangUp()
                default: _ = phone.flash(for: .milliseconds(400))
                }
            }
            return ["ok"]
        case "dial":
            guard let p = port(1), let phone = p.phone, words.count >= 3 else { return ["error: dial PORT DIGITS [pulse]"] }
            let digits = words[2]
            let pulse = words.count > 3 && words[3] == "pulse"
            if pulse && !digits.allSatisfy(\.isNumber) { return ["error: a rotary dial has only 0-9"] }
            if !digits.allSatisfy({ "0123456789*#ABCD".contains($0) }) { return ["error: '\(digits)' has keys a telephone does not have"] }
            clock.sync { _ = pulse ? phone.dialPulses(digits) : phone.press(digits) }
            return ["ok"]
        case "say":
            guard let p = port(1), let phone = p.phone, words.count >= 3, let hz = Double(words[2]), hz >= 0, hz <= 3800 else { return ["error: say PORT HZ (0 = silence)"] }
            clock.sync {
                if hz == 0 { phone.mouthpiece.generator = nil } else { phone.mouthpiece.play(try! Tone("\(Int(hz))", level: -10)) }
            }
            return ["ok"]
        case "listen":
            guard let p = port(1), let phone = p.phone else { return ["error: listen PORT [SECONDS [HZ,HZ…]]"] }
            let seconds = words.count > 2 ? (Double(words[2]) ?? 2) : 2
            let frequencies = words.count > 3 ? words[3].split(separator: ",").compactMap { Double($0) }.filter { $0 > 0 && $0 < 4000 } : []
            guard frequencies.count <= 8 else { return ["error: at most 8 frequencies"] }
            guard seconds > 0, seconds <= Double(Daemon.longestListen) else { return ["error: listen for more than 0 and at most \(Daemon.longestListen) seconds"] }
            let plan = portSettings(p.id).0  // the region's, with the port's caller-ID standard
            let from = clock.sync {
                p.listeners += 1
                if p.listeners == 1 {
                    phone.earpiece.clear()
                    phone.earpiece.isRecording = true
                }
                return self.scheduler.now
            }
            clock.advance(by: .milliseconds(Int64(seconds * 1000)))
            return clock.sync {
                defer {
                    p.listeners -= 1
                    if p.listeners == 0 {
                        phone.earpiece.isRecording = false
                        phone.earpiece.clear(releasingMemory: true)
                    }
                }
                let to = self.scheduler.now
                var out: [String] = []
                if let t = phone.earpiece.tone(from: from, to: to, plan: plan) { out.append("tone \(t)") }
                let sine = phone.earpiece.sine(from: from, to: to)
                if sine.level > -50 { out.append("audio \(Int(sine.frequency.rounded())) Hz at \(Int(sine.level.rounded())) dBm0") } else { out.append("silence") }
                for f in frequencies {
                    let level = phone.earpiece.level(at: f, from: from, to: to)
                    out.append("level \(Int(f.rounded())) Hz " + (level > -60 ? "at \(Int(level.rounded())) dBm0" : "absent"))
                }
                var detector = DTMFDetector()
                var keys = ""
                let samples = Array(phone.earpiece.samples(from: from, to: to))
                samples.withUnsafeBufferPointer { detector.process($0) { k, _ in keys.append(k) } }
                if !keys.isEmpty { out.append("dtmf \(keys)") }
                if let scheme = CallerIDScheme(plan.callerID) {
                    for m in phone.earpiece.callerID(from: from, to: to, scheme: scheme) {
                        if case .callerID(let info) = m { out.append("caller-id \(info.number ?? "(\(info.numberAbsence.map { String($0.rawValue) } ?? "-"))") \"\(info.name ?? "")\"") }
                        if case .messageWaiting(let on) = m { out.append("message-waiting \(on ? "on" : "off")") }
                    }
                }
                return out
            }
        case "fault":
            // The simulated hardware failing on command: what the daemon must notice and survive.
            let usage = "error: fault PORT audio-fail|audio-stall|gpio-lost [REFUSALS] (the simulated board only)"
            guard let p = port(1), let audio = p.audio as? SimulatedAudioPort, let chip = simulated?.chip(for: p.id), words.count >= 3 else {
                return [usage]
            }
            // `… N`: the device then refuses to open (its lines to be requested) N more times.
            let refusals = words.count > 3 ? (ASCIIDecimal.exact(words[3], in: 0...100) ?? 0) : 0
            switch words[2] {
            case "audio-fail":
                clock.sync {
                    audio.refusedStarts = refusals
                    audio.fail("input/output error (simulated)")
                }
            case "audio-stall": clock.sync { audio.stall() }
            case "gpio-lost":
                clock.sync {
                    chip.refusedRequests = refusals
                    chip.lose("the device hung up (simulated)")
                }
            default: return [usage]
            }
            return ["ok"]
        default:
            return ["error: unknown command '\(verb)' (status, calls, offhook, onhook, flash, dial, say, listen, fault)"]
        }
    }

    /// Per port: enabled, hook, feed, registration, current call, messages waiting, last error.
    /// Never a password.
    /// The daemon's state as one value (called on the control plane).
    func statusSnapshot() -> DaemonStatus {
        DaemonStatus(board: board.name, uptimeSeconds: (Instant.monotonicNow() - startedAt).nanoseconds / 1_000_000_000,
                     ports: ports.values.sorted { $0.id < $1.id }.map(portStatus))
    }

    func portStatus(_ p: Port) -> PortStatus {
        var call: PortStatus.Call?
        if let c = p.controller, let h = Daemon.call(on: c.machine.line), let peer = p.ua?.peer(of: h) {
            let media = p.media?.current.map { s in
                PortStatus.Media(codec: s.codec, seconds: Int64(saturating: s.seconds), packetsSent: Int64(s.packetsSent),
                                 packetsReceived: Int64(s.packetsReceived), lost: Int64(s.packetsLost),
                                 jitterMs: (s.jitterMilliseconds * 10).rounded() / 10,
                                 concealedFrames: Int64(s.concealedFrames), latePackets: Int64(s.late), encryption: s.encryption,
                                 passThrough: s.passThrough)
            }
            call = PortStatus.Call(peer: peer.uri, peerName: peer.displayName, direction: peer.outgoing ? "outgoing" : "incoming", media: media)
        }
        let d = p.dropped
        // Before its endpoint exists (being attached, or retrying), the account as configured.
        let account = p.account ?? configuration.account(port: p.id)
        var status = PortStatus(
            port: p.id, enabled: account?.enabled ?? false, hook: "\(p.line.decoder.isOffHook ? HookState.offHook : .onHook)", timing: p.line.decoder.profile.name,
            feed: p.controller.map { "\($0.feed)" } ?? "\(LineFeed.powerDown)",
            account: account.map { "\($0.user)@\($0.domain)" }, transport: account?.transport.rawValue, security: p.endpoint?.security,
            registration: registration(of: p),
            line: p.controller.map { Daemon.line($0.machine) } ?? .init(state: "disabled"),
            call: call, messagesWaiting: p.controller?.machine.messagesWaiting ?? false,
            seizeToToneMs: p.hardware?.lastSeizureToTone.map { (Double($0.nanoseconds) / 1000).rounded() / 1000 }, lastError: p.lastError, fault: p.recovery.fault?.reason,
            dropped: .init(requests: Int64(d.requests), responses: Int64(d.responses), malformed: Int64(d.malformed), rtp: Int64(d.media)))
        status.lostHookEdges = Int64(p.hardware?.line.lostHookEdges ?? 0)
        if let f = p.controller?.features, f.forwarding || f.doNotDisturb || p.controller?.settings.doNotDisturb == true {
            status.features = PortStatus.Features(forwardAlways: f.forwards[.always], forwardBusy: f.forwards[.busy], forwardNoAnswer: f.forwards[.noAnswer],
                                                  doNotDisturb: f.doNotDisturb || p.controller?.settings.doNotDisturb == true)
        }
        return status
    }

    /// The call a line is about: placing, ringing, talking, or the one left waiting.
    static func call(on line: PortStateMachine.Line) -> CallHandle? {
        switch line {
        case .outgoing(let h, _), .ringing(let h), .recalling(let h), .connected(let h, _), .waitingOnly(let h), .conference(let h, _): h
        case .idle, .dialTone, .noService, .collecting, .disconnected, .howler, .lockout: nil
        }
    }

    /// The line's state in the status's words (never a Swift description: call handles and
    /// dialled digits stay inside).
    static func line(_ machine: PortStateMachine) -> PortStatus.Line {
        var out = line(machine.line)
        // A call held while the handset consults (or being transferred) is part of the line.
        if machine.consultation != nil { out.other = "held" }
        if machine.transfer != nil, out.state == "idle" { out.other = "transferring" }
        return out
    }

    static func line(_ line: PortStateMachine.Line) -> PortStatus.Line {
        switch line {
        case .idle: .init(state: "idle")
        case .dialTone: .init(state: "dial-tone")
        case .noService: .init(state: "no-service")
        case .collecting: .init(state: "collecting")
        case .outgoing(_, let ringback): .init(state: "outgoing", tone: ringback ? "ringback" : nil)
        case .ringing: .init(state: "ringing")
        case .recalling: .init(state: "ringing", other: "held")
        case .conference: .init(state: "three-way")
        case .connected(_, let other):
            switch other {
            case .waiting?: .init(state: "connected", other: "waiting")
            case .held?: .init(state: "connected", other: "held")
            case nil: .init(state: "connected")
            }
        case .disconnected(let tone): .init(state: "disconnected", tone: tone.rawValue)
        case .waitingOnly: .init(state: "waiting-only")
        case .howler: .init(state: "howler")
        case .lockout: .init(state: "lockout")
        }
    }

    /// The account's registration; before it has an endpoint, why not and when it is tried
    /// again, or that it is being attached.
    func registration(of p: Port) -> PortStatus.Registration {
        if let e = p.endpoint {
            var r = Daemon.registration(e.agent.status, now: nowSeconds)
            // The connection's trouble says more than "registering" or "2 failure(s)".
            if r.state != "registered", r.state != "in-service", let trouble = e.trouble { r.reason = trouble }
            return r
        }
        if p.attachParked { return .init(state: "registering", reason: "reached; waiting for the handset to be put down") }
        if p.attachTask != nil { return .init(state: "registering", reason: "looking up the registrar") }
        if let retry = p.attachRetry {
            return .init(state: "retrying", retryInSeconds: max(0, (retry.at - scheduler.now).nanoseconds / 1_000_000_000), reason: retry.reason)
        }
        return .init(state: "none")
    }

    static func registration(_ s: RegistrationStatus, now: Int64) -> PortStatus.Registration {
        switch s {
        case .unregistered: .init(state: "unregistered")
        case .registering: .init(state: "registering")
        case .registered(let until): .init(state: "registered", expiresInSeconds: max(0, until - now))
        case .inServiceWithoutRegistration: .init(state: "in-service", reason: "register: no")
        case .retrying(let at, let reason): .init(state: "retrying", retryInSeconds: max(0, at - now), reason: reason)
        case .failed(let reason): .init(state: "failed", reason: reason)
        }
    }
}
