import Foundation  // tests only: files, processes
import NIOPosix
import SIPCore
import SIPAgent
import SIPTransport
import Testing
import TipRingCore
import SystemCalls
import TestSupport

/// User-agent events as they happen on the wall clock, with a bounded wait.
final class EventLog: @unchecked Sendable {
    let lock = ConditionLock()
    var events: [UserAgentEvent] = []

    func append(_ e: UserAgentEvent) { lock.withLock { events.append(e); lock.broadcast() } }

    func wait(seconds: Double, _ predicate: ([UserAgentEvent]) -> Bool) -> Bool {
        let deadline = Instant.monotonicNow() + .milliseconds(Int64(seconds * 1000))
        return lock.withLock {
            while !predicate(events) && Instant.monotonicNow() < deadline { lock.wait(until: deadline) }
            return predicate(events)
        }
    }

    var all: [UserAgentEvent] { lock.withLock { events } }

    /// Polls a condition that no event announces (every 20 ms, up to `seconds`).
    func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Instant.monotonicNow() + .milliseconds(Int64(seconds * 1000))
        while Instant.monotonicNow() < deadline {
            if condition() { return true }
            lock.withLock { lock.wait(until: Instant.monotonicNow() + .milliseconds(20)) }
        }
        return condition()
    }
}

/// A TipRing user agent (account 1001) on a real UDP socket, registered with Kamailio.
final class LivePhone: @unchecked Sendable {
    let scheduler = WallClockScheduler()
    let endpoint: UDPAccountEndpoint
    let log = EventLog()
    let trace = Box<[String]>()
    var ua: SIPUserAgent!
    var wire: String { trace.lock.withLock { (trace.value ?? []).joined(separator: "\n") } }

    init(kamailio k: Kamailio, ports: ClosedRange<Int>, autoAnswer: Bool = false, messageWaiting: Bool = false,
         sessionExpires: Int? = nil) async throws {
        try scheduler.start()
        var settings = accountSettings(domain: "127.0.0.1", expires: 600)
        settings.registration.retryBase = .seconds(30)
        settings.timers = TransactionTimers()
        var options = UDPAccountEndpoint.Options(registrar: ServerName(host: "127.0.0.1", port: k.port))
        options.localPorts = ports
        endpoint = try await UDPAccountEndpoint.make(settings: settings, options: options, resolver: SystemResolver(),
                                                     group: MultiThreadedEventLoopGroup.singleton, scheduler: scheduler, seed: 8)
        sync { [self] in
            var cs = CallSettings()
            cs.subscribeMessageWaiting = messageWaiting
            if let sessionExpires { cs.sessionExpires = sessionExpires }
            ua = SIPUserAgent(agent: endpoint.agent, settings: cs, seed: 8)
            ua.mediaPort = { h in 40000 + Int(h.id) * 2 }
            ua.onEvent = { [self] e in
                log.append(e)
                if autoAnswer, case .incomingCall(let h, _) = e { ua.execute(.answer(h)) }
            }
            endpoint.agent.onTrace = { [self] m, out, _ in
                let line = (out ? "→ " : "← ") + (String(decoding: m.serialized(), as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? "")
                trace.lock.withLock { trace.value = (trace.value ?? []) + [line + " " + (m["CSeq"] ?? "")] }
            }
            ua.execute(.register)
        }
        guard log.wait(seconds: 10, { $0.contains { if case .registration(.registered) = $0 { true } else { false } } }) else {
            throw ToolError(description: "TipRing did not register with Kamailio: \(log.all)")
        }
    }

    /// Runs a command on the scheduler.
    func execute(_ c: UserAgentCommand) { scheduler.execute { [self] in ua.execute(c) } }

    final class Box<T>: @unchecked Sendable {
        let lock = ConditionLock()
        var value: T?
    }

    /// Runs `body` on the scheduler and waits for its result.
    func sync<T>(_ body: @escaping @Sendable () -> T) -> T {
        let box = Box<T>()
        scheduler.execute {
            let v = body()
            box.lock.withLock { box.value = v; box.lock.broadcast() }
        }
        // Bounded: a scheduler that stopped would otherwise hang the run until CI's limit.
        let deadline = Instant.monotonicNow() + .seconds(60)
        return box.lock.withLock {
            while box.value == nil && Instant.monotonicNow() < deadline { box.lock.wait(until: deadline) }
            guard let v = box.value else { fatalError("the phone's scheduler did not run the work within 60 s") }
            return v
        }
    }

    func newHandle() -> CallHandle { sync { [self] in ua.newCallHandle() } }

    func media(_ h: CallHandle) -> MediaSession? { sync { [self] in ua.media(of: h) } }

    func close() async {
        execute(.unregister)
        _ = log.wait(seconds: 5) { $0.last == .registration(.unregistered) }
        await endpoint.close()
        scheduler.shutdown()
    }
}

func endedReason(_ events: [UserAgentEvent], _ h: CallHandle) -> CallEndReason? {
    for e in events { if case .ended(h, let r) = e { return r } }
    return nil
}

/// sipp as the far end of real calls through Kamailio (digest auth on INVITE).
@Suite("Calls through Kamailio with sipp as the far end", .serialized)
struct KamailioCallTests {
    func sipp(_ scenario: String, port: Int, extra: [String]) throws -> (pid_t, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-sipp-\(UUID().uuidString.prefix(8)).log").path
        let pid = try spawn("/usr/bin/sipp", ["-sf", repositoryRoot + "/Tests/Fixtures/sipp/\(scenario).xml", "-i", "127.0.0.1",
                                              "-p", "\(port)", "-m", "1", "-nostdin", "-timeout", "90s", "-trace_err", "-error_file", log] + extra,
                        stdout: "/dev/null", stderr: log)
        if extra.isEmpty {
            // A far end (UAS): wait until it listens.
            guard waitUntilUDPPortTaken(port) else {
                kill(pid, SIGKILL)
                throw ToolError(description: "sipp did not start (make test installs sip-tester)")
            }
        }
        return (pid, log)
    }

