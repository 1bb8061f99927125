public import TelephonyDSP
public import SIPCore

/// Calls coming and going: an incoming call (ringing, call waiting, refused), a call that
/// ended (which tone, which other call takes over), and tearing everything down.
extension PortStateMachine {
    mutating func incoming(_ h: CallHandle, _ caller: CallerIdentity) -> [PortAction] {
        guard enabled, registered else { return [.sip(.reject(h, status: 480))] }
        if let number = caller.number, !number.isEmpty { features.lastCaller = number }
        if let target = features.forwards[.always] { return forward(h, to: target) }
        if settings.doNotDisturb || features.doNotDisturb { return [.sip(.reject(h, status: 486))] }
        switch line {
        case .idle where offHook:
            return busy(h)  // never ring a lifted handset
        case .idle:
            line = .ringing(h)
            guard let wait = features.forwards[.noAnswer].map({ _ in features.noAnswerSeconds }) else { return [.startRinging(caller)] }
            forwardTimerArmed = true
            return [.startRinging(caller), .startTimer(.forwardNoAnswer, .seconds(wait))]
        case .connected(let active, nil) where settings.callWaiting && !callWaitingSuppressed && consultation == nil:
            line = .connected(active, other: .waiting(h))
            return [.playTone(.callWaiting)]
        case .connected, .conference, .ringing, .recalling, .dialTone, .noService, .collecting, .outgoing, .disconnected, .waitingOnly, .howler, .lockout:
            return busy(h)
        }
    }

    /// A caller who finds the port busy: sent to the busy forward, else refused (486).
    mutating func busy(_ h: CallHandle) -> [PortAction] {
        guard let target = features.forwards[.busy] else { return [.sip(.reject(h, status: 486))] }
        return forward(h, to: target)
    }

    /// A feature code dialled: a setting changed (and confirmed by tone), or a call placed.
    mutating func perform(_ request: FeatureRequest) -> [PortAction] {
        switch request {
        case .forward(let condition, let target):
            features.forwards[condition] = target
            return confirmed()
        case .cancelAllForwards:
            features.forwards = [:]
            return confirmed()
        case .doNotDisturb(let on):
            features.doNotDisturb = on
            return confirmed()
        case .setSpeedDial(let code, let number):
            features.speedDials[code] = number
            return confirmed()
        case .callWithheld(let number):
            return placeCall(number, withhold: true)
        case .callPresented(let number):
            return placeCall(number, withhold: false)
        case .callWithoutWaiting(let number):
            return placeCall(number, noCallWaiting: true)
        case .returnLastCall:
            guard let number = features.lastCaller else { return disconnect(.specialInformation) }
            return placeCall(number)
        case .redial:
            guard let number = features.lastDialled else { return disconnect(.specialInformation) }
            return placeCall(number)
        }
    }

    /// The far end transfers the call we are talking in: we call its target (ringback, then
    /// the new party) and the far end hears how it goes; it ends the old call itself (RFC
    /// 5589). Only the one call in progress can be transferred: with a second call waiting or
    /// held, or anywhere else, the transfer is declined and the call goes on.
    mutating func transferRequested(_ h: CallHandle, to target: String) -> [PortAction] {
        guard case .connected(h, nil) = line, consultation == nil else { return [.sip(.declineTransfer(h))] }
        let next = newCallHandle()
        line = .outgoing(next, ringback: false)
        transferredFrom = (h, next)
        return [.connectMedia(nil), .sip(.acceptTransfer(h, newCall: next)),
                .sip(.invite(next, target: target, withholdIdentity: settings.withholdIdentity))]
    }

    /// A new call replacing the one we are talking in (the far end's attended transfer): it
    /// is answered and takes the line over, the old call ended — the person at the phone just
    /// hears the new party. Replacing anything else (a held or waiting call, a port not in a
    /// call) is refused.
    mutating func replacingCall(_ h: CallHandle, replaces old: CallHandle) -> [PortAction] {
        guard enabled, case .connected(old, let other) = line else { return [.sip(.reject(h, status: 486))] }
        line = .connected(h, other: other)
        return [.sip(.answer(h)), .connectMedia(h), .sip(.hangUp(old))]
    }

    /// The confirmation tone until on-hook (then the off-hook warning, as after any tone).
    mutating func confirmed() -> [PortAction] {
        [.stopTone] + disconnect(.confirmation)
    }

