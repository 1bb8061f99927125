import SIPCore

/// The handset's own transfers and three-way calls, driven by flash and on-hook as analog
/// lines have always done it (Telcordia's "three-way calling" and the ATAs that copy it):
///
/// - In a call, flash holds it and gives the recall dial tone: the handset consults.
/// - Nothing dialled yet (or the number failed), flash goes back to the held call.
/// - The third party still ringing: on-hook transfers the held call to it (blind — the
///   ringing call is cancelled, the held party calls the same number); flash cancels it.
/// - The third party answered: on-hook transfers (attended: REFER with Replaces, so the held
///   party takes over our call with the third); flash joins all three.
/// - Three-way: flash drops the party added last; on-hook transfers or ends both
///   (``PortSettings/conferenceHangUp``).
/// - A transfer the far end refuses (or that fails) rings the handset back with the held
///   call, which lifting takes off hold: nobody is lost.
extension PortStateMachine {
    /// How long a transfer from the port may take to report its end before it is left to the
    /// two parties (a target that rings long; a far end that never sends the final NOTIFY).
    static let transferGiveUp: Duration = .seconds(32)
    /// The special-information tone's three rising tones and a little silence.
    static let failedTransferTone: Duration = .milliseconds(2500)

    /// A three-way call of two calls, the older first: "the party added last" is the newer
    /// call, however the two came to be held and swapped.
    static func conference(_ a: CallHandle, _ b: CallHandle) -> Line {
        a.id <= b.id ? .conference(a, b) : .conference(b, a)
    }

    /// Flash in a call with nobody else: hold it, recall dial tone.
    mutating func consult(holding h: CallHandle) -> [PortAction] {
        consultation = h
        line = .dialTone
        return [.sip(.hold(h)), .connectMedia(nil), .playTone(.dialRecall), .startTimer(.firstDigit, settings.firstDigitTimeout)]
    }

    mutating func consultationFlash(_ held: CallHandle) -> [PortAction] {
        switch line {
        case .connected(let third, nil):
            consultation = nil
            line = Self.conference(held, third)
            return [.sip(.resume(held)), .conferenceMedia(held, third)]
        case .outgoing(let third, _):
            consultation = nil
            line = .connected(held, other: nil)
            return [.stopTone, .sip(.cancel(third)), .sip(.resume(held)), .connectMedia(held)]
        case .dialTone, .collecting, .disconnected, .howler, .lockout, .noService:
            consultation = nil
            line = .connected(held, other: nil)
            return [.stopTone] + cancelLineTimers() + [.sip(.resume(held)), .connectMedia(held)]
        case .idle, .ringing, .recalling, .connected, .conference, .waitingOnly:
            return []
        }
    }

    mutating func consultationOnHook(_ held: CallHandle) -> [PortAction] {
        consultation = nil
        var out: [PortAction] = [.stopTone, .connectMedia(nil)] + cancelLineTimers()
        if settings.reversePolarityOnAnswer { out.append(.setFeed(.forward)) }
        switch line {
        case .outgoing(let third, _):
            line = .idle
            return out + beginTransfer(held, to: third, attended: false) + [.sip(.cancel(third))] + visualIndicator()
        case .connected(let third, nil):
            line = .idle
            return out + beginTransfer(held, to: third, attended: true) + visualIndicator()
        case .idle, .dialTone, .noService, .collecting, .ringing, .recalling, .connected, .conference, .disconnected, .waitingOnly, .howler, .lockout:
            // Nobody to transfer to: the held call rings the handset back.
            line = .recalling(held)
            return out + [.startRinging(nil)]
        }
    }

    mutating func conferenceOnHook(_ first: CallHandle, _ added: CallHandle) -> [PortAction] {
        line = .idle
        var out: [PortAction] = [.connectMedia(nil)]
        if settings.reversePolarityOnAnswer { out.append(.setFeed(.forward)) }
        switch settings.conferenceHangUp {
        case .transfer: out += beginTransfer(first, to: added, attended: true)
        case .end: out += [.sip(.hangUp(first)), .sip(.hangUp(added))]
        }
        return out + visualIndicator()
    }

    /// REFER the held call to the third party. One transfer at a time: one still pending is
    /// left to its parties.
    mutating func beginTransfer(_ held: CallHandle, to third: CallHandle, attended: Bool) -> [PortAction] {
        let earlier = transferDone()
        transfer = PendingTransfer(transferred: held, consulted: attended ? third : nil)
        return earlier + [.sip(.transfer(held, to: third, attended: attended)), .startTimer(.transferGiveUp, Self.transferGiveUp)]
    }

    mutating func transferEnded(_ h: CallHandle, status: Int) -> [PortAction] {
        guard let t = transfer, t.transferred == h else { return [] }
        if (200...299).contains(status) { return transferDone() }
        // Refused or failed: the consulted party is let go, the held one comes back to the
        // handset — rung for, when the handset is down and nothing else is going on.
        transfer = nil
        var out: [PortAction] = [.cancelTimer(.transferGiveUp)] + (t.consulted.map { [.sip(.hangUp($0))] } ?? [])
        if enabled, offHook, case .disconnected(.confirmation) = line {
            // An explicit transfer (R4), the handset still up: the special-information tone says
            // it failed, then the held call is back.
            consultation = h
            return out + [.stopTone] + disconnect(.specialInformation) + [.startTimer(.reconnect, Self.failedTransferTone)]
        }
        guard enabled, !offHook, case .idle = line else { return out + [.sip(.hangUp(h))] }
        line = .recalling(h)
        out.append(.startRinging(nil))
        return out
    }

    /// The transfer is over (done, or left to the parties): our two calls in it end.
    mutating func transferDone() -> [PortAction] {
        guard let t = transfer else { return [] }
        transfer = nil
        return [.cancelTimer(.transferGiveUp), .sip(.hangUp(t.transferred))] + (t.consulted.map { [.sip(.hangUp($0))] } ?? [])
    }

    /// A call that ended while it was held for consultation, being transferred, or the
    /// consulted one: what follows (nil when the call plays no such part).
    mutating func endedInConsultation(_ h: CallHandle) -> [PortAction]? {
        if let t = transfer, t.transferred == h {
            // The transferred party left (after reaching the target, RFC 5589 §6, or not).
            transfer = nil
            return [.cancelTimer(.transferGiveUp)] + (t.consulted.map { [.sip(.hangUp($0))] } ?? [])
        }
        if let t = transfer, t.consulted == h {
            transfer?.consulted = nil  // the target ends the dialog the transfer replaced
            return []
        }
        if consultation == h {
            consultation = nil  // the held party hung up: the consultation goes on as a call
            return []
        }
        if let held = consultation, case .connected(h, nil) = line {
            // The third party hung up: back to the held call.
            consultation = nil
            line = .connected(held, other: nil)
            return [.sip(.resume(held)), .connectMedia(held)]
        }
        return nil
    }
}
