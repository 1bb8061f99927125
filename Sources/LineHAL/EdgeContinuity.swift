public import TipRingCore

/// The edges of one input line made whole again after the kernel dropped some. Its buffer of
/// edge events per line is small (16 in Linux): a bouncing hook switch while the daemon was
/// busy can overflow it, and a lost edge would leave the hook decoder believing the wrong
/// level until the next real change. Losses show as a gap in the line's event numbers
/// (libgpiod v2) or, with no numbers (v1), as two edges the same way in a row. Either way
/// the edges delivered alternate again: an edge opposite to the repeated one is put just
/// before it — a break of a nanosecond, which the decoder's debounce swallows — and the
/// loss is counted. A full buffer keeps the oldest edges and drops the newest, so the last
/// edge of a burst is the one most likely lost: once the queue is empty the line's level is
/// read, and a level the delivered edges do not end on is delivered as an edge of its own.
public struct EdgeContinuity: Sendable {
    var last: GPIOEdgeEvent.Edge?
    var lastSequence: UInt64 = 0
    /// Edges known to be lost since the line was requested.
    public private(set) var lost = 0

    public init() {}

    /// The edges to deliver for one event read from the kernel; `sequence` is the line's
    /// event number (0 when the interface has none).
    public mutating func admit(_ e: GPIOEdgeEvent, sequence: UInt64) -> [GPIOEdgeEvent] {
        var missing = 0
        if sequence != 0, lastSequence != 0, sequence > lastSequence &+ 1 {
            missing = Int(clamping: sequence - lastSequence - 1)
        }
        let repeated = last == e.edge
        if repeated { missing = max(missing, 1) }
        lost = lost.addingReportingOverflow(missing).overflow ? Int.max : lost + missing
        last = e.edge
        if sequence != 0 { lastSequence = sequence }
        guard repeated else { return [e] }
        let between = GPIOEdgeEvent(offset: e.offset, edge: e.edge == .rising ? .falling : .rising, timestamp: e.timestamp - .nanoseconds(1))
        return [between, e]
    }

    /// The queue is empty and the line reads `level`: the edge that brings the delivered
    /// edges to it, if they end elsewhere (nil when they agree, or nothing was delivered yet).
    public mutating func settled(at level: GPIOLevel, offset: UInt32, now: Instant) -> GPIOEdgeEvent? {
        guard let last, (last == .rising ? GPIOLevel.high : .low) != level else { return nil }
        lost = lost == Int.max ? lost : lost + 1
        let edge: GPIOEdgeEvent.Edge = level == .high ? .rising : .falling
        self.last = edge
        return GPIOEdgeEvent(offset: offset, edge: edge, timestamp: now)
    }
}
