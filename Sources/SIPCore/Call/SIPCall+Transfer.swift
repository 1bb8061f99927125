import TipRingCore

/// Transfers this port asks for (RFC 3515, RFC 5589): a REFER in the call to be transferred,
/// then the NOTIFYs of the implicit subscription, which say how the transferred party's call
/// to the target went. The call reports one ``UserAgentEvent/transferEnded(_:status:)``:
/// the REFER's refusal, or the final status a NOTIFY carries.
extension SIPCall {
    /// Asks the far end to call `target` (a URI, with `?Replaces=` for an attended transfer).
    public mutating func refer(to target: String, context ctx: CallContext) -> [CallAction] {
        guard case .confirmed = state else { return [.event(.transferEnded(handle, status: 481))] }
        guard !referring else { return [.event(.transferEnded(handle, status: 491))] }
        var m = dialogRequest(.refer, ctx)
        m.add("Refer-To", "<\(target)>")
        if let us = try? NameAddress(localParty), !us.uri.lowercased().contains("anonymous") { m.add("Referred-By", "<\(us.uri)>") }
        m.add("Contact", "<\(ctx.contact)>")
        referring = true
        return [.request(m, .refer, to: dialogDestination(ctx))]
    }

    /// The REFER's final response: 2xx, and the NOTIFYs tell the rest; anything else (or
    /// none: 408) ends the transfer here.
    mutating func referResponse(status: Int) -> [CallAction] {
        guard referring, status >= 200 else { return [] }
        if (200...299).contains(status) { return [] }
        referring = false
        return [.event(.transferEnded(handle, status: status))]
    }

    /// A NOTIFY in the call: the progress of our REFER (`Event: refer`, a sipfrag status
    /// line). Answered 200; a final status, or the subscription's end, ends the transfer.
    /// A NOTIFY for anything else has no subscription here (481, RFC 6665 §4.1.3).
    mutating func notifyReceived(_ m: SIPMessage, from source: SIPNetworkAddress) -> [CallAction] {
        let event = (m["Event"] ?? "").split(separator: ";").first.map { $0.trimmingSpaces().lowercased() }
        guard event == "refer" else { return [respond(m, 489, "Bad Event", headers: [("Allow-Events", "refer")], to: source)] }
        guard referring else { return [respond(m, 481, "Subscription Does Not Exist", to: source)] }
        let ok = respond(m, 200, "OK", to: source)
        let status = Self.sipfragStatus(m.body)
        let terminated = (m["Subscription-State"] ?? "").trimmingSpaces().lowercased().hasPrefix("terminated")
        if let status, status >= 200 {
            referring = false
            return [ok, .event(.transferEnded(handle, status: status))]
        }
        if terminated {
            // Over without a final answer: the far end gave up on it.
            referring = false
            return [ok, .event(.transferEnded(handle, status: 487))]
        }
        return [ok]
    }

    /// The status code of a sipfrag's status line (`SIP/2.0 200 OK`), nil when it is none.
    package static func sipfragStatus(_ body: [UInt8]) -> Int? {
        let firstLine = body.prefix(200).split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        let fields = String(decoding: firstLine, as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].trimmingSpaces().uppercased() == "SIP/2.0", fields[1].count == 3,
              let code = Int(fields[1]), (100...699).contains(code) else { return nil }
        return code
    }

    /// Where a transfer to this call's far end should point: the party as dialled or as
    /// reached (blind), or its address of record with this dialog to replace (attended; the
    /// tags as the target sees them: its own as `to-tag`, RFC 3891 §3).
    public func transferTarget(attended: Bool) -> String? {
        let party = redirectedTo ?? (try? NameAddress(remoteParty))?.uri
        guard let party, !party.contains("?") else { return nil }
        guard attended else { return party }
        guard let remoteTag, case .confirmed = state else { return nil }
        let replaces = "\(callID);to-tag=\(remoteTag);from-tag=\(localTag)"
        return party + "?Replaces=" + SIPURI.escapeHeaderValue(replaces)
    }
}
