import Testing
import TipRingCore
import TelephonyDSP
import SIPCore
import PortControl

/// Every (state, event) pair of the port state machine, written out by hand.
@Suite("Port state machine: every state × every event")
struct PortStateMachineTableTests {
    static let caller = CallerIdentity(number: "5551234", name: "Carol", availability: .available)
    static let incoming = CallHandle(id: 7)
    static let second = CallHandle(id: 8)
    static let stranger = CallHandle(id: 999)
    static let firstOutgoing = CallHandle(id: 1)  // the port numbers its calls from 1
    static let consulted = CallHandle(id: 2)  // the call placed while the first is held

    /// A machine brought into a state by real events, with its main and other call.
    static func machine(_ state: String) -> (PortStateMachine, main: CallHandle, other: CallHandle) {
        var settings = PortSettings()
        settings.dialPlan = try! DialPlan("(1xxx)")
        var m = PortStateMachine(settings: settings)
        func feed(_ events: PortEvent...) { for e in events { _ = m.handle(e) } }
        feed(.enable)
        if state != "NS" { feed(.registration(.registered(untilSeconds: 3600))) }
        let o = firstOutgoing
        switch state {
        case "I": return (m, stranger, stranger)
        case "DT": feed(.offHook); return (m, stranger, stranger)
        case "NS": feed(.offHook); return (m, stranger, stranger)
        case "C": feed(.offHook, .digit("1")); return (m, stranger, stranger)
        case "O": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2")); return (m, o, stranger)
        case "OR": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .ringing(o)); return (m, o, stranger)
        case "R": feed(.incomingCall(incoming, caller)); return (m, incoming, stranger)
        case "X": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o)); return (m, o, stranger)
        case "XW": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .incomingCall(second, caller)); return (m, o, second)
        case "XH": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .incomingCall(second, caller), .flash); return (m, second, o)
        case "D": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .ended(o, .remoteHangUp)); return (m, stranger, stranger)
        case "WO": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .incomingCall(second, caller), .ended(o, .remoteHangUp)); return (m, second, stranger)
        case "H": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .ended(o, .remoteHangUp), .timer(.offHookWarning)); return (m, stranger, stranger)
        case "L": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .ended(o, .remoteHangUp), .timer(.offHookWarning), .timer(.howler)); return (m, stranger, stranger)
        // Consultation (K:…): the first call held by a flash, the handset on the recall dial
        // tone, dialling a third party (the port's second call), talking to it, or failed.
        case "K:DT": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .flash); return (m, stranger, o)
        case "K:O": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .flash, .digit("1"), .digit("0"), .digit("0"), .digit("3")); return (m, consulted, o)
        case "K:X": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .flash, .digit("1"), .digit("0"), .digit("0"), .digit("3"), .answered(consulted)); return (m, consulted, o)
        case "K:D": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .flash, .digit("1"), .digit("0"), .digit("0"), .digit("3"), .ended(consulted, .failed(status: 486, reason: "Busy Here"))); return (m, consulted, o)
        case "3W": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .flash, .digit("1"), .digit("0"), .digit("0"), .digit("3"), .answered(consulted), .flash); return (m, consulted, o)
        // The held call ringing the handset back (hung up in consultation with nobody dialled).
        case "RC": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .flash, .onHook); return (m, o, stranger)
        // On-hook with an attended transfer of the first call to the second under way.
        case "T": feed(.offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(o), .flash, .digit("1"), .digit("0"), .digit("0"), .digit("3"), .answered(consulted), .onHook); return (m, o, consulted)
        default: fatalError("no state \(state)")
        }
    }

    static func name(_ m: PortStateMachine) -> String {
        if m.consultation != nil { return "K:" + name(m.line) }
        if m.transfer != nil, m.line == .idle { return "T" }
        return name(m.line)
    }

    static func name(_ line: PortStateMachine.Line) -> String {
        switch line {
        case .idle: "I"
        case .dialTone: "DT"
        case .noService: "NS"
        case .collecting(let d): d == "1" ? "C" : "C(\(d))"
        case .outgoing(_, let ringback): ringback ? "OR" : "O"
        case .ringing: "R"
        case .recalling: "RC"
        case .conference: "3W"
        case .connected(_, nil): "X"
        case .connected(_, .waiting): "XW"
        case .connected(_, .held): "XH"
        case .disconnected(let t): t == .busy ? "D" : "D(\(t))"
        case .waitingOnly: "WO"
        case .howler: "H"
        case .lockout: "L"
        }
    }

    static func events(main: CallHandle, other: CallHandle) -> [PortEvent] {
        [.powerOn, .enable, .disable, .registration(.registered(untilSeconds: 9999)), .registration(.retrying(atSeconds: 10, reason: "x")),
         .offHook, .onHook, .flash, .digit("5"),
         .timer(.firstDigit), .timer(.interDigit), .timer(.offHookWarning), .timer(.howler), .timer(.autoDial), .timer(.forwardNoAnswer),
         .incomingCall(CallHandle(id: 77), caller), .ringing(main), .earlyMedia(main), .answered(main),
         .ended(main, .remoteHangUp), .ended(other, .remoteHangUp), .messageWaiting(true), .transferRequested(main, target: "1009"),
         .replacingCall(CallHandle(id: 78), replaces: main), .transferEnded(main, status: 603)]
    }

    // Columns: powerOn enable disable reg+ reg- offHook onHook flash digit5
    //          t.first t.inter t.warn t.howl t.auto t.fwd incoming ringing early answered ended(main) ended(other) mwi
    //          transfer (the far end of the main call transfers us) replacing (a new call takes the main call's place)
    //          xferEnd (a transfer of the main call, asked for by the port, is refused: 603)
    // (t.fwd: a no-answer forward's timer with no forward set — nothing happens.)
    static let table: [String: [String]] = [
        "I":  ["I", "I", "I", "I", "I", "DT", "I", "I", "I", "I", "I", "I", "I", "I", "I", "R", "I", "I", "I", "I", "I", "I", "I", "I", "I"],
        "DT": ["DT", "DT", "I", "DT", "DT", "DT", "I", "DT", "D(congestion)", "D(congestion)", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT", "DT"],
        "NS": ["NS", "NS", "I", "DT", "NS", "NS", "I", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS", "NS"],
        "C":  ["C", "C", "I", "C", "C", "C", "I", "C", "C(15)", "C", "D(congestion)", "C", "C", "C", "C", "C", "C", "C", "C", "C", "C", "C", "C", "C", "C"],
        "O":  ["O", "O", "I", "O", "O", "O", "I", "O", "O", "O", "O", "O", "O", "O", "O", "O", "OR", "O", "X", "D", "O", "O", "O", "O", "O"],
        "OR": ["OR", "OR", "I", "OR", "OR", "OR", "I", "OR", "OR", "OR", "OR", "OR", "OR", "OR", "OR", "OR", "OR", "O", "X", "D", "OR", "OR", "OR", "OR", "OR"],
        "R":  ["R", "R", "I", "R", "R", "X", "R", "R", "R", "R", "R", "R", "R", "R", "R", "R", "R", "R", "R", "I", "R", "R", "R", "R", "R"],
        "X":  ["X", "X", "I", "X", "X", "X", "I", "K:DT", "X", "X", "X", "X", "X", "X", "X", "XW", "X", "X", "X", "D", "X", "X", "O", "X", "X"],
        "XW": ["XW", "XW", "I", "XW", "XW", "XW", "R", "XH", "XW", "XW", "XW", "XW", "XW", "XW", "XW", "XW", "XW", "XW", "XW", "WO", "X", "XW", "XW", "XW", "XW"],
        "XH": ["XH", "XH", "I", "XH", "XH", "XH", "RC", "XH", "XH", "XH", "XH", "XH", "XH", "XH", "XH", "XH", "XH", "XH", "XH", "X", "X", "XH", "XH", "XH", "XH"],
        "D":  ["D", "D", "I", "D", "D", "D", "I", "D", "D", "D", "D", "H", "D", "D", "D", "D", "D", "D", "D", "D", "D", "D", "D", "D", "D"],
        "WO": ["WO", "WO", "I", "WO", "WO", "WO", "R", "X", "WO", "WO", "WO", "WO", "WO", "WO", "WO", "WO", "WO", "WO", "WO", "D", "WO", "WO", "WO", "WO", "WO"],
        "H":  ["H", "H", "I", "H", "H", "H", "I", "H", "H", "H", "H", "H", "L", "H", "H", "H", "H", "H", "H", "H", "H", "H", "H", "H", "H"],
        "K:DT": ["K:DT", "K:DT", "I", "K:DT", "K:DT", "K:DT", "RC", "X", "K:D(congestion)", "K:D(congestion)", "K:DT", "K:DT", "K:DT", "K:DT", "K:DT", "K:DT", "K:DT", "K:DT", "K:DT", "K:DT", "DT", "K:DT", "K:DT", "K:DT", "K:DT"],
        "K:O": ["K:O", "K:O", "I", "K:O", "K:O", "K:O", "T", "X", "K:O", "K:O", "K:O", "K:O", "K:O", "K:O", "K:O", "K:O", "K:OR", "K:O", "K:X", "K:D", "O", "K:O", "K:O", "K:O", "K:O"],
        "K:X": ["K:X", "K:X", "I", "K:X", "K:X", "K:X", "T", "3W", "K:X", "K:X", "K:X", "K:X", "K:X", "K:X", "K:X", "K:X", "K:X", "K:X", "K:X", "X", "X", "K:X", "K:X", "K:X", "K:X"],
        "K:D": ["K:D", "K:D", "I", "K:D", "K:D", "K:D", "RC", "X", "K:D", "K:D", "K:D", "K:H", "K:D", "K:D", "K:D", "K:D", "K:D", "K:D", "K:D", "K:D", "D", "K:D", "K:D", "K:D", "K:D"],
        "3W": ["3W", "3W", "I", "3W", "3W", "3W", "T", "X", "3W", "3W", "3W", "3W", "3W", "3W", "3W", "3W", "3W", "3W", "3W", "X", "X", "3W", "3W", "3W", "3W"],
        "RC": ["RC", "RC", "I", "RC", "RC", "X", "RC", "RC", "RC", "RC", "RC", "RC", "RC", "RC", "RC", "RC", "RC", "RC", "RC", "I", "RC", "RC", "RC", "RC", "RC"],
        "T":  ["T", "T", "I", "T", "T", "DT", "T", "T", "T", "T", "T", "T", "T", "T", "T", "R", "T", "T", "T", "I", "T", "T", "T", "T", "RC"],
        "L":  ["L", "L", "I", "L", "L", "L", "I", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L", "L"],
    ]

    @Test("each state is reached as named", arguments: Array(table.keys).sorted())
    func reachesState(state: String) {
        #expect(Self.name(Self.machine(state).0) == state)
    }

    @Test("every event in every state", arguments: Array(table.keys).sorted())
    func row(state: String) {
        let expected = Self.table[state]!
        let (base, main, other) = Self.machine(state)
        let events = Self.events(main: main, other: other)
        #expect(events.count == expected.count)
        for (i, e) in events.enumerated() {
            var m = base
            let actions = m.handle(e)
            #expect(Self.name(m) == expected[i], "\(state) + \(e) → \(Self.name(m)) (actions \(actions))")
            // Whatever happened, on-hook states never play tones and a disabled port rings no one.
            if !m.offHook { #expect(!actions.contains { if case .playTone = $0 { true } else { false } }, "\(state) + \(e)") }
            if !m.enabled { #expect(actions.contains(.setFeed(.powerDown)) || !base.enabled) }
        }
    }

    @Test("key actions: the SIP side of hanging up, answering, flash and failures")
    func keyActions() {
        var (m, main, other) = Self.machine("O")
        #expect(m.handle(.onHook) == [.stopTone, .connectMedia(nil), .sip(.cancel(main))])
        (m, main, _) = Self.machine("R")
        #expect(m.handle(.offHook) == [.stopRinging, .sip(.answer(main)), .connectMedia(main), .cancelTimer(.ringTimeout)])
        (m, main, other) = Self.machine("XW")
        #expect(m.handle(.flash) == [.stopTone, .sip(.hold(main)), .sip(.answer(other)), .connectMedia(other)])
        (m, main, other) = Self.machine("XH")
        #expect(m.handle(.flash) == [.sip(.hold(main)), .sip(.resume(other)), .connectMedia(other)])
        (m, main, _) = Self.machine("X")
        #expect(m.handle(.disable) == [.stopTone, .connectMedia(nil), .cancelTimer(.firstDigit), .cancelTimer(.interDigit),
                                       .cancelTimer(.offHookWarning), .cancelTimer(.howler), .cancelTimer(.autoDial),
                                       .sip(.hangUp(main)), .sip(.unregister), .setFeed(.powerDown)])
        (m, _, _) = Self.machine("I")
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.startRinging(Self.caller), .startTimer(.ringTimeout, .seconds(200))])
        (m, _, _) = Self.machine("NS")
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.sip(.reject(Self.second, status: 480))])
        (m, _, _) = Self.machine("DT")
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.sip(.reject(Self.second, status: 486))])
        #expect(PortStateMachine.tone(for: .failed(status: 486, reason: "")) == .busy)
        #expect(PortStateMachine.tone(for: .failed(status: 404, reason: "")) == .specialInformation)
        #expect(PortStateMachine.tone(for: .failed(status: 503, reason: "")) == .congestion)
        #expect(PortStateMachine.tone(for: .timeout) == .congestion)
    }

    @Test("transfer and three-way from the handset: what each step asks of SIP and the media, and every way of abandoning it")
    func consultationActions() {
        let first = Self.firstOutgoing, third = Self.consulted
        var (m, _, _) = Self.machine("X")
        // Flash with nobody else: the call held, the recall dial tone.
        #expect(m.handle(.flash) == [.sip(.hold(first)), .connectMedia(nil), .playTone(.dialRecall), .startTimer(.firstDigit, .seconds(10))])
        #expect(m.calls == [first])
        // Flash again, nothing dialled: back to it.
        #expect(m.handle(.flash) == [.stopTone] + Self.lineTimers + [.sip(.resume(first)), .connectMedia(first)])
        // Blind: on-hook while the third party rings — REFER (the URI dialled) before its CANCEL.
        (m, _, _) = Self.machine("K:O")
        #expect(m.handle(.onHook) == [.stopTone, .connectMedia(nil)] + Self.lineTimers
                + [.sip(.transfer(first, to: third, attended: false)), .startTimer(.transferGiveUp, .seconds(32)), .sip(.cancel(third))])
        #expect(m.transfer == .init(transferred: first, consulted: nil) && m.calls == [first])
        #expect(m.handle(.transferEnded(first, status: 200)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(first))])
        #expect(m.calls.isEmpty)
        // Flash while it rings: cancelled, back to the first.
        (m, _, _) = Self.machine("K:O")
        #expect(m.handle(.flash) == [.stopTone, .sip(.cancel(third)), .sip(.resume(first)), .connectMedia(first)])
        // Attended: on-hook once the third party answered — REFER with Replaces; both end when it is done.
        (m, _, _) = Self.machine("K:X")
        #expect(m.handle(.onHook) == [.stopTone, .connectMedia(nil)] + Self.lineTimers
                + [.sip(.transfer(first, to: third, attended: true)), .startTimer(.transferGiveUp, .seconds(32))])
        #expect(Set(m.calls) == [first, third])
        #expect(m.handle(.transferEnded(first, status: 202)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(first)), .sip(.hangUp(third))])
        // Refused: the third let go, the first rings the handset back; lifting takes it off hold.
        (m, _, _) = Self.machine("T")
        #expect(m.handle(.transferEnded(first, status: 603)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(third)), .startRinging(nil),
                                                                 .startTimer(.ringTimeout, .seconds(200))])
        #expect(m.handle(.offHook) == [.stopRinging, .sip(.resume(first)), .connectMedia(first), .cancelTimer(.ringTimeout)])
        // Refused while the handset is busy with something else: the first call is ended, not rung for.
        (m, _, _) = Self.machine("T")
        _ = m.handle(.offHook)
        #expect(m.handle(.transferEnded(first, status: 603)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(third)), .sip(.hangUp(first))])
        // No final word within the give-up time: left to the two parties.
        (m, _, _) = Self.machine("T")
        #expect(m.handle(.timer(.transferGiveUp)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(first)), .sip(.hangUp(third))])
        // The transferred party leaves first (it reached the target, RFC 5589 §6): our other call goes too.
        (m, _, _) = Self.machine("T")
        #expect(m.handle(.ended(first, .remoteHangUp)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(third))])
        // Three-way: flash joins, flash again drops the party added last; on-hook transfers.
        (m, _, _) = Self.machine("K:X")
        #expect(m.handle(.flash) == [.sip(.resume(first)), .conferenceMedia(first, third)])
        var dropped = m
        #expect(dropped.handle(.flash) == [.sip(.hangUp(third)), .connectMedia(first)])
        #expect(m.handle(.onHook) == [.connectMedia(nil), .sip(.transfer(first, to: third, attended: true)), .startTimer(.transferGiveUp, .seconds(32))])
        // Three-way set to end: on-hook ends both.
        var settings = m.settings
        settings.conferenceHangUp = .end
        var ending = PortStateMachine(settings: settings)
        for e: PortEvent in [.enable, .registration(.registered(untilSeconds: 3600)), .offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"),
                             .answered(first), .flash, .digit("1"), .digit("0"), .digit("0"), .digit("3"), .answered(third), .flash] { _ = ending.handle(e) }
        #expect(ending.handle(.onHook) == [.connectMedia(nil), .sip(.hangUp(first)), .sip(.hangUp(third))])
        // The third party hangs up in the consultation: back to the first.
        (m, _, _) = Self.machine("K:X")
        #expect(m.handle(.ended(third, .remoteHangUp)) == [.sip(.resume(first)), .connectMedia(first)])
        // A far end that asks us to transfer while we consult is declined.
        #expect(m.handle(.transferRequested(third, target: "sip:9@x")) == [.sip(.declineTransfer(third))])
        // Disabled mid-consultation: every call ends.
        (m, _, _) = Self.machine("K:X")
        let torn = m.handle(.disable)
        #expect(torn.contains(.sip(.hangUp(first))) && torn.contains(.sip(.hangUp(third))) && m.calls.isEmpty)
    }

    static let lineTimers: [PortAction] = [.cancelTimer(.firstDigit), .cancelTimer(.interDigit), .cancelTimer(.offHookWarning), .cancelTimer(.howler),
                                           .cancelTimer(.autoDial)]

    @Test("an incoming call nobody answers or cancels is refused 480 after the ring timeout; a new call restarts it")
    func ringTimeout() {
        var (m, h, _) = Self.machine("R")
        #expect(m.line == .ringing(h))
        #expect(m.handle(.timer(.ringTimeout)) == [.stopRinging, .sip(.reject(h, status: 480)), .cancelTimer(.ringTimeout)])
        #expect(m.line == .idle)
        // Restarted by the next call; a stale timer for a line no longer ringing does nothing.
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.startRinging(Self.caller), .startTimer(.ringTimeout, .seconds(200))])
        #expect(m.handle(.ended(Self.second, .remoteHangUp)).last == .cancelTimer(.ringTimeout))
        #expect(m.handle(.timer(.ringTimeout)) == [])
        // A waiting call rung when the handset goes down gets its own timeout.
        var (w, waiting, _) = Self.machine("WO")
        #expect(w.handle(.onHook).last == .startTimer(.ringTimeout, .seconds(200)))
        #expect(w.line == .ringing(waiting))
    }

    @Test("a handset already up when the port is enabled is a seizure (no-service tone until registered), never rung")
    func enabledWithTheHandsetUp() {
        var m = PortStateMachine(settings: PortSettings())
        _ = m.handle(.offHook)  // lifted while the port is disabled: nothing to do yet
        #expect(m.handle(.enable) == [.setFeed(.forward), .sip(.register), .playTone(.noService)])
        _ = m.handle(.registration(.registered(untilSeconds: 3600)))
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.sip(.reject(Self.second, status: 486))])
    }

    @Test("register: no — an account in service without registering gives dial tone and takes calls; going out of service takes the tone away")
    func inServiceWithoutRegistration() {
        var m = PortStateMachine(settings: PortSettings())
        _ = m.handle(.offHook)
        #expect(m.handle(.enable) == [.setFeed(.forward), .sip(.register), .playTone(.noService)])
        #expect(m.handle(.registration(.inServiceWithoutRegistration)) == [.playTone(.dial), .startTimer(.firstDigit, .seconds(10))])
        _ = m.handle(.onHook)
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.startRinging(Self.caller), .startTimer(.ringTimeout, .seconds(200))])
        _ = m.handle(.ended(Self.second, .remoteHangUp))
        _ = m.handle(.registration(.unregistered))
        #expect(m.handle(.offHook) == [.playTone(.noService)])
        #expect(m.line == .noService)
    }

    @Test("features: DND, hot line, warm line, no call waiting, stutter dial tone, visual message waiting")
    func features() {
        var s = PortSettings()
        s.doNotDisturb = true
        var m = PortStateMachine(settings: s)
        _ = m.handle(.enable); _ = m.handle(.registration(.registered(untilSeconds: 1)))
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.sip(.reject(Self.second, status: 486))])

        s = PortSettings()
        s.autoDial = "1002"
        m = PortStateMachine(settings: s)
        _ = m.handle(.enable); _ = m.handle(.registration(.registered(untilSeconds: 1)))
        #expect(m.handle(.offHook) == [.stopTone, .sip(.invite(Self.firstOutgoing, target: "1002", withholdIdentity: false))])

        s.autoDialDelay = .seconds(5)
        m = PortStateMachine(settings: s)
        _ = m.handle(.enable); _ = m.handle(.registration(.registered(untilSeconds: 1)))
        #expect(m.handle(.offHook).contains(.startTimer(.autoDial, .seconds(5))))
        #expect(m.handle(.timer(.autoDial)).contains(.sip(.invite(Self.firstOutgoing, target: "1002", withholdIdentity: false))))

        s = PortSettings()
        s.callWaiting = false
        s.withholdIdentity = true
        s.dialPlan = try! DialPlan("(1xxx)")
        m = PortStateMachine(settings: s)
        _ = m.handle(.enable); _ = m.handle(.registration(.registered(untilSeconds: 1)))
        #expect(m.handle(.messageWaiting(true)) == [.sendMessageWaiting(true)])
        #expect(m.handle(.offHook).first == .playTone(.stutterDial))
        var last: [PortAction] = []
        for d in "1002" { last = m.handle(.digit(d)) }
        #expect(last.contains(.sip(.invite(Self.firstOutgoing, target: "1002", withholdIdentity: true))))
        _ = m.handle(.answered(Self.firstOutgoing))
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.sip(.reject(Self.second, status: 486))])
        // Messages heard during the call: the lamp goes off once the handset is down.
        #expect(m.handle(.messageWaiting(false)) == [])
        #expect(m.handle(.onHook).contains(.sendMessageWaiting(false)))
    }
}
