import Testing
import TipRingCore
import TelephonyDSP
import SIPCore
import PortControl

@Suite("Feature codes: each region's table, and what dialled digits are to it")
struct FeatureCodeTableTests {
    static func sevenDigits(_ n: String) -> Bool { n.count == 7 }
    let us = FeatureCodeTable.defaults(for: .us)
    let de = FeatureCodeTable.defaults(for: .de)
    let gb = FeatureCodeTable.defaults(for: .gb)

    @Test("North America: vertical service codes, a number ended by the dial plan, '#' or the timeout")
    func northAmerica() {
        #expect(us.verdict("*") == .incomplete && us.verdict("*7") == .incomplete && us.verdict("*72") == .incomplete)
        #expect(us.verdict("*73") == .complete(.forward(.always, to: nil), numberOpen: false))
        #expect(us.verdict("*725551234") == .incomplete)
        #expect(us.requestOnTimeout("*725551234") == .forward(.always, to: "5551234"))
        #expect(us.verdict("*725551234", numberComplete: Self.sevenDigits) == .complete(.forward(.always, to: "5551234"), numberOpen: true))
        #expect(us.verdict("*725551234#") == .complete(.forward(.always, to: "5551234"), numberOpen: false))
        #expect(us.verdict("*92200") == .incomplete && us.requestOnTimeout("*92200") == .forward(.noAnswer, to: "200"))
        #expect(us.verdict("*78") == .complete(.doNotDisturb(true), numberOpen: false))
        #expect(us.verdict("*675551234", numberComplete: Self.sevenDigits) == .complete(.callWithheld("5551234"), numberOpen: true))
        #expect(us.verdict("*74125551234#") == .complete(.setSpeedDial(code: "12", number: "5551234"), numberOpen: false))
        #expect(us.verdict("*741") == .incomplete)
        #expect(us.verdict("*69") == .complete(.returnLastCall, numberOpen: false))
        // Not codes: the dial plan's business (a provider's *98 voicemail, an ordinary number).
        #expect(us.verdict("*98") == .notACode && us.verdict("5551234") == .notACode && us.verdict("*72*1") == .notACode)
    }

    @Test("Europe (ETSI/GSM procedures) and the UK (BT's 141/1470): a number inside the code needs its '#'")
    func europe() {
        #expect(de.verdict("*21*0301234") == .incomplete && de.requestOnTimeout("*21*0301234") == nil)
        #expect(de.verdict("*21*0301234#") == .complete(.forward(.always, to: "0301234"), numberOpen: false))
        #expect(de.verdict("#21#") == .complete(.forward(.always, to: nil), numberOpen: false))
        #expect(de.verdict("*61*0301234#") == .complete(.forward(.noAnswer, to: "0301234"), numberOpen: false))
        #expect(de.verdict("##002#") == .complete(.cancelAllForwards, numberOpen: false))
        #expect(de.verdict("#31#0301234#") == .complete(.callWithheld("0301234"), numberOpen: false))
        #expect(de.verdict("*31#0301234#") == .complete(.callPresented("0301234"), numberOpen: false))
        #expect(de.verdict("*74*12*0301234#") == .complete(.setSpeedDial(code: "12", number: "0301234"), numberOpen: false))
        #expect(de.verdict("0301234") == .notACode && de.verdict("*72") == .notACode)
        #expect(gb.verdict("14102079460000", numberComplete: { $0.count == 11 }) == .complete(.callWithheld("02079460000"), numberOpen: true))
        #expect(gb.verdict("147002079460000", numberComplete: { $0.count == 11 }) == .complete(.callPresented("02079460000"), numberOpen: true))
        #expect(gb.verdict("1471") == .notACode && gb.verdict("999") == .notACode && gb.verdict("#31#") == .notACode)
    }

    @Test("a code the configuration writes: checked, and replacing the region's for its feature")
    func configured() throws {
        #expect(throws: FeatureCodeError.self) { try FeatureCode("*72", .forwardAlwaysOn) }
        #expect(throws: FeatureCodeError.self) { try FeatureCode("*73N", .forwardAlwaysOff) }
        #expect(throws: FeatureCodeError.self) { try FeatureCode("N*72", .forwardAlwaysOn) }
        #expect(throws: FeatureCodeError.self) { try FeatureCode("*7x", .redial) }
        #expect(throws: FeatureCodeError.self) { try FeatureCode("*74N", .setSpeedDial) }
        do {
            _ = try FeatureCode("*7x", .redial)
        } catch {
            #expect(error.description == "feature code '*7x' for redial: only digits, '*', '#', 'N' (a number) and 'SS' (a speed-dial code)")
        }
        let table = us.with([try FeatureCode("*33", .redial)])
        #expect(table.verdict("*33") == .complete(.redial, numberOpen: false))
        #expect(table.verdict("*66") == .notACode)
        #expect(table.codes.count == us.codes.count)
    }
}