    mutating func ended(_ h: CallHandle, _ reason: CallEndReason) -> [PortAction] {
        if let t = transferredFrom, t.old == h {
            transferredFrom = nil  // the far end ended the transferred call: nothing to go back to
            return []
        }
        if let out = endedInConsultation(h) { return out }
        switch line {
        case .outgoing(h, _):
            if let t = transferredFrom, t.new == h {
                // The transfer failed: back to the call it came from (its far end takes us back).
                transferredFrom = nil
                line = .connected(t.old, other: nil)
                return [.stopTone, .connectMedia(t.old)]
            }
            return [.stopTone] + disconnect(Self.tone(for: reason))
        case .ringing(h):
            // The caller gave up (or a held call's far end hung up while re-ringing).
            line = .idle
            return [.stopRinging] + visualIndicator()
        case .connected(h, let other):
            var out: [PortAction] = []
            if settings.reversePolarityOnAnswer { out.append(.setFeed(.forward)) }
            switch other {
            case nil:
                return out + disconnect(.busy)
            case .held(let o):
                // The active far end hung up: go back to the held call.
                line = .connected(o, other: nil)
                return out + [.sip(.resume(o)), .connectMedia(o)]
            case .waiting(let w):
                // Nobody on the line but a waiting caller: flash takes it, on-hook rings for it.
                line = .waitingOnly(w)
                return out + [.connectMedia(nil), .playTone(.callWaiting)]
            }
        case .connected(let active, .waiting(h)):
            line = .connected(active, other: nil)
            return [.stopTone]
        case .connected(let active, .held(h)):
            line = .connected(active, other: nil)
            return []
        case .recalling(h):
            line = .idle
            return [.stopRinging] + visualIndicator()
        case .conference(let a, let b) where h == a || h == b:
            // One of the three left: the other two go on talking.
            let stays = h == a ? b : a
            line = .connected(stays, other: nil)
            return [.connectMedia(stays)]
        case .waitingOnly(h):
            return [.stopTone] + disconnect(.busy)
        case .idle, .dialTone, .noService, .collecting, .outgoing, .ringing, .recalling, .connected, .conference, .disconnected, .waitingOnly,
             .howler, .lockout:
            return []
        }
    }

    /// The tone a failed outgoing call leaves on the line.
    public static func tone(for reason: CallEndReason) -> ToneKind {
        switch reason {
        case .failed(let status, _):
            switch status {
            case 486, 600: return .busy
            case 404, 410, 484, 604: return .specialInformation
            default: return .congestion
            }
        case .timeout: return .congestion
        case .remoteHangUp, .localHangUp: return .busy
        }
    }

    mutating func teardown() -> [PortAction] {
        recallPending = false
        var out: [PortAction] = [.stopTone, .connectMedia(nil)] + cancelLineTimers()
        if let t = transferredFrom {
            transferredFrom = nil
            out.append(.sip(.hangUp(t.old)))
        }
        if let held = consultation {
            consultation = nil
            out.append(.sip(.hangUp(held)))
        }
        if transfer != nil { out += transferDone() }
        out += endForwarded()
        switch line {
        case .outgoing(let h, _): out.append(.sip(.cancel(h)))
        case .ringing(let h): out += [.stopRinging, .sip(.reject(h, status: 480))]
        case .recalling(let h): out += [.stopRinging, .sip(.hangUp(h))]
        case .conference(let a, let b): out += [.sip(.hangUp(a)), .sip(.hangUp(b))]
        case .connected(let h, let other):
            out.append(.sip(.hangUp(h)))
            switch other {
            case .held(let o): out.append(.sip(.hangUp(o)))
            case .waiting(let o): out.append(.sip(.reject(o, status: 480)))
            case nil: break
            }
        case .waitingOnly(let w): out.append(.sip(.reject(w, status: 480)))
        case .idle, .dialTone, .noService, .collecting, .disconnected, .howler, .lockout: break
        }
        return out
    }

    func cancelLineTimers() -> [PortAction] {
        [.cancelTimer(.firstDigit), .cancelTimer(.interDigit), .cancelTimer(.offHookWarning), .cancelTimer(.howler), .cancelTimer(.autoDial)]
    }

    /// Back on-hook and idle: bring the message-waiting lamp up to date (it cannot change
    /// while the handset is off-hook).
    mutating func visualIndicator() -> [PortAction] {
        guard settings.visualMessageWaiting, enabled, lampShown != messagesWaiting else { return [] }
        lampShown = messagesWaiting
        return [.sendMessageWaiting(messagesWaiting)]
    }
}
