import TipRingCore
import SIPCore
import SIPTransport
import PortControl
import PortStack
import Logging

/// Why an account is not attached yet and when it is tried again.
struct AttachRetry: Sendable {
    /// Consecutive failures, this one included.
    var failures: Int
    var at: Instant
    var reason: String
}

/// Attaching a port's account to the network — at start, after a reload, and again and again
/// after a failure, with RFC 5626's back-off — so that a registrar that does not resolve when
/// the router boots (the modem has not attached yet) never leaves a port dead.
extension Daemon {
    /// Starts making the port's endpoint off the service loop; its result comes back as an
    /// ``Event/attached(port:generation:_:)``.
    func beginAttach(_ p: Port) {
        guard let a = configuration.account(port: p.id) else { return }
        let settings = registrationSettings(a, port: p.id)
        let (id, seed, generation, group, scheduler) = (p.id, p.seed, clock.sync { p.generation }, eventLoops, self.scheduler)
        let events = self.events.continuation
        let task = Task {
            let result: Result<any AccountEndpoint, any Error>
            do {
                result = .success(try await Daemon.makeEndpoint(a, settings: settings, seed: seed, group: group, scheduler: scheduler))
            } catch {
                result = .failure(error)
            }
            if case .success(let endpoint) = result, Task.isCancelled {
                await endpoint.close()
                return
            }
            events.yield(.attached(port: id, generation: generation, result))
        }
        clock.sync {
            p.attachTask?.cancel()
            p.attachTask = task
        }
    }

    /// An endpoint made (the port goes into service) or not (tried again later). A result for
    /// an older generation of the port (a reload came in between) is thrown away.
    func attached(_ id: Int, generation: UInt64, _ result: Result<any AccountEndpoint, any Error>) async {
        guard let p = ports[id], let a = configuration.account(port: id),
              clock.sync({ p.generation == generation && p.endpoint == nil }) else {
            if case .success(let endpoint) = result { await endpoint.close() }
            return
        }
        clock.sync {
            p.attachTask = nil
            p.attachParked = false
        }
        switch result {
        case .success(let endpoint) where clock.sync({ self.isBusy(p) }):
            // The handset is up (hearing the no-service tone): the account's controller takes
            // over once the line is idle again — never under someone's ear.
            let events = self.events.continuation
            // Handed back every second (an endpoint of an older generation, after a reload,
            // is closed there).
            _ = scheduler.schedule(after: .seconds(1)) {
                events.yield(.attached(port: id, generation: generation, .success(endpoint)))
            }
            clock.sync { p.attachParked = true }
        case .success(let endpoint):
            if let retry = clock.sync({ p.attachRetry }) {
                log.notice("port \(id): \(a.registrar) reached after \(retry.failures) failed attempt(s)", metadata: ["port.id": "\(id)"])
            }
            if let security = endpoint.security {
                let took = (endpoint as? TCPAccountEndpoint)?.setupMilliseconds.map { " in \($0) ms" } ?? ""
                log.info("port \(id): \(security) to \(endpoint.agent.server)\(took), its certificate checked", metadata: ["port.id": "\(id)"])
            }
            wire(a, endpoint: endpoint, to: p)
            clock.sync {
                p.attachRetry = nil
                p.lastError = nil
                if !a.enabled {
                    p.controller?.handle(.powerOn)
                } else if p.recovery.fault != nil {
                    p.recovery.wantService()  // in service once its hardware is back
                } else {
                    p.controller?.handle(.enable)
                }
                p.endpoint?.startWatching()
            }
        case .failure(let error as CancellationError):
            _ = error
        case .failure(let error):
            scheduleAttachRetry(p, account: a, reason: "\(error)")
        }
    }

    /// Until the account attaches, a fed line whose controller cannot register: a lifted
    /// handset hears the no-service tone (on the control plane).
    func installUnattached(_ p: Port) {
        guard p.controller == nil, let a = configuration.account(port: p.id), a.enabled else { return }
        let (plan, settings) = portSettings(p.id)
        let parts = PortStack.wireUnattached(id: p.id, line: p.line, engine: p.engine, plan: plan, scheduler: scheduler, portSettings: settings)
        let log = self.log
        parts.controller.onLog = { text in log.info("\(text)", metadata: ["port.id": "\(p.id)"]) }
        p.hardware = parts.hardware
        runAudioOnDemand(p, parts.hardware)
        p.controller = parts.controller
        if p.recovery.fault == nil { parts.controller.handle(.enable) } else { p.recovery.wantService() }
    }

    /// The stand-in's parts go (the line idle: its feed stays as it is for the account's).
    func removeUnattached(_ p: Port) {
        guard p.endpoint == nil, let h = p.hardware else { return }
        p.engine.removeConsumer(h.keypad)
        p.hardware = nil
        p.controller = nil
    }

    /// RFC 5626 §4.5's wait (the account's `retryBase`, capped by `retryMax`, 50–100 % at
    /// random), shown in the status as `retrying in N s (reason)`.
    func scheduleAttachRetry(_ p: Port, account a: AccountConfiguration, reason: String) {
        let (retry, generation) = clock.sync { () -> (AttachRetry, UInt64) in
            let failures = (p.attachRetry?.failures ?? 0) + 1
            var random = SeededRandom(seed: p.seed &+ UInt64(failures))
            let wait = FlowRecoveryBackoff.wait(failures: failures, base: .seconds(Int64(a.retryBase)), ceiling: .seconds(Int64(a.retryMax)),
                                                unit: random.unit())
            let retry = AttachRetry(failures: failures, at: self.scheduler.now + wait, reason: reason)
            p.attachRetry = retry
            p.lastError = reason
            return (retry, p.generation)
        }
        let seconds = max(0, (retry.at - scheduler.now).nanoseconds / 1_000_000_000)
        log.error("port \(p.id): cannot reach \(a.registrar): \(reason); trying again in \(seconds) s", metadata: ["port.id": "\(p.id)"])
        let events = self.events.continuation
        _ = scheduler.schedule(at: retry.at) { [weak p] in
            guard let p, p.generation == generation, p.endpoint == nil else { return }
            events.yield(.retryAttach(port: p.id, generation: generation))
        }
    }

    /// The retry's time has come (and nothing newer has attached the port meanwhile).
    func retryAttach(_ id: Int, generation: UInt64) {
        guard let p = ports[id], clock.sync({ p.generation == generation && p.endpoint == nil && p.attachTask == nil }) else { return }
        beginAttach(p)
    }

    /// Shutting down: attachments in progress are abandoned (a DNS look-up does not hold up
    /// SIGTERM) and waited for — each closes what it made.
    func abandonAttachments() async {
        let tasks = clock.sync { self.ports.values.compactMap { p -> Task<Void, Never>? in
            defer { p.attachTask = nil }
            p.attachTask?.cancel()
            return p.attachTask
        } }
        for t in tasks { await t.value }
    }
}
