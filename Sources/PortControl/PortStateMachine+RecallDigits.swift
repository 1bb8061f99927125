import SIPCore

/// Register recall as Europe dials it (ETSI, BT): with two calls on the line, "R" gives the
/// recall tone and the next digit says what to do — 0 refuse the waiting call, 1 end the
/// call in progress and take the other, 2 swap (or take the waiting call), 3 three-way,
/// 4 transfer (connect the two and leave). No digit within five seconds, or another R, and
/// the call in progress comes back. With one call, R works as a flash does anywhere.
extension PortStateMachine {
    static let recallDigitWait: Duration = .seconds(5)

    /// Two calls on the line, one of them talking: what R then a digit is for.
    var twoCallsTalking: Bool {
        switch line {
        case .connected(_, .waiting?), .connected(_, .held?), .conference: true
        case .connected(_, nil): consultation != nil
        default: false
        }
    }

    mutating func recall() -> [PortAction] {
        recallPending = true
        return [.connectMedia(nil), .playTone(.dialRecall), .startTimer(.recallDigit, Self.recallDigitWait)]
    }

    /// The recall given up (timeout, a second R): the call in progress is heard again.
    mutating func recallAbandoned() -> [PortAction] {
        recallPending = false
        return [.cancelTimer(.recallDigit), .stopTone] + mediaOfLine()
    }

    /// The audio the line has now (after a tone, or the recall's silence).
    func mediaOfLine() -> [PortAction] {
        switch line {
        case .connected(let h, _): [.connectMedia(h)]
        case .conference(let a, let b): [.conferenceMedia(a, b)]
        default: []
        }
    }

    mutating func recallDigit(_ d: Character) -> [PortAction] {
        recallPending = false
        let done: [PortAction] = [.cancelTimer(.recallDigit), .stopTone]
        switch (line, d) {
        // A waiting call: refuse it, take it instead, or take it and hold this one.
        case (.connected(let active, .waiting(let w)), "0"):
            line = .connected(active, other: nil)
            return done + [.sip(.reject(w, status: 486)), .connectMedia(active)]
        case (.connected(let active, .waiting(let w)), "1"):
            line = .connected(w, other: nil)
            return done + [.sip(.hangUp(active)), .sip(.answer(w)), .connectMedia(w)]
        case (.connected(let active, .waiting(let w)), "2"):
            line = .connected(w, other: .held(active))
            return done + [.sip(.hold(active)), .sip(.answer(w)), .connectMedia(w)]
        // A held call (swapped to, or consulted from): end this one, swap, join, transfer.
        case (.connected(let active, .held(let o)), "1"):
            line = .connected(o, other: nil)
            return done + [.sip(.hangUp(active)), .sip(.resume(o)), .connectMedia(o)]
        case (.connected(let active, .held(let o)), "2"):
            line = .connected(o, other: .held(active))
            return done + [.sip(.hold(active)), .sip(.resume(o)), .connectMedia(o)]
        case (.connected(let active, .held(let o)), "3"):
            line = Self.conference(o, active)
            return done + [.sip(.resume(o)), .conferenceMedia(o, active)]
        case (.connected(let active, .held(let o)), "4"):
            return done + explicitTransfer(o, to: active)
        case (.connected(let active, nil), _) where consultation != nil:
            guard let held = consultation else { return done + mediaOfLine() }
            switch d {
            case "1":
                consultation = nil
                line = .connected(held, other: nil)
                return done + [.sip(.hangUp(active)), .sip(.resume(held)), .connectMedia(held)]
            case "2":
                consultation = active
                line = .connected(held, other: nil)
                return done + [.sip(.hold(active)), .sip(.resume(held)), .connectMedia(held)]
            case "3":
                consultation = nil
                line = Self.conference(held, active)
                return done + [.sip(.resume(held)), .conferenceMedia(held, active)]
            case "4":
                consultation = nil
                return done + explicitTransfer(held, to: active)
            default:
                return done + mediaOfLine()
            }
        // Three-way: drop the party added last, talk to it privately (the first held), or leave the two together.
        case (.conference(let first, let added), "1"):
            line = .connected(first, other: nil)
            return done + [.sip(.hangUp(added)), .connectMedia(first)]
        case (.conference(let first, let added), "2"):
            consultation = first
            line = .connected(added, other: nil)
            return done + [.sip(.hold(first)), .connectMedia(added)]
        case (.conference(let first, let added), "4"):
            return done + explicitTransfer(first, to: added)
        default:
            return done + mediaOfLine()  // a digit with no meaning here: back to the call
        }
    }

    /// R4: the two calls are connected to each other (REFER with Replaces) and the handset
    /// hears the confirmation tone; if the far end refuses, the special-information tone says
    /// so and the held party is taken back (``reconnectAfterFailedTransfer()``).
    mutating func explicitTransfer(_ held: CallHandle, to other: CallHandle) -> [PortAction] {
        let transfer = beginTransfer(held, to: other, attended: true)
        return transfer + disconnect(.confirmation)
    }

    /// The special-information tone has said that the transfer failed: back to the held call.
    mutating func reconnectAfterFailedTransfer() -> [PortAction] {
        guard let held = consultation, case .disconnected(.specialInformation) = line else { return [] }
        consultation = nil
        line = .connected(held, other: nil)
        return [.stopTone, .cancelTimer(.offHookWarning), .sip(.resume(held)), .connectMedia(held)]
    }
}