@Suite("Feature codes at the phone: forwards, do-not-disturb, per-call CLIR and call waiting, redial, call return, speed dial")
struct FeatureSequenceTests {
    static let caller = CallerIdentity(number: "5551234", name: "Carol", availability: .available)
    static let incoming = CallHandle(id: 70)
    static let second = CallHandle(id: 71)

    /// A registered NANP port whose plan dials 7-digit and 3-digit numbers (the number after a
    /// code ends there), with `settings` changed as asked.
    static func machine(_ change: (inout PortSettings) -> Void = { _ in }) -> PortStateMachine {
        var settings = PortSettings()
        settings.dialPlan = try! DialPlan("([2-9]xxxxxx|2xx)")
        change(&settings)
        var m = PortStateMachine(settings: settings)
        _ = m.handle(.enable)
        _ = m.handle(.registration(.registered(untilSeconds: 3600)))
        return m
    }

    /// Off-hook, the digits, and what the last digit did.
    static func dial(_ m: inout PortStateMachine, _ digits: String) -> [PortAction] {
        _ = m.handle(.offHook)
        var last: [PortAction] = []
        for d in digits { last = m.handle(.digit(d)) }
        return last
    }

    static func invites(_ actions: [PortAction]) -> [(String, Bool)] {
        actions.compactMap { if case .sip(.invite(_, let target, let withhold)) = $0 { (target, withhold) } else { nil } }
    }

    @Test("*72 forwards every call (302 to the number, no bell); stutter dial tone meanwhile; *73 ends it")
    func forwardAlways() {
        var m = Self.machine()
        let set = Self.dial(&m, "*7230001")
        #expect(m.line == .collecting("*7230001"))  // 30001 may grow into a number of this plan: wait
        #expect(m.handle(.digit("#")).contains(.playTone(.confirmation)))  // '#' ends it
        #expect(m.line == .disconnected(.confirmation) && m.features.forwards == [.always: "30001"])
        #expect(!set.contains { if case .sip = $0 { true } else { false } }, "a code reached the network: \(set)")
        _ = m.handle(.onHook)
        #expect(m.handle(.incomingCall(Self.incoming, Self.caller)) == [.sip(.redirect(Self.incoming, target: "30001"))])
        #expect(m.line == .idle)
        #expect(m.handle(.offHook).contains(.playTone(.stutterDial)))
        _ = m.handle(.digit("*"))
        _ = m.handle(.digit("7"))
        #expect(m.handle(.digit("3")).contains(.playTone(.confirmation)))
        _ = m.handle(.onHook)
        #expect(m.features.forwards.isEmpty && m.handle(.offHook).contains(.playTone(.dial)))
    }

    @Test("*90: a caller who finds the port busy goes to the number; call waiting still comes first")
    func forwardBusy() {
        var m = Self.machine { $0.callWaiting = false }
        _ = Self.dial(&m, "*90200#")
        _ = m.handle(.onHook)
        #expect(m.features.forwards == [.busy: "200"])
        _ = Self.dial(&m, "5550000")
        _ = m.handle(.answered(CallHandle(id: 1)))
        #expect(m.handle(.incomingCall(Self.incoming, Self.caller)) == [.sip(.redirect(Self.incoming, target: "200"))])
        var waiting = Self.machine()
        _ = Self.dial(&waiting, "*90200#")
        _ = waiting.handle(.onHook)
        _ = Self.dial(&waiting, "5550000")
        _ = waiting.handle(.answered(CallHandle(id: 1)))
        #expect(waiting.handle(.incomingCall(Self.incoming, Self.caller)) == [.playTone(.callWaiting)])
    }

    @Test("*92: ringing unanswered for the set time goes to the number; answered first, the timer goes")
    func forwardNoAnswer() {
        var m = Self.machine()
        // 200 is a whole number of the plan, or the start of a 7-digit one: the short timer decides.
        #expect(Self.dial(&m, "*92200") == [.startTimer(.interDigit, .seconds(4))])
        #expect(m.handle(.timer(.interDigit)).contains(.playTone(.confirmation)))
        _ = m.handle(.onHook)
        #expect(m.handle(.incomingCall(Self.incoming, Self.caller)) == [.startRinging(Self.caller), .startTimer(.forwardNoAnswer, .seconds(20)), .startTimer(.ringTimeout, .seconds(200))])
        #expect(m.handle(.timer(.forwardNoAnswer)) == [.stopRinging, .sip(.redirect(Self.incoming, target: "200")), .cancelTimer(.ringTimeout)])
        #expect(m.line == .idle)
        _ = m.handle(.incomingCall(Self.second, Self.caller))
        #expect(m.handle(.offHook) == [.stopRinging, .sip(.answer(Self.second)), .connectMedia(Self.second), .cancelTimer(.ringTimeout), .cancelTimer(.forwardNoAnswer)])
        #expect(m.handle(.timer(.forwardNoAnswer)) == [])  // late: the call was answered
    }

