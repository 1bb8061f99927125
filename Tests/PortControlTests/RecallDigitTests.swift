import Testing
import TipRingCore
import TelephonyDSP
import SIPCore
import PortControl

/// Europe's register recall ("R" then a digit) in the state machine: every command in every
/// state with two calls, and every way of leaving it undone.
@Suite("Register recall: R then 0–4 (ETSI, BT)")
struct RecallDigitTests {
    static let first = CallHandle(id: 1), third = CallHandle(id: 2), waiting = CallHandle(id: 9)
    static let caller = CallerIdentity(number: "5551234", name: nil, availability: .available)

    /// A machine reading R as Europe does, brought to a state by events: "X" one call, "XW" a
    /// call waiting, "K:X" a consultation answered (first held), "3W" three-way.
    static func machine(_ state: String) -> PortStateMachine {
        var s = PortSettings()
        s.dialPlan = try! DialPlan("(1xxx)")
        s.hookFlash = .recallDigits
        var m = PortStateMachine(settings: s)
        var events: [PortEvent] = [.enable, .registration(.registered(untilSeconds: 3600)), .offHook, .digit("1"), .digit("0"), .digit("0"), .digit("2"), .answered(first)]
        switch state {
        case "X": break
        case "XW": events += [.incomingCall(waiting, caller)]
        case "K:X": events += [.flash, .digit("1"), .digit("0"), .digit("0"), .digit("3"), .answered(third)]
        case "3W": events += [.flash, .digit("1"), .digit("0"), .digit("0"), .digit("3"), .answered(third), .flash, .digit("3")]
        default: fatalError(state)
        }
        for e in events { _ = m.handle(e) }
        return m
    }

    static let recalled: [PortAction] = [.connectMedia(nil), .playTone(.dialRecall), .startTimer(.recallDigit, .seconds(5))]
    static let done: [PortAction] = [.cancelTimer(.recallDigit), .stopTone]

    @Test("one call: R holds it and gives the recall dial tone, as a flash does (then a number is dialled, not a command)")
    func oneCall() {
        var m = Self.machine("X")
        #expect(m.handle(.flash) == [.sip(.hold(Self.first)), .connectMedia(nil), .playTone(.dialRecall), .startTimer(.firstDigit, .seconds(10))])
        #expect(!m.recallPending && m.consultation == Self.first)
    }

