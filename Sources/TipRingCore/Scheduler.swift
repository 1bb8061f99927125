/// A handle to a scheduled piece of work, used to cancel it.
public struct TimerHandle: Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// The control plane's clock and executor.
///
/// All port machines, SIP transactions and timers of one process run on one scheduler,
/// one piece of work at a time. Two implementations exist:
/// - ``VirtualScheduler``: time stands still until the test advances it, then jumps from
///   deadline to deadline — an hour of line activity runs in milliseconds, and the same
///   seed gives the same run;
/// - ``WallClockScheduler``: a dedicated thread that runs work at its monotonic deadline.
///
/// Contract: `schedule` and `cancel` are called from work running on the scheduler (or,
/// for the virtual scheduler, from the test driving it). Other threads — GPIO edge
/// waiters, audio threads, sockets — hand work over with ``execute(_:)``, which is safe
/// from anywhere.
public protocol Scheduler: AnyObject, Sendable {
    /// The current time on this scheduler's clock.
    var now: Instant { get }

    /// Runs `body` on the scheduler at `deadline` (at once, in order, if it has passed).
    /// Work with equal deadlines runs in the order it was scheduled.
    @discardableResult
    func schedule(at deadline: Instant, _ body: @escaping () -> Void) -> TimerHandle

    /// Cancels scheduled work; cancelling work that already ran is harmless.
    func cancel(_ handle: TimerHandle)

    /// Hands work over from any thread; it runs on the scheduler as soon as possible.
    func execute(_ body: @escaping @Sendable () -> Void)
}

extension Scheduler {
    /// Runs `body` after `delay` from now.
    @discardableResult
    public func schedule(after delay: Duration, _ body: @escaping () -> Void) -> TimerHandle {
        schedule(at: now + delay, body)
    }
}

/// The queue of timed work both schedulers share: a binary min-heap ordered by
/// (deadline, sequence number), so equal deadlines keep their scheduling order.
package struct TimerQueue {
    package struct Entry {
        package var deadline: Instant
        package var sequence: UInt64
        package var body: () -> Void
    }

    private var heap: [Entry] = []
    private var cancelled: Set<UInt64> = []
    private var nextSequence: UInt64 = 1

    package init() {}

    package var isEmpty: Bool { heap.isEmpty }
    package var count: Int { heap.count - cancelled.count }

    package mutating func insert(_ deadline: Instant, _ body: @escaping () -> Void) -> TimerHandle {
        let seq = nextSequence
        nextSequence += 1
        heap.append(Entry(deadline: deadline, sequence: seq, body: body))
        siftUp(heap.count - 1)
        return TimerHandle(rawValue: seq)
    }

    package mutating func cancel(_ handle: TimerHandle) {
        if heap.contains(where: { $0.sequence == handle.rawValue }) {
            cancelled.insert(handle.rawValue)
        }
    }

    /// The earliest live deadline, dropping cancelled entries on the way.
    package mutating func nextDeadline() -> Instant? {
        while let top = heap.first {
            if cancelled.remove(top.sequence) != nil {
                _ = popTop()
                continue
            }
            return top.deadline
        }
        return nil
    }

    /// Removes and returns the earliest live entry if it is due at or before `limit`.
    package mutating func popDue(notAfter limit: Instant) -> Entry? {
        guard let deadline = nextDeadline(), deadline <= limit else { return nil }
        return popTop()
    }

    private mutating func popTop() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return top
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        let x = heap[a], y = heap[b]
        return x.deadline < y.deadline || (x.deadline == y.deadline && x.sequence < y.sequence)
    }

    private mutating func siftUp(_ index: Int) {
        var i = index
        while i > 0 {
            let parent = (i - 1) / 2
            if less(i, parent) {
                heap.swapAt(i, parent)
                i = parent
            } else {
                return
            }
        }
    }

    private mutating func siftDown(_ index: Int) {
        var i = index
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(l, m) { m = l }
            if r < heap.count && less(r, m) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
