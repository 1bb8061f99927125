public import TipRingCore

/// Transaction timer values (RFC 3261 §17, table 4).
public struct TransactionTimers: Sendable, Hashable {
    /// Round-trip estimate.
    public var t1: Duration = .milliseconds(500)
    /// Longest retransmit interval for non-INVITE requests and INVITE responses.
    public var t2: Duration = .seconds(4)
    /// How long the network may hold a message.
    public var t4: Duration = .seconds(5)
    public init(t1: Duration = .milliseconds(500), t2: Duration = .seconds(4), t4: Duration = .seconds(5)) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
    }
}

/// The timers of RFC 3261 §17 by letter.
public enum TransactionTimer: String, Sendable, Hashable, CaseIterable {
    case a = "A", b = "B", d = "D", e = "E", f = "F", g = "G", h = "H", i = "I", j = "J", k = "K"
}

/// What a transaction asks of the layer that runs it.
public enum TransactionAction: Sendable, Hashable {
    /// Put this message on the wire (to the transaction's peer).
    case send(SIPMessage)
    /// Hand this message to the transaction user (a response for a client transaction, a
    /// request for a server one).
    case deliver(SIPMessage)
    /// No final response came in time (timer B or F) — or no ACK (timer H).
    case timeout
    case startTimer(TransactionTimer, at: Instant)
    case cancelTimer(TransactionTimer)
    /// The transaction is over; forget it.
    case terminated
}

/// A client transaction (RFC 3261 §17.1): INVITE or non-INVITE, over a reliable or an
/// unreliable transport. Sans-IO: feed it events with the time, execute its actions.
public struct ClientTransaction: Sendable {
    public enum State: Sendable, Hashable { case calling, trying, proceeding, completed, terminated }

    public let request: SIPMessage
    public let branch: String
    public let reliable: Bool
    public let timers: TransactionTimers
    public private(set) var state: State
    var retransmitInterval: Duration
    var isInvite: Bool { request.method == .invite }

    public init(request: SIPMessage, reliable: Bool, timers: TransactionTimers = TransactionTimers()) throws(SIPParseError) {
        guard request.isRequest, request.method != .ack else { throw SIPParseError("a client transaction needs a request other than ACK") }
        guard let via = request["Via"], let branch = try Via(via).branch, branch.hasPrefix("z9hG4bK") else {
            throw SIPParseError("the request's top Via needs an RFC 3261 branch (z9hG4bK…)")
        }
        self.request = request
        self.branch = branch
        self.reliable = reliable
        self.timers = timers
        state = request.method == .invite ? .calling : .trying
        retransmitInterval = timers.t1
    }

    /// Sends the request and starts the timers.
    public mutating func start(now: Instant) -> [TransactionAction] {
        var out: [TransactionAction] = [.send(request)]
        if isInvite {
            if !reliable { out.append(.startTimer(.a, at: now + timers.t1)) }
            out.append(.startTimer(.b, at: now + timers.t1 * 64))
        } else {
            if !reliable { out.append(.startTimer(.e, at: now + timers.t1)) }
            out.append(.startTimer(.f, at: now + timers.t1 * 64))
        }
        return out
    }

    /// A response matched to this transaction.
    public mutating func receive(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        guard let status = response.status else { return [] }
        switch (isInvite, state, status) {
        case (true, .calling, 100...199), (true, .proceeding, 100...199):
            let wasCalling = state == .calling
            state = .proceeding
            // Timer B guards only "Calling" (RFC 3261 §17.1.1.2): a call that rings stays up until
            // a final response or our CANCEL — a caller that timed out here would leave the
            // callee ringing with nobody to answer.
            return (wasCalling ? [.cancelTimer(.a), .cancelTimer(.b)] : []) + [.deliver(response)]
        case (true, .calling, 200...299), (true, .proceeding, 200...299):
            // The TU acknowledges 2xx itself (the ACK is its own transaction-less request).
            state = .terminated
            return [.cancelTimer(.a), .cancelTimer(.b), .deliver(response), .terminated]
        case (true, .calling, 300...699), (true, .proceeding, 300...699):
            state = .completed
            var out: [TransactionAction] = [.cancelTimer(.a), .cancelTimer(.b), .send(ack(for: response)), .deliver(response)]
            if reliable {
                state = .terminated
                out.append(.terminated)
            } else {
                out.append(.startTimer(.d, at: now + .seconds(32)))
            }
            return out
        case (true, .completed, 300...699):
            return [.send(ack(for: response))]  // the final response again: ACK again, absorbed
        case (false, .trying, 100...199), (false, .proceeding, 100...199):
            state = .proceeding
            return [.deliver(response)]
        case (false, .trying, 200...699), (false, .proceeding, 200...699):
            state = .completed
            var out: [TransactionAction] = [.cancelTimer(.e), .cancelTimer(.f), .deliver(response)]
            if reliable {
                state = .terminated
                out.append(.terminated)
            } else {
                out.append(.startTimer(.k, at: now + timers.t4))
            }
            return out
        default:
            return []  // late or duplicate responses are absorbed
        }
    }

