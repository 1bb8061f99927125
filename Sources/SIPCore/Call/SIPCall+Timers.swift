/// The call's timers: retransmissions until the far end confirms, and RFC 4028 session timers.
extension SIPCall {
    /// A timer the call started has fired.
    public mutating func timerFired(_ timer: CallTimer, context ctx: CallContext) -> [CallAction] {
        switch timer {
        case .okRetransmit: return retransmitOK(ctx)
        case .reliableProvisional: return retransmitReliableProvisional(ctx)
        case .sessionRefresh:
            guard case .confirmed(let e) = state else { return [] }
            return e.reinvitePending ? restartSessionTimer() : [reinviteRequest(ctx)]
        case .sessionExpiry:
            guard case .confirmed = state else { return [] }
            return [bye(ctx)] + finish(.timeout)
        case .glareRetry:
            guard case .confirmed = state else { return [] }
            return [reinviteRequest(ctx)]
        case .cancelGiveUp:
            guard case .outgoing(let a) = state, a.cancelled else { return [] }
            return finish(.localHangUp)
        }
    }

    /// Our 2xx again, at T1 doubling up to T2, for 64·T1 in all (RFC 3261 §13.3.1.4); no ACK
    /// by then ends a new call (a re-INVITE's 2xx is just given up).
    mutating func retransmitOK(_ ctx: CallContext) -> [CallAction] {
        guard case .confirmed(var e) = state, var ok = e.unacknowledged else { return [] }
        ok.elapsed += ok.interval
        if ok.elapsed >= ctx.timers.t1 * 64 {
            e.unacknowledged = nil
            state = .confirmed(e)
            return ok.initial ? [bye(ctx)] + finish(.timeout) : []
        }
        ok.interval = min(ok.interval * 2, ctx.timers.t2)
        e.unacknowledged = ok
        state = .confirmed(e)
        return [.transmit(ok.response, to: destination), .startTimer(.okRetransmit, after: ok.interval)]
    }

    /// Our reliable 180 again, at T1 doubling, until the PRACK or 64·T1 (RFC 3262 §3).
    mutating func retransmitReliableProvisional(_ ctx: CallContext) -> [CallAction] {
        guard case .incoming(var r) = state, let response = r.reliable180, r.rseqInterval < ctx.timers.t1 * 64 else { return [] }
        r.rseqInterval = r.rseqInterval * 2
        state = .incoming(r)
        return [.transmit(response, to: destination), .startTimer(.reliableProvisional, after: r.rseqInterval)]
    }

    /// The session timer a 2xx to our INVITE agreed (RFC 4028 §7.2).
    mutating func startSessionTimer(response m: SIPMessage) -> [CallAction] {
        guard let se = m["Session-Expires"], let interval = HeaderNumbers.deltaSeconds(se, in: HeaderNumbers.sessionInterval) else { return [] }
        let parts = se.split(separator: ";").map { $0.trimmingSpaces() }
        let refresher = parts.dropFirst().first { $0.lowercased().hasPrefix("refresher=") }?.dropFirst(10).lowercased() ?? "uac"
        sessionInterval = interval
        weRefresh = (refresher == "uac") == outgoing
        return restartSessionTimer()
    }

    /// The session was just refreshed: the refresher refreshes at half the interval; the other
    /// side gives up at the interval less a margin (RFC 4028 §10).
    func restartSessionTimer() -> [CallAction] {
        guard sessionInterval > 0 else { return [] }
        let interval = Int64(sessionInterval)
        if weRefresh {
            return [.cancelTimer(.sessionExpiry), .startTimer(.sessionRefresh, after: .seconds(interval / 2))]
        }
        return [.cancelTimer(.sessionRefresh), .startTimer(.sessionExpiry, after: .seconds(interval - min(32, interval / 3)))]
    }
}
