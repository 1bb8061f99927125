import TipRingCore
public import SIPCore

/// RFC 4028 session timers: refreshes, and the end of a session nobody refreshed.
extension SIPUserAgent {
    func startSessionTimer(_ c: Call, response m: SIPMessage) {
        guard let se = m["Session-Expires"] else { return }
        let parts = se.split(separator: ";").map { $0.trimmingSpaces() }
        guard let interval = HeaderNumbers.deltaSeconds(se, in: HeaderNumbers.sessionInterval) else { return }
        let refresher = parts.dropFirst().first { $0.lowercased().hasPrefix("refresher=") }?.dropFirst(10).lowercased() ?? "uac"
        c.sessionInterval = interval
        c.weRefresh = (refresher == "uac") == c.outgoing
        restartSessionTimer(c)
    }

    func restartSessionTimer(_ c: Call) {
        guard c.sessionInterval > 0 else { return }
        let interval = Int64(c.sessionInterval)
        if c.weRefresh {
            schedule("se" + c.callID, after: .seconds(interval / 2)) { [weak self, weak c] in
                guard let self, let c, c.state == .confirmed else { return }
                if c.reinvitePending { return self.restartSessionTimer(c) }
                self.sendReinvite(c)
            }
        } else {
            // No refresh by the end of the interval (less a margin): the session is dead.
            schedule("sx" + c.callID, after: .seconds(interval - min(32, interval / 3))) { [weak self, weak c] in
                guard let self, let c, c.state == .confirmed else { return }
                self.sendBye(c)
                self.finish(c, .timeout)
            }
        }
    }
}
