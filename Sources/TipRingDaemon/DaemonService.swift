import ServiceLifecycle
import UnixSignals

/// The daemon as a service: up, SIGHUP reloads until the group shuts down gracefully
/// (SIGTERM, SIGINT), then hang up, unregister and power down.
struct DaemonService: Service {
    let daemon: Daemon
    let socketPath: String?

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // Before anything is opened or registered (and so with nothing to shut down): a second
        // daemon on the same socket would take the lines and the accounts from under the first.
        if let socketPath { try Daemon.holdInstanceLock(socketPath: socketPath) }
        do { try await daemon.start(socketPath: socketPath) } catch {
            await daemon.shutdown()
            throw error
        }
        let daemon = self.daemon
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups { daemon.events.continuation.yield(.reload) }
            }
            for await event in daemon.events.stream.cancelOnGracefulShutdown() {
                switch event {
                case .reload: await daemon.reload()
                case .apply(let port): await daemon.applyPending(port)
                case .attached(let port, let generation, let result): await daemon.attached(port, generation: generation, result)
                case .retryAttach(let port, let generation): daemon.retryAttach(port, generation: generation)
                }
            }
            group.cancelAll()
        }
        daemon.log.info("shutting down: hanging up and unregistering")
        await daemon.shutdown()
    }
}
