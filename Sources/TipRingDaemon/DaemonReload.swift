#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TipRingCore
import LineHAL
import SIPCore
import PortControl
import Logging

/// Reload (SIGHUP) and shutdown: ports taken down and brought up again, one at a time.
extension Daemon {
    /// SIGHUP: the configuration read again and applied port by port. A port whose account
    /// or port section changed is taken down (unregistered) and brought up again with the new
    /// settings — at once when its line is idle, else as soon as it is; a port whose account
    /// is gone is switched off; the other ports are left alone.
    func reload() async {
        let fresh: Configuration
        do {
            fresh = Daemon.withStateDirectory(try Configuration.load(path: configPath), stateDirectoryOverride)
            try fresh.check(against: board)
        } catch {
            log.error("SIGHUP: the configuration was not reloaded (the running one stays): \(error)")
            return
        }
        for w in fresh.warnings { log.warning("\(w)") }
        let old = configuration
        configuration = fresh
        // A new page password applies at once; a new address moves the page.
        if old.webCredentials != fresh.webCredentials { clock.sync { self.webAccess = fresh.webCredentials.map(WebAccess.init(credentials:)) } }
        if old.webListen != fresh.webListen { await moveWeb(to: fresh.webListen) }
        var changed = 0
        for id in ports.keys.sorted() {
            guard let p = ports[id] else { continue }
            let before = old.account(port: id), after = fresh.account(port: id)
            if before == after && old.port(id) == fresh.port(id) { continue }
            changed += 1
            let meta: Logger.Metadata = ["port.id": "\(id)"]
            guard after != nil else {
                log.info("SIGHUP: no account any more: unregistering, line powered down", metadata: meta)
                clock.sync {
                    p.pendingApply = false
                    p.controller?.handle(.disable)
                    p.account?.enabled = false
                }
                continue
            }
            if clock.sync({ self.isBusy(p) }) {
                log.info("SIGHUP: settings changed; the line is in use: they apply when it is idle", metadata: meta)
                clock.sync {
                    p.pendingApply = true
                    self.watchForIdle(p)
                }
                continue
            }
            log.info("SIGHUP: settings changed: re-registering with them", metadata: meta)
            await apply(p)
        }
        if changed == 0 { log.info("SIGHUP: configuration reloaded; nothing changed") }
    }

    /// Off-hook, ringing, in a call: anything but an idle line. On the scheduler.
    func isBusy(_ p: Port) -> Bool {
        p.line.decoder.isOffHook || (p.controller.map { $0.machine.line != .idle } ?? false)
    }

    /// Once a minute (on the scheduler): what each port dropped from the network since the last
    /// line, if anything — a scanner's flood is one line a minute, not one per packet.
    func reportDrops() {
        _ = scheduler.schedule(after: .seconds(60)) { [weak self] in
            guard let self else { return }
            for p in self.ports.values.sorted(by: { $0.id < $1.id }) {
                let now = p.dropped, before = p.droppedLogged
                guard now.total > before.total else { continue }
                p.droppedLogged = now
                let grew = DropCounts.sentence(requests: max(0, now.requests - before.requests), responses: max(0, now.responses - before.responses),
                                               malformed: max(0, now.malformed - before.malformed), media: max(0, now.media - before.media))
                self.log.notice("dropped from the network in the last minute: \(grew)", metadata: ["port.id": "\(p.id)"])
            }
            self.reportDrops()
        }
    }

    /// Checks every second (on the scheduler) whether a port with pending settings is idle.
    func watchForIdle(_ p: Port) {
        _ = scheduler.schedule(after: .seconds(1)) { [weak self] in
            guard let self, p.pendingApply else { return }
            if self.isBusy(p) { self.watchForIdle(p) } else { self.events.continuation.yield(.apply(port: p.id)) }
        }
    }

    /// A port's pending settings, if it is still idle.
    func applyPending(_ id: Int) async {
        guard let p = ports[id], clock.sync({ p.pendingApply && !self.isBusy(p) }) else { return }
        log.info("line idle: applying the new settings", metadata: ["port.id": "\(id)"])
        await apply(p)
    }

    /// Takes a port's account side down (unregistered, bounded wait; endpoint closed) and
    /// attaches it again from the current configuration.
    func apply(_ p: Port) async {
        clock.sync {
            p.pendingApply = false
            p.generation += 1
            p.attachTask?.cancel()
            p.attachTask = nil
            p.attachRetry = nil
        }
        if let controller = p.controller {
            clock.sync {
                p.reloading = true
                controller.handle(.disable)
            }
            clock.wait(upTo: Daemon.unregisterBound) { p.endpoint.map { $0.agent.isIdle } ?? true }
        }
        await p.endpoint?.close()
        clock.sync {
            if let h = p.hardware { p.engine.removeConsumer(h.keypad) }
            p.endpoint = nil
            p.ua = nil
            p.media = nil
            p.controller = nil
            p.hardware = nil
            p.lastError = nil
            p.reloading = false
            p.line.setTimingProfile(self.timingProfile(port: p.id))
        }
        clock.sync { self.installUnattached(p) }
        // Comes back as an `attached` event, which enables the port (or tries again later).
        beginAttach(p)
    }

    // MARK: shutdown

    func shutdown() async {
        clock.sync { self.notifyStopping() }
        await abandonAttachments()
        clock.sync {
            for p in self.ports.values { p.controller?.handle(.disable) }
        }
        // Bounded wait for the unregistrations.
        clock.wait(upTo: Daemon.unregisterBound) { self.ports.values.allSatisfy { $0.endpoint.map { $0.agent.isIdle } ?? true } }
        socket?.close()
        await web?.close()
        clock.sync {
            for p in self.ports.values {
                p.line.setFeed(.powerDown)
                p.line.stop()
                p.audio.stop()
            }
        }
        for p in ports.values { await p.endpoint?.close() }
        try? await eventLoops.shutdownGracefully()
        scheduler.shutdown()
        log.info("stopped")
    }
}
