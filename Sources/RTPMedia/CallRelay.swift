public import TipRingCore
public import PortAudio

/// Two calls joined to each other by the port, the handset not part of it (a forward by a new
/// call): each period, what one call's far end said is sent to the other's. The port's audio
/// period is the clock; the handset's own audio is not used. No echo to cancel (no line), no
/// allocation per period.
public final class CallRelay: AudioCaptureConsumer, @unchecked Sendable {
    static let piece = MediaBridge.frame
    let first: MediaBridge, second: MediaBridge
    var fromFirst: [Int16], fromSecond: [Int16]

    public init(_ first: MediaBridge, _ second: MediaBridge) {
        self.first = first
        self.second = second
        first.cancelsEcho = false
        second.cancelsEcho = false
        fromFirst = [Int16](repeating: 0, count: Self.piece)
        fromSecond = fromFirst
    }

    public func consume(_ capture: UnsafeBufferPointer<Int16>, at time: Instant) {
        var offset = 0
        while offset < capture.count {
            let n = min(Self.piece, capture.count - offset)
            fromFirst.withUnsafeMutableBufferPointer { first.render(into: UnsafeMutableBufferPointer(rebasing: $0[0..<n]), at: time) }
            fromSecond.withUnsafeMutableBufferPointer { second.render(into: UnsafeMutableBufferPointer(rebasing: $0[0..<n]), at: time) }
            fromSecond.withUnsafeBufferPointer { first.consume(UnsafeBufferPointer(rebasing: $0[0..<n]), at: time) }
            fromFirst.withUnsafeBufferPointer { second.consume(UnsafeBufferPointer(rebasing: $0[0..<n]), at: time) }
            offset += n
        }
    }
}
