import Testing
import TipRingCore
@testable import SIPCore
@testable import SIPAgent
import BoardSimulator

/// Being transferred, at the user agent: a REFER in a call, the NOTIFYs that report the new
/// call, and an INVITE that replaces a call (RFC 3515, 3891) — through the simulated exchange.
@Suite("Transfers at the user agent (virtual time)")
struct TransferTests {
    /// A request in Alice's dialog with Bob, as Alice's side would send it: through the
    /// exchange, on the dialog's route (Bob takes requests from his server only).
    static func inAlicesDialog(_ rig: CallRig, _ a: CallHandle, method: String, cseq: Int, extra: String) throws -> [UInt8] {
        let c = try #require(rig.alice.ua.calls[a])
        let text = """
        \(method) \(c.remoteTarget) SIP/2.0
        Via: SIP/2.0/UDP \(rig.alice.address.host):5060;branch=z9hG4bK\(method)\(cseq)
        From: <sip:1001@example.com>;tag=\(c.localTag)
        To: <sip:1002@example.com>;tag=\(c.remoteTag ?? "")
        Call-ID: \(c.callID)
        CSeq: \(cseq) \(method)
        Max-Forwards: 70
        \(c.routeSet.map { "Route: \($0)\n" }.joined())\(extra)Content-Length: 0


        """
        return Array(text.replacing("\n", with: "\r\n").utf8)
    }

    @Test("Alice transfers Bob to herself: Bob's agent answers 202, reports the target, and NOTIFYs 100, 180 and a final 200 as the new call goes")
    func referAndNotify() throws {
        let rig = CallRig()
        let (a, b) = try rig.answeredCall()
        rig.net.send(try Self.inAlicesDialog(rig, a, method: "REFER", cseq: 50, extra: "Refer-To: <sip:1001@example.com>\n"), from: rig.alice.address, to: CallRig.exchangeAddress)
        rig.run(0.2)
        #expect(rig.responses(202, to: .refer).count == 2)  // Bob → exchange → Alice
        #expect(rig.bob.saw(.transferRequested(b, target: "sip:1001@example.com")))
        // What the port does: take it, and place the new call.
        let next = rig.bob.ua.newCallHandle()
        rig.bob.ua.execute(.acceptTransfer(b, newCall: next))
        rig.bob.ua.execute(.invite(next, target: "sip:1001@example.com", withholdIdentity: false))
        rig.run(0.5)
        let ringing = try #require(rig.alice.incoming)
        rig.alice.ua.execute(.answer(ringing))
        rig.run(0.5)
        let notifies = rig.wire(.notify).filter { $0.from == rig.bob.address }.map(\.message)
        #expect(notifies.map { String(decoding: $0.body, as: UTF8.self) } == ["SIP/2.0 100 Trying\r\n", "SIP/2.0 180 Ringing\r\n", "SIP/2.0 200 OK\r\n"])
        #expect(notifies.allSatisfy { $0["Event"] == "refer;id=50" && $0["Call-ID"] == rig.bob.ua.calls[b]?.callID })
        #expect(notifies.last?["Subscription-State"] == "terminated;reason=noresource")
        #expect(rig.bob.saw(.answered(next)))
    }

    @Test("an INVITE with Replaces naming Bob's established call is reported as replacing it; one naming no call of his is refused 481 and never rings")
    func replaces() throws {
        let rig = CallRig()
        let (a, b) = try rig.answeredCall()
        let c = try #require(rig.alice.ua.calls[a])
        let header = "\(c.callID);to-tag=\(c.remoteTag ?? "");from-tag=\(c.localTag)"
        let escaped = header.replacing("@", with: "%40").replacing(";", with: "%3B").replacing("=", with: "%3D")
        let second = rig.alice.ua.newCallHandle()
        rig.alice.ua.execute(.invite(second, target: "sip:1002@example.com?Replaces=\(escaped)", withholdIdentity: false))
        rig.run(0.5)
        let replacing = rig.bob.events.compactMap { e -> (CallHandle, CallHandle)? in
            if case .replacingCall(let n, let old, _) = e { (n, old) } else { nil }
        }
        #expect(replacing.count == 1 && replacing.first?.1 == b, "\(rig.bob.events)")
        // Not an ordinary incoming call: the bell is not rung for it.
        #expect(!rig.bob.events.contains { if case .incomingCall(let h, _) = $0 { h == replacing.first?.0 } else { false } })
        // Tags swapped: not Bob's dialog.
        let wrong = "\(c.callID);to-tag=\(c.localTag);from-tag=\(c.remoteTag ?? "")".replacing("@", with: "%40").replacing(";", with: "%3B").replacing("=", with: "%3D")
        let third = rig.alice.ua.newCallHandle()
        rig.alice.ua.execute(.invite(third, target: "sip:1002@example.com?Replaces=\(wrong)", withholdIdentity: false))
        rig.run(0.5)
        #expect(rig.alice.ended(third) == .failed(status: 481, reason: "Call/Transaction Does Not Exist"))
    }
}
