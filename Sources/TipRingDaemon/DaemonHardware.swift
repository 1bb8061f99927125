import TipRingCore
import LineHAL
import PortAudio
import PortStack
import Logging

/// A port's hardware that failed and is being brought back.
struct HardwareFault: Sendable {
    /// What failed, as the status shows it (`audio: …`).
    var reason: String
    /// Attempts to reopen that failed so far.
    var failures: Int
    var retryAt: Instant
    /// The port was in service when the fault came: it goes back into service after it.
    var wasEnabled: Bool
}

/// Sound devices that fail: noticed within a second, the port taken out of service (its calls
/// ended with BYE — a call nobody can hear is worse than none — and its account unregistered,
/// so that callers are told the line is unavailable instead of ringing a phone with no
/// audio), the device opened again with back-off (1 s, doubling to a minute), and the port
/// back in service once it runs. The other ports carry on throughout.
extension Daemon {
    static let hardwareCheck = Duration.seconds(1)
    static let hardwareRetryCeiling = Duration.seconds(60)

    /// Every second, on the control plane.
    func superviseHardware() {
        _ = scheduler.schedule(after: Daemon.hardwareCheck) { [weak self] in
            guard let self else { return }
            for p in self.ports.values.sorted(by: { $0.id < $1.id }) {
                if p.fault == nil, let reason = p.audio.failure { self.audioFailed(p, reason: reason) }
                if let f = p.fault, self.scheduler.now >= f.retryAt { self.reopenAudio(p) }
            }
            self.superviseHardware()
        }
    }

    func audioFailed(_ p: Port, reason: String) {
        let enabled = p.controller?.machine.enabled ?? false
        p.fault = HardwareFault(reason: "audio: \(reason)", failures: 0, retryAt: scheduler.now + Daemon.hardwareCheck, wasEnabled: enabled)
        let busy = isBusy(p)
        log.error("port \(p.id): audio: \(reason) — \(busy ? "its call ended, " : "")out of service until the sound device is back",
                  metadata: ["port.id": "\(p.id)"])
        if enabled { p.controller?.handle(.disable) }
    }

    func reopenAudio(_ p: Port) {
        guard var fault = p.fault, let backend, let description = board.port(p.id) else { return }
        // The failed device is closed before it is opened again (it may be the same one).
        p.audio.stop()
        p.audio = UnavailableAudioPort(name: description.audio.device, format: description.audio.format, reason: fault.reason)
        do {
            p.audio = try PortStack.startAudio(description, backend: backend, engine: p.engine)
        } catch {
            fault.failures += 1
            var wait = Daemon.hardwareCheck
            for _ in 1..<min(fault.failures, 8) { wait = wait * 2 }
            fault.retryAt = scheduler.now + min(wait, Daemon.hardwareRetryCeiling)
            fault.reason = "audio: \(error)"
            p.fault = fault
            p.audio = UnavailableAudioPort(name: description.audio.device, format: description.audio.format, reason: "\(error)")
            let seconds = min(wait, Daemon.hardwareRetryCeiling).nanoseconds / 1_000_000_000
            log.error("port \(p.id): the sound device did not open again (\(error)); next try in \(seconds) s", metadata: ["port.id": "\(p.id)"])
            return
        }
        p.fault = nil
        log.notice("port \(p.id): the sound device runs again after \(fault.failures + 1) attempt(s)\(fault.wasEnabled ? "; back in service" : "")",
                   metadata: ["port.id": "\(p.id)"])
        if fault.wasEnabled { p.controller?.handle(.enable) }
    }
}
