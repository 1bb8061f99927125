public import SIPCore

/// Forwarding by a new call (`forwardBy: invite`), for carriers that refuse a 302: the
/// incoming call is left ringing at its caller while the port calls the forward target
/// itself; when the target answers, the incoming call is answered and the port joins the two
/// (``PortAction/relayMedia(_:_:)``) until either hangs up. If the target cannot be reached,
/// the caller gets its answer (busy, not found…). The handset is not involved: it stays free.
/// One such call at a time; another forward meanwhile goes by 302.
extension PortStateMachine {
    public struct ForwardedCall: Sendable, Hashable {
        /// The call that came in, and ours to the forward target.
        public var incoming: CallHandle
        public var outgoing: CallHandle
        /// The target answered and the two are joined.
        public var joined: Bool
    }

    /// Sends a call to `target` as the port's forwarding method says.
    mutating func forward(_ h: CallHandle, to target: String) -> [PortAction] {
        guard settings.forwardBy == .invite, forwarded == nil else { return [.sip(.redirect(h, target: target))] }
        let outgoing = newCallHandle()
        forwarded = ForwardedCall(incoming: h, outgoing: outgoing, joined: false)
        return [.sip(.invite(outgoing, target: target, withholdIdentity: settings.withholdIdentity))]
    }

    /// What an event about one of the forwarded calls does (nil when it is about neither).
    mutating func forwardedCallEvent(_ event: PortEvent) -> [PortAction]? {
        guard let f = forwarded else { return nil }
        switch event {
        case .answered(f.outgoing) where !f.joined:
            forwarded?.joined = true
            return [.sip(.answer(f.incoming)), .relayMedia(f.incoming, f.outgoing)]
        case .ringing(f.outgoing), .earlyMedia(f.outgoing), .answered(f.outgoing):
            return []  // the caller already hears its own ringback
        case .ended(f.outgoing, let reason):
            forwarded = nil
            guard f.joined else { return [.sip(.reject(f.incoming, status: Self.status(for: reason)))] }
            return [.endRelay, .sip(.hangUp(f.incoming))]
        case .ended(f.incoming, _):
            forwarded = nil
            return (f.joined ? [.endRelay] : []) + [.sip(.hangUp(f.outgoing))]
        case .transferRequested(let h, _) where h == f.incoming || h == f.outgoing:
            return [.sip(.declineTransfer(h))]
        default:
            return nil
        }
    }

    /// The status the caller gets when the forward target could not be reached.
    static func status(for reason: CallEndReason) -> Int {
        switch reason {
        case .failed(let status, _): (400...699).contains(status) ? status : 480
        case .timeout: 408
        case .remoteHangUp, .localHangUp: 480
        }
    }

    /// Both forwarded calls end (the port is disabled).
    mutating func endForwarded() -> [PortAction] {
        guard let f = forwarded else { return [] }
        forwarded = nil
        return (f.joined ? [.endRelay] : []) + [.sip(.hangUp(f.incoming)), .sip(.hangUp(f.outgoing))]
    }
}