    public mutating func timer(_ t: TransactionTimer, now: Instant) -> [TransactionAction] {
        switch (t, state) {
        case (.a, .calling):
            retransmitInterval = retransmitInterval * 2
            return [.send(request), .startTimer(.a, at: now + retransmitInterval)]
        case (.b, .calling), (.f, .trying), (.f, .proceeding):
            state = .terminated
            return [.cancelTimer(.a), .cancelTimer(.e), .timeout, .terminated]
        case (.e, .trying):
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            return [.send(request), .startTimer(.e, at: now + retransmitInterval)]
        case (.e, .proceeding):
            return [.send(request), .startTimer(.e, at: now + timers.t2)]
        case (.d, .completed), (.k, .completed):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }

    /// The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): same Request-URI,
    /// Call-ID, From, top Via and CSeq number; To from the response.
    func ack(for response: SIPMessage) -> SIPMessage {
        SIPRequests.derived(.ack, from: request, to: response["To"]) ?? request
    }
}

/// A server transaction (RFC 3261 §17.2).
public struct ServerTransaction: Sendable {
    public enum State: Sendable, Hashable { case trying, proceeding, completed, confirmed, terminated }

    public let request: SIPMessage
    public let branch: String
    public let reliable: Bool
    public let timers: TransactionTimers
    public private(set) var state: State
    var lastResponse: SIPMessage?
    var retransmitInterval: Duration
    var isInvite: Bool { request.method == .invite }

    public init(request: SIPMessage, reliable: Bool, timers: TransactionTimers = TransactionTimers()) throws(SIPParseError) {
        guard request.isRequest, request.method != .ack else { throw SIPParseError("a server transaction needs a request other than ACK") }
        self.request = request
        branch = (try? Via(request["Via"] ?? "").branch) ?? nil ?? ""
        self.reliable = reliable
        self.timers = timers
        state = request.method == .invite ? .proceeding : .trying
        retransmitInterval = timers.t1
    }

    /// The request arrives: the TU gets it; an INVITE is answered 100 Trying at once, so
    /// the client stops retransmitting.
    public mutating func start(now: Instant) -> [TransactionAction] {
        var out: [TransactionAction] = [.deliver(request)]
        if isInvite {
            let trying = SIPResponses.response(to: request, status: 100, reason: "Trying")
            lastResponse = trying
            out.insert(.send(trying), at: 0)
        }
        return out
    }

    /// A retransmission of the request (or, for INVITE, the ACK of a non-2xx).
    public mutating func receive(_ message: SIPMessage, now: Instant) -> [TransactionAction] {
        if message.method == .ack {
            guard isInvite, state == .completed else { return [] }
            state = .confirmed
            var out: [TransactionAction] = [.cancelTimer(.g), .cancelTimer(.h)]
            if reliable {
                state = .terminated
                out.append(.terminated)
            } else {
                out.append(.startTimer(.i, at: now + timers.t4))
            }
            return out
        }
        switch state {
        case .proceeding, .completed:
            return lastResponse.map { [.send($0)] } ?? []
        default:
            return []  // absorbed
        }
    }

    /// The TU answers.
    public mutating func respond(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        guard let status = response.status else { return [] }
        switch (state, status) {
        case (.trying, 100...199), (.proceeding, 100...199):
            state = .proceeding
            lastResponse = response
            return [.send(response)]
        case (.trying, 200...699), (.proceeding, 200...699):
            lastResponse = response
            if isInvite {
                if status < 300 {
                    // 2xx: the TU retransmits it until the ACK (RFC 3261 §13.3.1.4).
                    state = .terminated
                    return [.send(response), .terminated]
                }
                state = .completed
                var out: [TransactionAction] = [.send(response), .startTimer(.h, at: now + timers.t1 * 64)]
                if !reliable { out.append(.startTimer(.g, at: now + timers.t1)) }
                return out
            }
            state = .completed
            if reliable {
                state = .terminated
                return [.send(response), .terminated]
            }
            return [.send(response), .startTimer(.j, at: now + timers.t1 * 64)]
        default:
            return []
        }
    }

    public mutating func timer(_ t: TransactionTimer, now: Instant) -> [TransactionAction] {
        switch (t, state) {
        case (.g, .completed):
            retransmitInterval = min(retransmitInterval * 2, timers.t2)
            return (lastResponse.map { [.send($0)] } ?? []) + [.startTimer(.g, at: now + retransmitInterval)]
        case (.h, .completed):
            state = .terminated
            return [.cancelTimer(.g), .timeout, .terminated]
        case (.i, .confirmed), (.j, .completed):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }
}

/// Building responses.
public enum SIPResponses {
    /// A response to `request` (RFC 3261 §8.2.6): Via, From, To (with `toTag` added when
    /// given and absent), Call-ID and CSeq copied.
    public static func response(to request: SIPMessage, status: Int, reason: String, toTag: String? = nil) -> SIPMessage {
        var m = SIPMessage(startLine: .response(status: status, reason: reason))
        for v in request.values("Via") { m.add("Via", v) }
        if let f = request["From"] { m.add("From", f) }
        if var t = request["To"] {
            if let toTag, (try? NameAddress(t))?.tag == nil { t += ";tag=\(toTag)" }
            m.add("To", t)
        }
        if let c = request["Call-ID"] { m.add("Call-ID", c) }
        if let c = request["CSeq"] { m.add("CSeq", c) }
        return m
    }
}
