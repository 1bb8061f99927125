import Testing
import TipRingCore
import SIPCore
import PortControl

/// Forwarding by a new call of the port's (`forward: { by: "invite" }`): the state machine.
@Suite("Forward by a new call: the incoming call waits, the target answers, the port joins them")
struct ForwardByCallTests {
    static let incoming = CallHandle(id: 7), caller = CallerIdentity(number: "5551234", name: nil, availability: .available)
    static let placed = CallHandle(id: 1)  // the port's first call of its own

    static func machine(_ forwards: [ForwardCondition: String], by method: ForwardMethod = .invite) -> PortStateMachine {
        var s = PortSettings()
        s.forwardBy = method
        s.features.forwards = forwards
        s.features.noAnswerSeconds = 5
        var m = PortStateMachine(settings: s)
        _ = m.handle(.enable)
        _ = m.handle(.registration(.registered(untilSeconds: 3600)))
        return m
    }

    @Test("always: the port calls the target at once, the caller still ringing; answered, the call is answered and the two joined; either hanging up ends the other")
    func always() {
        var m = Self.machine([.always: "1003"])
        #expect(m.handle(.incomingCall(Self.incoming, Self.caller)) == [.sip(.invite(Self.placed, target: "1003", withholdIdentity: false))])
        #expect(m.line == .idle && Set(m.calls) == [Self.incoming, Self.placed])
        #expect(m.handle(.ringing(Self.placed)) == [] && m.handle(.earlyMedia(Self.placed)) == [])
        #expect(m.handle(.answered(Self.placed)) == [.sip(.answer(Self.incoming)), .relayMedia(Self.incoming, Self.placed)])
        // The handset is free meanwhile.
        #expect(m.handle(.offHook).first == .playTone(.stutterDial))  // stutter: forwarding is on
        _ = m.handle(.onHook)
        var callerLeaves = m
        #expect(callerLeaves.handle(.ended(Self.incoming, .remoteHangUp)) == [.endRelay, .sip(.hangUp(Self.placed))])
        #expect(callerLeaves.calls.isEmpty)
        #expect(m.handle(.ended(Self.placed, .remoteHangUp)) == [.endRelay, .sip(.hangUp(Self.incoming))])
        #expect(m.calls.isEmpty && m.forwarded == nil)
    }

    @Test("the target busy, not found or silent: the caller gets that answer; the caller gives up first: our call is cancelled")
    func targetFails() {
        for (reason, status) in [(CallEndReason.failed(status: 486, reason: "Busy Here"), 486), (.failed(status: 404, reason: "Not Found"), 404),
                                 (.timeout, 408), (.failed(status: 302, reason: "Moved"), 480)] {
            var m = Self.machine([.always: "1003"])
            _ = m.handle(.incomingCall(Self.incoming, Self.caller))
            #expect(m.handle(.ended(Self.placed, reason)) == [.sip(.reject(Self.incoming, status: status))], "\(reason)")
            #expect(m.calls.isEmpty)
        }
        var m = Self.machine([.always: "1003"])
        _ = m.handle(.incomingCall(Self.incoming, Self.caller))
        #expect(m.handle(.ended(Self.incoming, .remoteHangUp)) == [.sip(.hangUp(Self.placed))])
        #expect(m.calls.isEmpty)
    }

    @Test("no answer: the bell rings its seconds, then stops and the port calls the target; busy: the second caller goes there while the handset talks")
    func noAnswerAndBusy() {
        var m = Self.machine([.noAnswer: "1003", .busy: "1004"])
        _ = m.handle(.incomingCall(Self.incoming, Self.caller))
        #expect(m.line == .ringing(Self.incoming))
        #expect(m.handle(.timer(.forwardNoAnswer)) == [.stopRinging, .sip(.invite(Self.placed, target: "1003", withholdIdentity: false)),
                                                        .cancelTimer(.ringTimeout)])
        #expect(m.line == .idle)
        var busy = Self.machine([.busy: "1004"])
        _ = busy.handle(.offHook)
        #expect(busy.handle(.incomingCall(Self.incoming, Self.caller)) == [.sip(.invite(Self.placed, target: "1004", withholdIdentity: false))])
    }

    @Test("one forwarded call at a time: another meanwhile goes by 302; disabling the port ends both forwarded calls; the default is 302")
    func limits() {
        var m = Self.machine([.always: "1003"])
        _ = m.handle(.incomingCall(Self.incoming, Self.caller))
        #expect(m.handle(.incomingCall(CallHandle(id: 8), Self.caller)) == [.sip(.redirect(CallHandle(id: 8), target: "1003"))])
        _ = m.handle(.answered(Self.placed))
        let off = m.handle(.disable)
        #expect(off.contains(.endRelay) && off.contains(.sip(.hangUp(Self.incoming))) && off.contains(.sip(.hangUp(Self.placed))))
        #expect(m.calls.isEmpty)
        var redirect = Self.machine([.always: "1003"], by: .redirect)
        #expect(redirect.handle(.incomingCall(Self.incoming, Self.caller)) == [.sip(.redirect(Self.incoming, target: "1003"))])
    }
}