    @Test("*78 / *79: do-not-disturb refuses (486) and lets calls ring again")
    func doNotDisturb() {
        var m = Self.machine()
        _ = Self.dial(&m, "*78")
        _ = m.handle(.onHook)
        #expect(m.handle(.incomingCall(Self.incoming, Self.caller)) == [.sip(.reject(Self.incoming, status: 486))])
        _ = Self.dial(&m, "*79")
        _ = m.handle(.onHook)
        #expect(m.handle(.incomingCall(Self.second, Self.caller)).first == .startRinging(Self.caller))
    }

    @Test("*67 withholds and *82 presents the number for one call, whatever the setting; the code is not dialled")
    func perCallIdentity() {
        var m = Self.machine()
        #expect(Self.invites(Self.dial(&m, "*675550000")).map(\.0) == ["5550000"])
        #expect(Self.invites(m.handle(.onHook)).isEmpty)
        var withheld = Self.machine()
        #expect(Self.invites(Self.dial(&withheld, "*675550000")).first?.1 == true)
        var presented = Self.machine { $0.withholdIdentity = true }
        #expect(Self.invites(Self.dial(&presented, "*825550000")).first?.1 == false)
        _ = presented.handle(.onHook)
        #expect(Self.invites(Self.dial(&presented, "5550000")).first?.1 == true)  // the next call: the setting again
    }

    @Test("*70: no call waiting during this call (a second caller is busy); the next call waits again")
    func noCallWaitingOnce() {
        var m = Self.machine()
        _ = Self.dial(&m, "*705550000")
        _ = m.handle(.answered(CallHandle(id: 1)))
        #expect(m.handle(.incomingCall(Self.incoming, Self.caller)) == [.sip(.reject(Self.incoming, status: 486))])
        _ = m.handle(.onHook)
        _ = Self.dial(&m, "5550000")
        _ = m.handle(.answered(CallHandle(id: 2)))
        #expect(m.handle(.incomingCall(Self.second, Self.caller)) == [.playTone(.callWaiting)])
    }

    @Test("*69 calls back the last caller, *66 the last number dialled; with nothing to call, the SIT")
    func returnAndRedial() {
        var m = Self.machine()
        _ = Self.dial(&m, "*69")
        #expect(m.line == .disconnected(.specialInformation))
        _ = m.handle(.onHook)
        _ = Self.dial(&m, "*66")
        #expect(m.line == .disconnected(.specialInformation))
        _ = m.handle(.onHook)
        _ = m.handle(.incomingCall(Self.incoming, Self.caller))
        _ = m.handle(.ended(Self.incoming, .remoteHangUp))
        #expect(Self.invites(Self.dial(&m, "*69")).map(\.0) == ["5551234"])
        _ = m.handle(.onHook)
        _ = Self.dial(&m, "2345678")
        _ = m.handle(.onHook)
        #expect(Self.invites(Self.dial(&m, "*66")).map(\.0) == ["2345678"])
    }

    @Test("*74: a two-digit speed dial set, then dialled as its code and '#'")
    func speedDial() {
        var m = Self.machine()
        _ = Self.dial(&m, "*74125550000")
        #expect(m.line == .disconnected(.confirmation) && m.features.speedDials == ["12": "5550000"])
        _ = m.handle(.onHook)
        _ = Self.dial(&m, "12")
        #expect(m.line == .collecting("12"))  // the plan has no number "12": the code is waited for
        #expect(Self.invites(m.handle(.digit("#"))).map(\.0) == ["5550000"])
        _ = m.handle(.onHook)
        _ = Self.dial(&m, "12")
        #expect(Self.invites(m.handle(.timer(.interDigit))).map(\.0) == ["5550000"])  // or the timeout
        _ = m.handle(.onHook)
        _ = Self.dial(&m, "13")
        #expect(m.line == .disconnected(.congestion))  // no such code: the plan's verdict
    }

