import TipRingCore
import SystemCalls
import SIPTransport
import Logging
import LinuxHAL

/// The status page and its JSON, served from the daemon's own event loop; every answer made
/// on the control plane from the same status the control socket gives.
extension Daemon {
    /// Binds the page's address; one that is taken (another program on the port) is tried
    /// again every 30 s, the reason in the log — the daemon itself runs on without it.
    func startWeb(_ listen: ServerName) async {
        do {
            web = try await WebServer.start(host: listen.host, port: listen.port ?? 8080, group: eventLoops) { [weak self] request, reply in
                guard let self else { return reply(.notFound) }
                self.scheduler.execute { reply(self.answer(request)) }
            }
            log.info("status page on http://\(listen.host.contains(":") ? "[\(listen.host)]" : listen.host):\(web?.port ?? 0)/")
        } catch {
            log.error("the status page could not listen on \(listen): \(error); trying again in 30 s")
            _ = scheduler.schedule(after: .seconds(30)) { [weak self] in
                // Not when a reload has moved the page meanwhile (or taken it away).
                guard let self, self.web == nil, self.configuration.webListen == listen else { return }
                Task { await self.startWeb(listen) }
            }
        }
    }

    /// A reload gave the page another address (or none): the old listener closes first.
    func moveWeb(to listen: ServerName?) async {
        let old = web
        web = nil
        await old?.close()
        if let listen {
            await startWeb(listen)
        } else {
            log.info("the status page is off (no web.listen any more)")
        }
    }

    /// One request (on the control plane): the password first, when the page has one.
    func answer(_ request: WebRequest) -> WebResponse {
        if var access = webAccess {
            let decision = access.check(authorization: request.authorization, method: request.method, uri: request.uri, client: request.client,
                                        now: scheduler.now, newNonce: { SecureRandom.token() + SecureRandom.token() })
            webAccess = access
            switch decision {
            case .allow: break
            case .challenge(let header):
                return WebResponse(status: .unauthorized, contentType: "text/plain; charset=utf-8", body: "the status page needs its password\n",
                                   headers: [("WWW-Authenticate", header)])
            case .tooMany(let seconds):
                return WebResponse(status: .tooManyRequests, contentType: "text/plain; charset=utf-8", body: "too many wrong passwords: wait \(seconds) s\n",
                                   headers: [("Retry-After", "\(seconds)")])
            }
        }
        return page(request.path)
    }

    /// One page (on the control plane).
    func page(_ path: String) -> WebResponse {
        switch path {
        case "/", "/index.html":
            .html(StatusPage.render(statusSnapshot(), calls: callHistory.recent(50), version: "TipRing \(TipRingVersion.number) (\(BuildRevision.text))"))
        case LiveScript.path: .javaScript(LiveScript.source)
        case "/status.json": .json(statusSnapshot().json.rendered + "\n")
        case "/calls.json": .json("[" + callHistory.recent(50).joined(separator: ", ") + "]\n")
        case "/trace":
            .html(StatusPage.trace(sipTrace.render(now: scheduler.now)))
        case "/metrics":
            WebResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8",
                        body: metrics.scrape(statusSnapshot(), xruns: ports.mapValues { ($0.audio as? ALSAAudioPort)?.xrunsRecovered ?? 0 }))
        default: .notFound
        }
    }
}
