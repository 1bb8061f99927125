public import TipRingCore
import CTipRingSys

/// A thread of our own (a blocking accept loop, a connection), for the few places that must
/// block outside the schedulers.
public final class SystemThread: @unchecked Sendable {
    private let threadID: UInt64
    private var joined = false

    private init(id: UInt64) { threadID = id }

    /// Starts `body` on a new thread that ``join()`` waits for.
    public static func start(_ body: @escaping @Sendable () -> Void) throws(SystemError) -> SystemThread {
        SystemThread(id: try launch(body, detached: false))
    }

    /// Starts `body` on a thread nobody waits for.
    public static func detach(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        _ = try launch(body, detached: true)
    }

    private static func launch(_ body: @escaping @Sendable () -> Void, detached: Bool) throws(SystemError) -> UInt64 {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var id: UInt64 = 0
        let rc = tr_thread_start({ raw in
            guard let raw else { return }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
        }, box, detached ? 1 : 0, &id)
        if rc != 0 {
            Unmanaged<Body>.fromOpaque(box).release()
            throw SystemError(call: "pthread_create", subject: "thread", errno: -rc)
        }
        return id
    }

    /// The calling thread's identity.
    public static var currentID: UInt64 { tr_thread_self() }

    /// This thread's identity.
    public var id: UInt64 { threadID }

    /// Waits for the thread to finish (once).
    public func join() {
        guard !joined else { return }
        joined = true
        _ = tr_thread_join(threadID)
    }

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
