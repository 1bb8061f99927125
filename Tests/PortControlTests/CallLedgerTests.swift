import Testing
import TipRingCore
import SIPCore
import PortControl

@Suite("The call history's ledger: every way a call ends, in words, with its times")
struct CallLedgerTests {
    static let t0 = Instant(nanoseconds: 1_000_000_000)
    static func at(_ seconds: Double) -> Instant { t0 + .milliseconds(Int64(seconds * 1000)) }
    static let caller = CallerIdentity(number: "5551234", name: "ALICE", availability: .available)

    @Test("each ending, both directions: answered or not, who hung up, busy, failed, timeout", arguments: [
        // (outgoing?, answered at, ended at, reason, words)
        (true, 3.0, 63.5, CallEndReason.localHangUp, "hung up here"),
        (true, 2.0, 10.0, .remoteHangUp, "hung up by the other side"),
        (true, nil, 4.0, .localHangUp, "abandoned before an answer"),
        (true, nil, 1.0, .failed(status: 486, reason: "Busy Here"), "busy"),
        (true, nil, 1.0, .failed(status: 404, reason: "Not Found"), "404 Not Found"),
        (true, nil, 32.0, .timeout, "no answer from the network"),
        (false, 5.0, 20.0, .remoteHangUp, "hung up by the other side"),
        (false, nil, 12.0, .remoteHangUp, "missed"),
        (false, nil, 0.5, .localHangUp, "refused here"),
    ] as [(Bool, Double?, Double, CallEndReason, String)])
    func endings(outgoing: Bool, answeredAt: Double?, endedAt: Double, reason: CallEndReason, words: String) throws {
        var ledger = CallLedger()
        let h = CallHandle(id: 7)
        if outgoing {
            ledger.placed(h, target: "1002", wall: 1_764_000_000, at: Self.at(0))
        } else {
            #expect(ledger.note(.incomingCall(h, caller: Self.caller), wall: 1_764_000_000, at: Self.at(0)) == nil)
        }
        #expect(ledger.note(.ringing(h), wall: 1_764_000_001, at: Self.at(0.2)) == nil)
        if let answeredAt { #expect(ledger.note(.answered(h), wall: 0, at: Self.at(answeredAt)) == nil) }
        let ended = ledger.note(.ended(h, reason), wall: 0, at: Self.at(endedAt))
        let r = try #require(ended)
        #expect(r.handle == h && r.startedAt == 1_764_000_000)
        #expect(r.direction == (outgoing ? CallRecord.Direction.outgoing : .incoming))
        #expect(r.peer == (outgoing ? "1002" : "5551234") && r.peerName == (outgoing ? nil : "ALICE"))
        #expect(r.answered == (answeredAt != nil) && r.end == words)
        #expect(abs(r.ringSeconds - (answeredAt ?? endedAt)) < 0.001)
        #expect(abs(r.talkSeconds - (answeredAt.map { endedAt - $0 } ?? 0)) < 0.001)
        // Ended once: a second end (a retransmitted BYE's echo) makes no second record.
        #expect(ledger.note(.ended(h, reason), wall: 0, at: Self.at(endedAt + 1)) == nil)
    }

    @Test("a withheld or unavailable caller is named so; a call never placed nor announced makes no record")
    func peersAndStrangers() throws {
        var ledger = CallLedger()
        _ = ledger.note(.incomingCall(CallHandle(id: 1), caller: CallerIdentity(number: nil, name: nil, availability: .withheld)), wall: 0, at: Self.at(0))
        _ = ledger.note(.incomingCall(CallHandle(id: 2), caller: CallerIdentity(number: nil, name: nil, availability: .unavailable)), wall: 0, at: Self.at(0))
        let first = ledger.note(.ended(CallHandle(id: 1), .remoteHangUp), wall: 0, at: Self.at(1))
        let second = ledger.note(.ended(CallHandle(id: 2), .remoteHangUp), wall: 0, at: Self.at(1))
        #expect(first?.peer == "withheld" && second?.peer == "unavailable")
        #expect(ledger.note(.ended(CallHandle(id: 3), .remoteHangUp), wall: 0, at: Self.at(1)) == nil)
    }

    @Test("calls that never end are forgotten beyond eight, oldest first (a port runs for months)")
    func bounded() {
        var ledger = CallLedger()
        for i in 1...20 { ledger.placed(CallHandle(id: UInt64(i)), target: "\(i)", wall: 0, at: Self.at(0)) }
        #expect(ledger.note(.ended(CallHandle(id: 12), .localHangUp), wall: 0, at: Self.at(1)) == nil)
        #expect(ledger.note(.ended(CallHandle(id: 13), .localHangUp), wall: 0, at: Self.at(1))?.peer == "13")
    }
}

/// A user agent that records what it is asked and says what it is told to.
final class ScriptedUserAgent: UserAgent {
    var onEvent: ((UserAgentEvent) -> Void)?
    var newCallHandle: () -> CallHandle = { CallHandle(id: 1) }
    var executed: [UserAgentCommand] = []
    func execute(_ command: UserAgentCommand) { executed.append(command) }
}

@Suite("The recording user agent passes everything through")
struct CallRecordingUserAgentTests {
    @Test("commands and events pass unchanged and in order; the record comes after the event that ended the call")
    func passesThrough() throws {
        let inner = ScriptedUserAgent()
        var now = (wall: Int64(1_764_000_000), monotonic: CallLedgerTests.t0)
        let recorder = CallRecordingUserAgent(inner) { now }
        var seen: [String] = []
        recorder.onEvent = { seen.append("event \($0)") }
        recorder.onRecord = { seen.append("record \($0.end) \($0.talkSeconds)") }
        recorder.execute(.invite(CallHandle(id: 4), target: "1002", withholdIdentity: false))
        #expect(inner.executed == [.invite(CallHandle(id: 4), target: "1002", withholdIdentity: false)])
        now.monotonic = CallLedgerTests.at(1)
        inner.onEvent?(.answered(CallHandle(id: 4)))
        now.monotonic = CallLedgerTests.at(11)
        inner.onEvent?(.ended(CallHandle(id: 4), .remoteHangUp))
        #expect(seen == ["event answered(call#4)", "event ended(call#4, SIPCore.CallEndReason.remoteHangUp)", "record hung up by the other side 10.0"])
        recorder.newCallHandle = { CallHandle(id: 9) }
        #expect(inner.newCallHandle() == CallHandle(id: 9))
    }
}
