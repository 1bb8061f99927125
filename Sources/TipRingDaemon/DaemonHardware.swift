import TipRingCore
import LineHAL
import PortAudio
import PortStack
import PortControl
import Logging

/// Sound devices and GPIO lines that fail, as ``HardwareRecovery`` decides for each port:
/// noticed within a second, the port out of service (its calls ended with BYE, its account
/// unregistered), the part opened again with back-off, the port back in service once it
/// works. The other ports carry on throughout.
extension Daemon {
    /// Every second, on the control plane.
    func superviseHardware() {
        _ = scheduler.schedule(after: HardwareRecovery.checkInterval) { [weak self] in
            guard let self else { return }
            for p in self.ports.values.sorted(by: { $0.id < $1.id }) {
                let inService = p.controller?.machine.enabled ?? false
                self.perform(p.recovery.check(now: self.scheduler.now, lineFailure: p.line.failure, audioFailure: p.audio.failure, inService: inService), on: p)
            }
            self.superviseHardware()
        }
    }

    func perform(_ actions: [HardwareRecovery.Action], on p: Port) {
        let meta: Logger.Metadata = ["port.id": "\(p.id)"]
        for action in actions {
            switch action {
            case .takeOutOfService(let f):
                let what = f.part == .audio ? "the sound device works" : "its GPIO lines work"
                log.error("port \(p.id): \(f.reason) — \(isBusy(p) ? "its call ended, " : "")out of service until \(what) again", metadata: meta)
                metrics.fault(port: p.id, part: f.part == .audio ? "audio" : "gpio")
                if f.wantsService { p.controller?.handle(.disable) }
            case .reopen(let part):
                var error: String?
                do {
                    switch part {
                    case .audio: try reopenAudio(p)
                    case .gpio: try p.line.restart()
                    }
                } catch let e {
                    error = "\(e)"
                }
                perform(p.recovery.reopened(now: scheduler.now, error: error), on: p)
            case .stillFailing(let f, let wait):
                let what = f.part == .audio ? "the sound device did not open" : "its GPIO lines could not be requested"
                log.error("port \(p.id): \(what) again (\(f.reason)); next try in \(wait.nanoseconds / 1_000_000_000) s", metadata: meta)
            case .recovered(let f, let attempts):
                let what = f.part == .audio ? "the sound device runs" : "its GPIO lines work"
                log.notice("port \(p.id): \(what) again after \(attempts) attempt(s)\(f.wantsService ? "; back in service" : "")", metadata: meta)
                if f.wantsService && !p.reloading { p.controller?.handle(.enable) }
            }
        }
    }

    /// The failed device is closed before it is opened again (it may be the same one).
    func reopenAudio(_ p: Port) throws {
        guard let backend, let description = board.port(p.id) else { return }
        p.audio.stop()
        p.audio = UnavailableAudioPort(name: description.audio.device, format: description.audio.format, reason: p.recovery.fault?.reason ?? "reopening")
        do {
            p.audio = try PortStack.startAudio(description, backend: backend, engine: p.engine)
            // It opened and ran: that is the check; a line that needs no audio stops it again.
            if p.audioPaused { p.audio.stop() }
        } catch {
            p.audio = UnavailableAudioPort(name: description.audio.device, format: description.audio.format, reason: "\(error)")
            throw error
        }
    }
}

extension Daemon {
    /// The port's sound device runs only while its line needs it (``LinePortHardware/onAudioNeeded``).
    /// A device that will not start again is a fault like any other: the port shows it and
    /// the device is reopened with back-off.
    func runAudioOnDemand(_ p: Port, _ hardware: LinePortHardware) {
        hardware.onAudioNeeded = { [weak p, weak hardware] needed in
            guard let p, let hardware, p.hardware === hardware, needed == p.audioPaused else { return }
            p.audioPaused = !needed
            guard p.audio.failure == nil, !(p.audio is UnavailableAudioPort) else { return }
            if !needed {
                p.audio.stop()
                return
            }
            do {
                try p.audio.start(handler: p.engine)
            } catch {
                p.audio = UnavailableAudioPort(name: p.audio.name, format: p.audio.format, reason: "it would not start again: \(error)")
            }
        }
    }
}
