import TipRingCore
import LineHAL
import PortAudio
import PortStack
import Logging

/// A port's hardware that failed and is being brought back.
struct HardwareFault: Sendable {
    enum Part: String, Sendable { case audio, gpio }
    var part: Part
    /// What failed, as the status shows it (`audio: …`, `gpio: …`).
    var reason: String
    /// Attempts to reopen that failed so far.
    var failures: Int
    var retryAt: Instant
    /// The port was in service when the fault came: it goes back into service after it.
    var wasEnabled: Bool
}

/// Sound devices and GPIO lines that fail: noticed within a second, the port taken out of
/// service (its calls ended with BYE — a call nobody can hear, or a phone whose hook cannot be
/// seen, is worse than none — and its account unregistered, so that callers are told the line
/// is unavailable instead of ringing a dead phone), the device opened (the lines requested)
/// again with back-off (1 s, doubling to a minute), and the port back in service once it
/// works. The other ports carry on throughout.
extension Daemon {
    static let hardwareCheck = Duration.seconds(1)
    static let hardwareRetryCeiling = Duration.seconds(60)

    /// Every second, on the control plane.
    func superviseHardware() {
        _ = scheduler.schedule(after: Daemon.hardwareCheck) { [weak self] in
            guard let self else { return }
            for p in self.ports.values.sorted(by: { $0.id < $1.id }) {
                if p.fault == nil, let reason = p.line.failure { self.failed(p, .gpio, reason: reason) }
                if p.fault == nil, let reason = p.audio.failure { self.failed(p, .audio, reason: reason) }
                if let f = p.fault, self.scheduler.now >= f.retryAt { self.reopen(p) }
            }
            self.superviseHardware()
        }
    }

    func failed(_ p: Port, _ part: HardwareFault.Part, reason: String) {
        let enabled = p.controller?.machine.enabled ?? false
        p.fault = HardwareFault(part: part, reason: "\(part): \(reason)", failures: 0, retryAt: scheduler.now + Daemon.hardwareCheck, wasEnabled: enabled)
        let busy = isBusy(p)
        let what = part == .audio ? "the sound device works" : "its GPIO lines work"
        log.error("port \(p.id): \(part): \(reason) — \(busy ? "its call ended, " : "")out of service until \(what) again",
                  metadata: ["port.id": "\(p.id)"])
        if enabled { p.controller?.handle(.disable) }
    }

    func reopen(_ p: Port) {
        guard var fault = p.fault else { return }
        do {
            switch fault.part {
            case .audio: try reopenAudio(p)
            case .gpio: try p.line.restart()
            }
        } catch {
            fault.failures += 1
            var wait = Daemon.hardwareCheck
            for _ in 1..<min(fault.failures, 8) { wait = wait * 2 }
            wait = min(wait, Daemon.hardwareRetryCeiling)
            fault.retryAt = scheduler.now + wait
            fault.reason = "\(fault.part): \(error)"
            p.fault = fault
            log.error("port \(p.id): \(fault.part == .audio ? "the sound device did not open" : "its GPIO lines could not be requested") again (\(error)); next try in \(wait.nanoseconds / 1_000_000_000) s",
                      metadata: ["port.id": "\(p.id)"])
            return
        }
        p.fault = nil
        log.notice("port \(p.id): \(fault.part == .audio ? "the sound device runs" : "its GPIO lines work") again after \(fault.failures + 1) attempt(s)\(fault.wasEnabled ? "; back in service" : "")",
                   metadata: ["port.id": "\(p.id)"])
        if fault.wasEnabled { p.controller?.handle(.enable) }
    }

    /// The failed device is closed before it is opened again (it may be the same one).
    func reopenAudio(_ p: Port) throws {
        guard let backend, let description = board.port(p.id) else { return }
        p.audio.stop()
        p.audio = UnavailableAudioPort(name: description.audio.device, format: description.audio.format, reason: p.fault?.reason ?? "reopening")
        do {
            p.audio = try PortStack.startAudio(description, backend: backend, engine: p.engine)
        } catch {
            p.audio = UnavailableAudioPort(name: description.audio.device, format: description.audio.format, reason: "\(error)")
            throw error
        }
    }
}
