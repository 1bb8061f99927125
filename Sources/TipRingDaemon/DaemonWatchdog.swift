import TipRingCore
import SystemCalls
import Logging

/// Telling the service manager how the daemon is: ready once the ports are up, alive while
/// the control loop and every audio thread make progress (``WatchdogGate``), stopping on the
/// way out. Only when a manager asked (systemd's `NOTIFY_SOCKET`, `WATCHDOG_USEC`).
extension Daemon {
    func notifyReady() {
        let manager = ServiceManager(environment: Configuration.processEnvironment(), pid: ServiceManager.pid)
        serviceManager = manager
        manager.notify("READY=1\nSTATUS=\(ports.count) port(s) on board \(board.name)")
        // Twice per interval, as sd_watchdog_enabled(3) advises: one late check is no restart.
        if let interval = manager.watchdogInterval { checkWatchdog(every: interval / 2) }
    }

    func notifyStopping() {
        serviceManager?.notify("STOPPING=1\nSTATUS=hanging up and unregistering")
    }

    /// On the scheduler: a control loop that is stuck never runs this, so it never pets.
    func checkWatchdog(every interval: Duration) {
        _ = scheduler.schedule(after: interval) { [weak self] in
            guard let self, let manager = self.serviceManager else { return }
            var audio: [Int: WatchdogGate.Audio] = [:]
            for p in self.ports.values {
                audio[p.id] = p.audio.failure != nil ? .failed : p.audioPaused ? .paused : .running(periods: p.engine.periods)
            }
            let (pet, stalled) = self.watchdogGate.check(audio)
            if pet {
                manager.notify("WATCHDOG=1")
            } else {
                self.log.critical("the audio of port(s) \(stalled.map(String.init).joined(separator: ", ")) made no progress for \(interval): not telling the service manager all is well (it restarts the daemon)")
            }
            self.checkWatchdog(every: interval)
        }
    }
}