    @Test("a call waiting: R0 refuses it (486), R1 ends this call and takes it, R2 holds this one and takes it")
    func callWaiting() {
        var m = Self.machine("XW")
        #expect(m.handle(.flash) == Self.recalled && m.recallPending)
        #expect(m.handle(.digit("0")) == Self.done + [.sip(.reject(Self.waiting, status: 486)), .connectMedia(Self.first)])
        #expect(m.line == .connected(Self.first, other: nil) && !m.recallPending)
        m = Self.machine("XW")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("1")) == Self.done + [.sip(.hangUp(Self.first)), .sip(.answer(Self.waiting)), .connectMedia(Self.waiting)])
        m = Self.machine("XW")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("2")) == Self.done + [.sip(.hold(Self.first)), .sip(.answer(Self.waiting)), .connectMedia(Self.waiting)])
        #expect(m.line == .connected(Self.waiting, other: .held(Self.first)))
        // Then R2 swaps back, R3 joins the two, R1 ends the one talking.
        _ = m.handle(.flash)
        #expect(m.handle(.digit("2")) == Self.done + [.sip(.hold(Self.waiting)), .sip(.resume(Self.first)), .connectMedia(Self.first)])
        _ = m.handle(.flash)
        #expect(m.handle(.digit("3")) == Self.done + [.sip(.resume(Self.waiting)), .conferenceMedia(Self.waiting, Self.first)])
        #expect(m.line == .conference(Self.first, Self.waiting))  // the older call first, whoever was held
    }

    @Test("a consultation answered: R1 ends it and goes back, R2 swaps (the other now held), R3 three-way, R4 connects the two and leaves")
    func consultation() {
        var m = Self.machine("K:X")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("1")) == Self.done + [.sip(.hangUp(Self.third)), .sip(.resume(Self.first)), .connectMedia(Self.first)])
        #expect(m.consultation == nil && m.line == .connected(Self.first, other: nil))
        m = Self.machine("K:X")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("2")) == Self.done + [.sip(.hold(Self.third)), .sip(.resume(Self.first)), .connectMedia(Self.first)])
        #expect(m.consultation == Self.third && m.line == .connected(Self.first, other: nil))
        // Hanging up after the swap transfers the other way round.
        #expect(m.handle(.onHook).contains(.sip(.transfer(Self.third, to: Self.first, attended: true))))
        m = Self.machine("K:X")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("3")) == Self.done + [.sip(.resume(Self.first)), .conferenceMedia(Self.first, Self.third)])
        m = Self.machine("K:X")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("4")) == Self.done + [.sip(.transfer(Self.first, to: Self.third, attended: true)), .startTimer(.transferGiveUp, .seconds(32)),
                                                      .connectMedia(nil), .playTone(.confirmation), .startTimer(.offHookWarning, .seconds(30))])
        #expect(m.transfer == .init(transferred: Self.first, consulted: Self.third))
        // Done: both calls end, the handset hears the confirmation until it is put down.
        var done = m
        #expect(done.handle(.transferEnded(Self.first, status: 200)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(Self.first)), .sip(.hangUp(Self.third))])
        #expect(done.line == .disconnected(.confirmation))
        // Refused: the special-information tone, then the held party back.
        #expect(m.handle(.transferEnded(Self.first, status: 603)) == [.cancelTimer(.transferGiveUp), .sip(.hangUp(Self.third)), .stopTone,
                                                                       .connectMedia(nil), .playTone(.specialInformation), .startTimer(.offHookWarning, .seconds(30)),
                                                                       .startTimer(.reconnect, .milliseconds(2500))])
        #expect(m.handle(.timer(.reconnect)) == [.stopTone, .cancelTimer(.offHookWarning), .sip(.resume(Self.first)), .connectMedia(Self.first)])
        #expect(m.line == .connected(Self.first, other: nil) && m.calls == [Self.first])
    }

    @Test("three-way: R1 drops the party added last, R2 talks to it alone (the first held), R4 leaves the two together")
    func threeWay() {
        var m = Self.machine("3W")
        #expect(m.line == .conference(Self.first, Self.third))
        _ = m.handle(.flash)
        #expect(m.handle(.digit("1")) == Self.done + [.sip(.hangUp(Self.third)), .connectMedia(Self.first)])
        m = Self.machine("3W")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("2")) == Self.done + [.sip(.hold(Self.first)), .connectMedia(Self.third)])
        #expect(m.consultation == Self.first)
        m = Self.machine("3W")
        _ = m.handle(.flash)
        #expect(m.handle(.digit("4")).contains(.sip(.transfer(Self.first, to: Self.third, attended: true))))
    }

    @Test("abandoned: no digit in 5 s, a second R, a digit with no meaning, on-hook, or a call ending — the line's audio comes back, nothing else changes")
    func abandoned() {
        var m = Self.machine("K:X")
        _ = m.handle(.flash)
        #expect(m.handle(.timer(.recallDigit)) == Self.done + [.connectMedia(Self.third)])
        _ = m.handle(.flash)
        #expect(m.handle(.flash) == Self.done + [.connectMedia(Self.third)])
        _ = m.handle(.flash)
        #expect(m.handle(.digit("7")) == Self.done + [.connectMedia(Self.third)])
        #expect(m.line == .connected(Self.third, other: nil) && m.consultation == Self.first && !m.recallPending)
        // A stale timer does nothing.
        #expect(m.handle(.timer(.recallDigit)) == [])
        // On-hook while waiting for the digit: as on-hook in the consultation (a transfer).
        _ = m.handle(.flash)
        #expect(m.handle(.onHook).contains(.sip(.transfer(Self.first, to: Self.third, attended: true))))
        // The waiting caller gives up while R waits: the call in progress is heard again.
        var w = Self.machine("XW")
        _ = w.handle(.flash)
        #expect(w.handle(.ended(Self.waiting, .remoteHangUp)) == [.cancelTimer(.recallDigit), .stopTone, .stopTone, .connectMedia(Self.first)])
        #expect(!w.recallPending && w.line == .connected(Self.first, other: nil))
    }

    @Test("the region decides: North America flashes, the UK and Germany dial after R")
    func regionDefaults() {
        #expect(HookFlashStyle.defaults(for: .us) == .flash)
        #expect(HookFlashStyle.defaults(for: .gb) == .recallDigits)
        #expect(HookFlashStyle.defaults(for: .de) == .recallDigits)
    }
}