    @Test("abandoned: on-hook halfway, the timeout on a code without its number, a code's number never '#'-ended — nothing set, nothing dialled")
    func abandoned() {
        var m = Self.machine()
        _ = Self.dial(&m, "*7")
        _ = m.handle(.onHook)
        #expect(m.line == .idle && m.features == PortFeatures())
        _ = Self.dial(&m, "*7")
        #expect(m.handle(.timer(.interDigit)).contains(.playTone(.congestion)))
        _ = m.handle(.onHook)
        var eu = Self.machine { $0.featureCodes = .defaults(for: .de) }
        _ = Self.dial(&eu, "*21*0301234")
        let timedOut = eu.handle(.timer(.interDigit))
        #expect(Self.invites(timedOut).isEmpty && eu.line == .disconnected(.congestion) && eu.features.forwards.isEmpty)
    }
}

@Suite("Being transferred (RFC 3515 REFER from the far end)")
struct TransferRequestedTests {
    static let caller = CallerIdentity(number: "5551234", name: "Carol", availability: .available)

    /// Port in a call with `h` (answered incoming call 70).
    static func talking() -> (PortStateMachine, CallHandle) {
        var m = FeatureSequenceTests.machine()
        let h = CallHandle(id: 70)
        _ = m.handle(.incomingCall(h, caller))
        _ = m.handle(.offHook)
        return (m, h)
    }

    @Test("accepted in a call: the new call placed with ringback; answered, the transferred call is ended here too")
    func accepted() {
        var (m, old) = Self.talking()
        let actions = m.handle(.transferRequested(old, target: "sip:1003@example.com"))
        guard case .outgoing(let new, false) = m.line else { Issue.record("\(m.line)"); return }
        #expect(actions == [.connectMedia(nil), .sip(.acceptTransfer(old, newCall: new)),
                            .sip(.invite(new, target: "sip:1003@example.com", withholdIdentity: false))])
        #expect(m.handle(.ringing(new)) == [.playTone(.ringback)])
        #expect(m.handle(.answered(new)) == [.stopTone, .connectMedia(new), .sip(.hangUp(old))])
        #expect(m.handle(.ended(old, .remoteHangUp)) == [])  // the far end's BYE crossing ours
        #expect(m.line == .connected(new, other: nil) && m.features.lastDialled == nil)
    }

    @Test("the new call fails: back to the transferred call; it was ended meanwhile: the failure's tone")
    func failed() {
        var (m, old) = Self.talking()
        _ = m.handle(.transferRequested(old, target: "sip:1003@example.com"))
        guard case .outgoing(let new, _) = m.line else { Issue.record("\(m.line)"); return }
        #expect(m.handle(.ended(new, .failed(status: 486, reason: "Busy Here"))) == [.stopTone, .connectMedia(old)])
        #expect(m.line == .connected(old, other: nil))
        var (n, first) = Self.talking()
        _ = n.handle(.transferRequested(first, target: "sip:1003@example.com"))
        guard case .outgoing(let next, _) = n.line else { Issue.record("\(n.line)"); return }
        #expect(n.handle(.ended(first, .remoteHangUp)) == [])
        _ = n.handle(.ended(next, .failed(status: 486, reason: "Busy Here")))
        #expect(n.line == .disconnected(.busy))
    }

    @Test("hanging up during the transfer ends both calls; with a second call waiting, or ringing, the transfer is declined")
    func abandonedOrDeclined() {
        var (m, old) = Self.talking()
        _ = m.handle(.transferRequested(old, target: "sip:1003@example.com"))
        guard case .outgoing(let new, _) = m.line else { Issue.record("\(m.line)"); return }
        #expect(m.handle(.onHook) == [.stopTone, .connectMedia(nil), .sip(.cancel(new)), .sip(.hangUp(old))])
        var (w, active) = Self.talking()
        _ = w.handle(.incomingCall(CallHandle(id: 71), Self.caller))
        #expect(w.handle(.transferRequested(active, target: "sip:1003@example.com")) == [.sip(.declineTransfer(active))])
        var r = FeatureSequenceTests.machine()
        _ = r.handle(.incomingCall(CallHandle(id: 72), Self.caller))
        #expect(r.handle(.transferRequested(CallHandle(id: 72), target: "sip:1003@example.com")) == [.sip(.declineTransfer(CallHandle(id: 72)))])
    }

    @Test("a new call replacing the one in progress (RFC 3891) is answered in its place and the old one ended; replacing a call not on the line is refused")
    func replacing() {
        var (m, old) = Self.talking()
        let new = CallHandle(id: 90)
        #expect(m.handle(.replacingCall(new, replaces: old)) == [.sip(.answer(new)), .connectMedia(new), .sip(.hangUp(old))])
        #expect(m.line == .connected(new, other: nil))
        #expect(m.handle(.ended(old, .localHangUp)) == [])
        var idle = FeatureSequenceTests.machine()
        #expect(idle.handle(.replacingCall(CallHandle(id: 91), replaces: CallHandle(id: 5))) == [.sip(.reject(CallHandle(id: 91), status: 486))])
    }
}