    func finish(_ pid: pid_t) -> Int32 { exitCode(waitingFor: pid) }

    func logText(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test("outgoing: 407 answered, ringing, answered with PCMU, hold (sendonly ↔ recvonly), BYE from TipRing")
    func outgoingHoldAndHangUp() async throws {
        let uasPort = Kamailio.freeUDPPort()
        let k = try Kamailio(uas: "127.0.0.1:\(uasPort)")
        defer { k.stop() }
        // The far end starts once the phone is registered (under load, registering can take
        // a while, and sipp gives up after its timeout).
        let phone = try await LivePhone(kamailio: k, ports: 23000...23999)
        let (pid, log) = try sipp("uas-answer-hold-bye", port: uasPort, extra: [])
        let h = phone.newHandle()
        phone.execute(.invite(h, target: "9000", withholdIdentity: false))
        #expect(phone.log.wait(seconds: 10) { $0.contains(.answered(h)) }, "\(phone.log.all)\n\(phone.wire)\n\(logText(log))")
        #expect(phone.log.all.contains(.ringing(h)))
        #expect(phone.media(h)?.codec.name == "PCMU")
        phone.execute(.hold(h))
        #expect(phone.log.poll(seconds: 5) { phone.media(h)?.remote.direction == .recvonly })
        #expect(phone.media(h)?.receiving == false)
        #expect(phone.media(h)?.sending == true)
        phone.execute(.hangUp(h))
        #expect(phone.log.wait(seconds: 5) { endedReason($0, h) == .localHangUp })
        #expect(finish(pid) == 0, "\(logText(log))")
        await phone.close()
    }

    @Test("outgoing, given up while ringing: CANCEL through Kamailio, 487 at the far end")
    func outgoingCancel() async throws {
        let uasPort = Kamailio.freeUDPPort()
        let k = try Kamailio(uas: "127.0.0.1:\(uasPort)")
        defer { k.stop() }
        let phone = try await LivePhone(kamailio: k, ports: 24000...24999)
        let (pid, log) = try sipp("uas-ring-cancel", port: uasPort, extra: [])
        let h = phone.newHandle()
        phone.execute(.invite(h, target: "9000", withholdIdentity: false))
        #expect(phone.log.wait(seconds: 10) { $0.contains(.ringing(h)) }, "\(phone.log.all)")
        phone.execute(.cancel(h))
        #expect(phone.log.wait(seconds: 10) { endedReason($0, h) == .localHangUp }, "\(phone.log.all)\n\(phone.wire)\n\(logText(k.run.appendingPathComponent("kamailio.log").path).suffix(3000))")
        #expect(finish(pid) == 0, "\(logText(log))")
        #expect(!logText(log).contains("Aborting"), "\(logText(log))")
        await phone.close()
    }

    @Test("incoming from sipp (1002, authenticated): caller ID, answered, held by the far end (recvonly), BYE from the far end")
    func incomingHeldByCaller() async throws {
        let k = try Kamailio()
        defer { k.stop() }
        let phone = try await LivePhone(kamailio: k, ports: 25000...25999, autoAnswer: true)
        let (pid, log) = try sipp("uac-call-hold-bye", port: Kamailio.freeUDPPort(), extra: ["-s", "1001", "127.0.0.1:\(k.port)"])
        #expect(finish(pid) == 0, "\(logText(log))")
        let events = phone.log.all
        let incoming = events.compactMap { e -> (CallHandle, CallerIdentity)? in if case .incomingCall(let h, let c) = e { (h, c) } else { nil } }.first
        let (h, caller) = try #require(incoming, "\(events)")
        #expect(caller == CallerIdentity(number: "1002", name: "Bob", availability: .available))
        #expect(events.contains(.answered(h)))
        #expect(phone.log.wait(seconds: 5) { endedReason($0, h) == .remoteHangUp }, "\(phone.log.all)")
        await phone.close()
    }

    /// sipp, not our own simulated exchange, as the witness of RFC 3262 and RFC 4028 and of
    /// INFO digits: its scenario checks each header it needs and fails on a wrong answer.
    @Test("incoming from sipp requiring 100rel with session timers: a reliable 180 whose RSeq sipp PRACKs (200), Session-Expires and Require: timer in the 200, an INFO digit, sipp's session refresh answered, BYE")
    func incomingReliableWithSessionTimerAndInfo() async throws {
        let k = try Kamailio()
        defer { k.stop() }
        let phone = try await LivePhone(kamailio: k, ports: 36500...36599)
        let (pid, log) = try sipp("uac-call-100rel-timer-info", port: Kamailio.freeUDPPort(), extra: ["-s", "1001", "127.0.0.1:\(k.port)"])
        #expect(phone.log.wait(seconds: 15) { $0.contains { if case .incomingCall = $0 { true } else { false } } }, "\(phone.log.all)\n\(logText(log))")
        let h = try #require(phone.log.all.compactMap { e -> CallHandle? in if case .incomingCall(let h, _) = e { h } else { nil } }.first)
        // Answered only once sipp has PRACKed the reliable 180 (the order RFC 3262 allows
        // either way; this one exercises the PRACK inside the early dialog).
        #expect(phone.log.poll(seconds: 10) { phone.wire.contains("← PRACK sip:") }, "\(phone.wire)\n\(logText(log))")
        phone.execute(.answer(h))
        #expect(phone.log.wait(seconds: 10) { $0.contains(.digit(h, "5")) }, "\(phone.log.all)\n\(logText(log))")
        #expect(finish(pid) == 0, "\(logText(log))\n\(phone.wire)")
        #expect(phone.log.wait(seconds: 5) { endedReason($0, h) == .remoteHangUp }, "\(phone.log.all)")
        // Its PRACK answered 200, its refresh 200: no 481 or 4xx on our side of the wire.
        #expect(!phone.wire.contains("→ SIP/2.0 481") && !phone.wire.contains("→ SIP/2.0 4"), "\(phone.wire)")
        await phone.close()
    }

    /// sipp as the far end of RFC 4028 with TipRing the refresher: the refresh must come by
    /// itself, at half the interval (45 s of a 90 s session), and keep the call up.
    @Test("session timer, TipRing the refresher: a 90 s session offered, the refresh re-INVITE sent by itself at about half of it, the call still up, BYE")
    func outgoingRefreshedByUs() async throws {
        let uasPort = Kamailio.freeUDPPort()
        let k = try Kamailio(uas: "127.0.0.1:\(uasPort)")
        defer { k.stop() }
        let phone = try await LivePhone(kamailio: k, ports: 36700...36799, sessionExpires: 90)
        let (pid, log) = try sipp("uas-answer-refreshed", port: uasPort, extra: [])
        let h = phone.newHandle()
        phone.execute(.invite(h, target: "9000", withholdIdentity: false))
        #expect(phone.log.wait(seconds: 10) { $0.contains(.answered(h)) }, "\(phone.log.all)\n\(phone.wire)\n\(logText(log))")
        let answeredAt = Instant.monotonicNow()
        let invites = { phone.wire.components(separatedBy: "→ INVITE sip:").count - 1 }
        let before = invites()
        #expect(phone.log.poll(seconds: 75) { invites() > before }, "no refresh: \(phone.wire)")
        let after = Instant.monotonicNow() - answeredAt
        // Half of 90 s, as the refresher should (a loaded machine may add a little).
        #expect(after >= .seconds(40) && after <= .seconds(60), "refreshed \(after) after the answer")
        // Answered by the far end (its 200 to the second INVITE).
        let oks = { phone.wire.split(separator: "\n").filter { $0.hasPrefix("← SIP/2.0 200") && $0.hasSuffix(" INVITE") }.count }
        #expect(phone.log.poll(seconds: 5) { oks() >= 2 }, "\(phone.wire)")
        #expect(endedReason(phone.log.all, h) == nil, "the call ended: \(phone.log.all)")
        phone.execute(.hangUp(h))
        #expect(phone.log.wait(seconds: 5) { endedReason($0, h) == .localHangUp })
        #expect(finish(pid) == 0, "\(logText(log))\n\(phone.wire)")
        await phone.close()
    }

    /// sipp as the voicemail server (RFC 3842), Kamailio in between: it checks our SUBSCRIBE's
    /// Event and Accept, grants it, and sends a NOTIFY in the subscription's dialog along the
    /// record-route; the lamp's news reaches the user agent with the counts.
    @Test("message waiting from a voicemail server (sipp) through Kamailio: SUBSCRIBE (digest), 200, NOTIFY 2/5 in the dialog, 200, the counts reach the user agent")
    func messageWaitingFromAVoicemailServer() async throws {
        let vmPort = Kamailio.freeUDPPort()
        let k = try Kamailio(voicemail: "127.0.0.1:\(vmPort)")
        defer { k.stop() }
        let (pid, log) = try sipp("uas-mwi-notify", port: vmPort, extra: [])
        let phone = try await LivePhone(kamailio: k, ports: 36600...36699, messageWaiting: true)
        #expect(phone.log.wait(seconds: 15) { $0.contains(.messageWaiting(waiting: true, newMessages: 2, oldMessages: 5)) },
                "\(phone.log.all)\n\(phone.wire)\n\(logText(log))")
        #expect(finish(pid) == 0, "\(logText(log))\n\(phone.wire)")
        await phone.close()
    }

    @Test("incoming, TipRing hangs up: BYE from the callee through the record-route")
    func incomingCalleeHangsUp() async throws {
        let k = try Kamailio()
        defer { k.stop() }
        let phone = try await LivePhone(kamailio: k, ports: 26000...26999, autoAnswer: true)
        let (pid, log) = try sipp("uac-call-callee-bye", port: Kamailio.freeUDPPort(), extra: ["-s", "1001", "127.0.0.1:\(k.port)"])
        #expect(phone.log.wait(seconds: 10) { $0.contains { if case .answered = $0 { true } else { false } } }, "\(phone.log.all)\n\(logText(log))")
        let h = try #require(phone.log.all.compactMap { e -> CallHandle? in if case .answered(let h) = e { h } else { nil } }.first)
        phone.execute(.hangUp(h))
        #expect(finish(pid) == 0, "\(logText(log))")
        #expect(phone.log.wait(seconds: 5) { endedReason($0, h) == .localHangUp })
        await phone.close()
    }
}
