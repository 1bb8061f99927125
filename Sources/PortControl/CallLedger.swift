public import TipRingCore
public import SIPCore

/// One finished call, as a call history keeps it.
public struct CallRecord: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable {
        case incoming, outgoing
    }

    public var handle: CallHandle
    /// When it began (seconds since 1970, the wall clock).
    public var startedAt: Int64
    public var direction: Direction
    /// Who: the number dialled, or the caller's number ("withheld" / "unavailable" when the
    /// network gave none).
    public var peer: String
    public var peerName: String?
    public var answered: Bool
    /// From the start until it was answered (or ended unanswered), and then until it ended.
    public var ringSeconds: Double
    public var talkSeconds: Double
    /// How it ended, in words: "hung up here", "busy", "missed", …
    public var end: String

    public init(handle: CallHandle, startedAt: Int64, direction: Direction, peer: String, peerName: String?, answered: Bool,
                ringSeconds: Double, talkSeconds: Double, end: String) {
        self.handle = handle
        self.startedAt = startedAt
        self.direction = direction
        self.peer = peer
        self.peerName = peerName
        self.answered = answered
        self.ringSeconds = ringSeconds
        self.talkSeconds = talkSeconds
        self.end = end
    }
}

/// Follows each call through a user agent's commands and events and makes its record when
/// it ends. Pure: the times come in with each step.
public struct CallLedger: Sendable {
    struct Open: Sendable {
        var record: CallRecord
        var started: Instant
        var answered: Instant?
    }

    var open: [CallHandle: Open] = [:]
    var order: [CallHandle] = []
    /// A port has two calls at most; a call that never ended (it should not happen) is
    /// forgotten rather than kept for months.
    static let maximumOpen = 8

    public init() {}

    /// A call placed to `target` (the number dialled).
    public mutating func placed(_ h: CallHandle, target: String, wall: Int64, at now: Instant) {
        begin(h, CallRecord(handle: h, startedAt: wall, direction: .outgoing, peer: target, peerName: nil, answered: false,
                            ringSeconds: 0, talkSeconds: 0, end: ""), at: now)
    }

    /// An event from the user agent; the finished record when a call ended.
    public mutating func note(_ event: UserAgentEvent, wall: Int64, at now: Instant) -> CallRecord? {
        switch event {
        case .incomingCall(let h, let caller), .replacingCall(let h, _, let caller):
            let peer: String
            switch caller.availability {
            case .available: peer = caller.number ?? "unknown"
            case .withheld: peer = "withheld"
            case .unavailable: peer = "unavailable"
            }
            begin(h, CallRecord(handle: h, startedAt: wall, direction: .incoming, peer: peer, peerName: caller.name, answered: false,
                                ringSeconds: 0, talkSeconds: 0, end: ""), at: now)
            return nil
        case .answered(let h):
            if open[h]?.answered == nil { open[h]?.answered = now }
            return nil
        case .ended(let h, let reason):
            guard var call = open.removeValue(forKey: h) else { return nil }
            order.removeAll { $0 == h }
            func seconds(_ from: Instant, _ to: Instant) -> Double { max(0, Double((to - from).nanoseconds) / 1e9) }
            call.record.answered = call.answered != nil
            call.record.ringSeconds = seconds(call.started, call.answered ?? now)
            call.record.talkSeconds = call.answered.map { seconds($0, now) } ?? 0
            call.record.end = Self.words(reason, answered: call.answered != nil, direction: call.record.direction)
            return call.record
        case .registration, .ringing, .earlyMedia, .digit, .messageWaiting, .transferRequested, .transferEnded:
            return nil
        }
    }

    /// How a call ended, as a person would say it.
    static func words(_ reason: CallEndReason, answered: Bool, direction: CallRecord.Direction) -> String {
        switch (reason, answered, direction) {
        case (.localHangUp, true, _): "hung up here"
        case (.remoteHangUp, true, _): "hung up by the other side"
        case (.localHangUp, false, .outgoing): "abandoned before an answer"
        case (.localHangUp, false, .incoming): "refused here"
        case (.remoteHangUp, false, .incoming): "missed"
        case (.remoteHangUp, false, .outgoing): "ended by the other side before an answer"
        case (.failed(486, _), _, _), (.failed(600, _), _, _): "busy"
        case (.failed(let status, let text), _, _): "\(status) \(text)"
        case (.timeout, _, _): "no answer from the network"
        }
    }

    mutating func begin(_ h: CallHandle, _ record: CallRecord, at now: Instant) {
        open[h] = Open(record: record, started: now, answered: nil)
        order.append(h)
        while order.count > Self.maximumOpen { open[order.removeFirst()] = nil }
    }
}
