public import TipRingCore
public import SystemCalls

/// The control plane: the one serial executor every port's state machines, SIP transactions
/// and timers run on (its ``Scheduler``), as seen from outside it — the daemon's start-up and
/// reload, the demo, the tests. ``sync(_:)`` runs a body there and waits for its result;
/// ``advance(by:)`` lets time pass: the wall clock's, or virtual time in tests.
public protocol ControlPlane {
    var scheduler: any Scheduler { get }
    /// Lets time pass.
    func advance(by d: Duration)
    /// Runs `body` where the system lives (the scheduler's thread) and returns its result.
    func sync<T>(_ body: @escaping () -> T) -> T
}

extension ControlPlane {
    /// Lets time pass in 50 ms steps until `condition` (checked where the system lives) holds,
    /// at most `seconds`; whether it held.
    @discardableResult
    public func wait(upTo seconds: Double, until condition: @escaping () -> Bool) -> Bool {
        var left = Int64(seconds * 1000)
        while left > 0 {
            if sync(condition) { return true }
            advance(by: .milliseconds(50))
            left -= 50
        }
        return sync(condition)
    }
}

/// Virtual time: `advance` runs the scheduler's timers up to the new time at once.
public final class VirtualControlPlane: ControlPlane {
    let virtual: VirtualScheduler
    public var scheduler: any Scheduler { virtual }
    public init(_ s: VirtualScheduler) { virtual = s }
    public func advance(by d: Duration) { virtual.run(until: virtual.now + d) }
    public func sync<T>(_ body: @escaping () -> T) -> T { body() }
}

/// The wall clock: the scheduler runs on its own thread; `sync` hops onto it.
public final class WallClockControlPlane: ControlPlane, @unchecked Sendable {
    let wall: WallClockScheduler
    let lock = ConditionLock()
    public var scheduler: any Scheduler { wall }
    public init(_ s: WallClockScheduler) { wall = s }
    public func advance(by d: Duration) {
        let until = Instant.monotonicNow() + d
        lock.withLock { while Instant.monotonicNow() < until { lock.wait(until: until) } }
    }

    final class Box<T>: @unchecked Sendable {
        var value: T?
        let body: () -> T
        init(_ body: @escaping () -> T) { self.body = body }
    }

    public func sync<T>(_ body: @escaping () -> T) -> T {
        let box = Box(body)
        let lock = self.lock
        wall.execute {
            let v = box.body()
            lock.withLock { box.value = v; lock.broadcast() }
        }
        return lock.withLock {
            while box.value == nil { lock.wait(until: nil) }
            return box.value!
        }
    }
}
