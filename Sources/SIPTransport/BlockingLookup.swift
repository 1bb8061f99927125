import TipRingCore
import SystemCalls

/// A look-up that blocks (the C library's resolver waits seconds for a server that does not
/// answer) run on a thread of its own, so that neither the scheduler nor Swift's cooperative
/// threads wait with it. A cancelled caller is answered at once (`CancellationError`): a
/// shutdown never waits for DNS; the thread finishes on its own and its answer is dropped.
enum BlockingLookup {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let answer = Answer<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                answer.wait(continuation)
                do {
                    try SystemThread.detach { answer.give(Result { try body() }) }
                } catch {
                    answer.give(.failure(error))
                }
            }
        } onCancel: {
            answer.give(.failure(CancellationError()))
        }
    }

    /// Whichever comes first — the thread's answer or the cancellation — resumes the caller;
    /// a cancellation that comes before the caller waits is kept for it.
    final class Answer<T: Sendable>: @unchecked Sendable {
        let lock = ConditionLock()
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false

        func wait(_ c: CheckedContinuation<T, any Error>) {
            let ready: Result<T, any Error>? = lock.withLock {
                if let early { done = true; return early }
                continuation = c
                return nil
            }
            if let ready { c.resume(with: ready) }
        }

        func give(_ result: Result<T, any Error>) {
            let c: CheckedContinuation<T, any Error>? = lock.withLock {
                guard !done else { return nil }
                guard let waiting = continuation else {
                    if early == nil { early = result }
                    return nil
                }
                done = true
                continuation = nil
                return waiting
            }
            c?.resume(with: result)
        }
    }
}
