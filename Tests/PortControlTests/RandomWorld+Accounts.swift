import TipRingCore
import SIPCore
import SIPAgent
import SIPTransport
import PortControl
import PortStack
import BoardSimulator

/// The account part of a port's configuration (what a reload may change).
struct AccountConfig: Equatable {
    var password: String
    var expires = 300
}

/// What a port's endpoint sends on: shut when the endpoint is closed. A retired account's
/// timers may still fire; nothing of it reaches the network.
final class Link {
    var open = true
}

/// What a reload took down, watched without being kept: once the daemon lets go of an
/// account, nothing — no timer, no closure — may keep it (or its controller) alive.
struct Retired {
    weak var agent: AccountAgent?
    weak var ua: SIPUserAgent?
    weak var controller: PortController?

    init(_ account: AttachedAccount, controller: PortController) {
        agent = account.ua.agent
        ua = account.ua
        self.controller = controller
    }

    var alive: [String] {
        (agent == nil ? [] : ["account agent"]) + (ua == nil ? [] : ["user agent"]) + (controller == nil ? [] : ["controller"])
    }
}

/// One port's account as the daemon holds it once attached: its user agent, the link it
/// sends on, the DNS refresh that follows its servers, and the calls it holds an RTP port
/// for (given by `mediaPort`, handed back by the call's last media update — one that
/// outlives its call is a leaked socket pair).
final class AttachedAccount {
    let ua: SIPUserAgent
    let link: Link
    let refresh: ServerRefresh
    var mediaPorts: Set<CallHandle> = []

    init(ua: SIPUserAgent, link: Link, refresh: ServerRefresh) {
        self.ua = ua
        self.link = link
        self.refresh = refresh
    }
}

extension RandomWorld {
    /// What DNS says of the registrar's name: SRV records (a minute's TTL) toward the live
    /// server, a dead one before or after it, no answer at all, or no such name.
    enum Zone: CaseIterable, CustomStringConvertible {
        case liveOnly, deadFirst, deadLast, outage, noSuchName

        var description: String {
            switch self {
            case .liveOnly: "[192.0.2.1]"
            case .deadFirst: "[192.0.2.2, 192.0.2.1]"
            case .deadLast: "[192.0.2.1, 192.0.2.2]"
            case .outage: "does not answer"
            case .noSuchName: "says no such name"
            }
        }
    }

    func setZone(_ answer: Zone) {
        zoneAnswer = answer
        zoneGeneration += 1
        func srv(_ priority: UInt16, _ target: String) -> SRVRecord { SRVRecord(priority: priority, weight: 0, port: 5060, target: target, ttl: 60) }
        zone.failing = answer == .outage
        zone.hosts = answer == .noSuchName ? [:] : ["live.x.test": [Self.live.host], "dead.x.test": [Self.dead.host]]
        switch answer {
        case .liveOnly, .outage: zone.srvs = ["_sip._udp.x.test": [srv(1, "live.x.test")]]
        case .deadFirst: zone.srvs = ["_sip._udp.x.test": [srv(1, "dead.x.test"), srv(2, "live.x.test")]]
        case .deadLast: zone.srvs = ["_sip._udp.x.test": [srv(1, "live.x.test"), srv(2, "dead.x.test")]]
        case .noSuchName: zone.srvs = [:]
        }
        if answer == .outage || answer == .noSuchName { reached.insert("DNS \(answer == .outage ? "outage" : "noSuchName")") }
    }

    /// DNS fails (no answer, or no such name) for a while, then answers as it did before —
    /// unless the sequence changed it meanwhile.
    func breakZone(_ failure: Zone, for duration: Duration) {
        let before = zoneAnswer
        setZone(failure)
        let generation = zoneGeneration
        s.schedule(after: duration) { [weak self] in
            guard let self, self.zoneGeneration == generation else { return }
            self.setZone(before)
        }
    }

    static func makeAgent(net: SimulatedSIPNetwork, s: VirtualScheduler, seed: UInt64, user: String, config: AccountConfig,
                          servers: [SIPNetworkAddress], place: Place, link: Link, instance: Int) -> SIPUserAgent {
        var reg = RegistrationSettings(registrar: "sip:x.test", addressOfRecord: "sip:\(user)@x.test", contact: "",
                                       instanceID: "urn:uuid:00000000-0000-4000-8000-00000000000\(instance)", authUser: user, password: config.password)
        reg.expires = config.expires
        reg.retryBase = .seconds(5)
        reg.retryMax = .seconds(20)
        reg.credentialRetry = .seconds(60)
        var a = AccountSettings(registration: reg, contactUser: user)
        a.keepAlive = .off
        let agent = AccountAgent(settings: a, servers: servers, localAddress: place.address, scheduler: s, seed: seed,
                                 send: { m, to in if link.open { net.send(m.serialized(), from: place.address, to: to) } },
                                 sendBytes: { b, to in if link.open { net.send(b, from: place.address, to: to) } })
        var cs = CallSettings()
        cs.sessionExpires = 0
        return SIPUserAgent(agent: agent, settings: cs, seed: seed)
    }

    /// Whether the port's line is in use (the daemon's test before it takes an account down).
    func isBusy(_ i: Int) -> Bool { hardware[i].offHook || controllers[i].machine.line != .idle }

    /// Looks the registrar up and attaches the account; a failed look-up is tried again after
    /// RFC 5626's back-off (the daemon's `retryBase` 5 s, `retryMax` 20 s), the stand-in
    /// controller keeping the line meanwhile.
    func attach(_ i: Int) {
        attachGeneration[i] += 1
        let generation = attachGeneration[i]
        var draw = SeededRandom(seed: seed &+ UInt64(i) &* 977 &+ UInt64(generation))
        do {
            let targets = try ServerLocator.targets(host: "x.test", port: nil, transport: .udp, resolver: zone, random: &draw)
            attached(i, targets: targets, generation: generation)
        } catch {
            attachFailures[i] += 1
            reached.insert("attach retried")
            let wait = FlowRecoveryBackoff.wait(failures: attachFailures[i], base: .seconds(5), ceiling: .seconds(20), unit: draw.unit())
            s.schedule(after: wait) { [weak self] in
                guard let self, self.attachGeneration[i] == generation else { return }
                self.attach(i)
            }
        }
    }

    /// The account's parts replace the stand-in — once the line is idle (never under
    /// someone's ear), checked every second.
    func attached(_ i: Int, targets: [ServerTarget], generation: Int) {
        guard attachGeneration[i] == generation else { return }
        if isBusy(i) {
            reached.insert("attach waited for an idle line")
            s.schedule(after: .seconds(1)) { [weak self] in self?.attached(i, targets: targets, generation: generation) }
            return
        }
        attachFailures[i] = 0
        let link = Link()
        let ua = Self.makeAgent(net: net, s: s, seed: seed &+ UInt64(i + 1) &+ UInt64(generation) &* 1000, user: user(i), config: config[i],
                                servers: targets.map { SIPNetworkAddress($0.address, $0.port) }, place: places[i], link: link, instance: i + 1)
        let refresh = ServerRefresh(name: ServerName(host: "x.test"), transport: .udp, resolver: zone, scheduler: s, seed: seed &+ UInt64(generation),
                                    runLookup: { $0() })
        refresh.follow(ua.agent)
        let account = AttachedAccount(ua: ua, link: link, refresh: refresh)
        ua.mediaPort = { [unowned account] h in
            account.mediaPorts.insert(h)
            return 20000 + 2 * Int(h.id % 1000)
        }
        ua.onMedia = { [unowned account] h, session in if session == nil { account.mediaPorts.remove(h) } }
        // The stand-in goes (its line idle); the account's controller takes the line.
        accounts[i] = account
        controllers[i] = makeController(i, userAgent: ua)
        if recovery[i].fault != nil { recovery[i].wantService(wanted[i]) } else if wanted[i] { enable(i) } else { disable(i) }
        refresh.start(after: ServerRefresh.lifetime(of: targets))
    }

    /// The operator edits the port's account in the configuration and sends SIGHUP: a
    /// rotated password (on the exchange too), a different expiry, a mistyped password, or a
    /// typo put right.
    func reloadStep(_ i: Int) {
        let exchangePassword = exchange.registrar.password(of: user(i)) ?? ""
        var next = config[i]
        switch pick(4) {
        case 0:
            let rotated = "pw-\(user(i))-rotated-\(random.next() % 100_000)"
            exchange.registrar.setPassword(rotated, for: user(i))
            passwords.insert(rotated)
            next.password = rotated
            log.append("port \(i + 1): password rotated, reload")
        case 1:
            next.expires = next.expires == 300 ? 600 : 300
            log.append("port \(i + 1): expiry \(next.expires) s, reload")
        case 2:
            next.password = exchangePassword + "-typo"
            passwords.insert(next.password)
            log.append("port \(i + 1): password mistyped, reload")
        default:
            next.password = exchangePassword
            log.append("port \(i + 1): password as the exchange has it, reload")
        }
        config[i] = next
        requestReload(i)
    }

    /// SIGHUP for one port: nothing when its settings did not change; at once when its line
    /// is idle, else once it is (``advance(by:)`` checks every second).
    func requestReload(_ i: Int) {
        guard config[i] != applied[i] else { return }
        if isBusy(i) {
            reached.insert("reload waited for an idle line")
            pendingReload[i] = true
        } else {
            apply(i)
        }
    }

    /// The daemon's reload of one port: its account unregisters (a bounded wait of 4 s), its
    /// endpoint closes, a stand-in takes the line and the account attaches again with the new
    /// settings.
    func apply(_ i: Int) {
        pendingReload[i] = false
        applied[i] = config[i]
        attachFailures[i] = 0
        attachGeneration[i] += 1  // an attach on its way (or waiting) is abandoned
        if let account = accounts[i] {
            reloading[i] = true
            disable(i)
            let bound = s.now + .seconds(4)
            while !account.ua.agent.isIdle && s.now < bound { s.run(until: min(bound, s.now + .milliseconds(100))) }
            retire(i, account)
            reloading[i] = false
        }
        controllers[i] = makeController(i, userAgent: UnattachedUserAgent())
        if recovery[i].fault != nil { recovery[i].wantService(wanted[i]) } else if wanted[i] { enable(i) } else { disable(i) }
        attach(i)
    }

    /// The endpoint closes: nothing more of this account reaches the network, its DNS
    /// refresh stops — and it must hold no RTP port any more.
    func retire(_ i: Int, _ account: AttachedAccount) {
        retired.append(Retired(account, controller: controllers[i]))
        account.link.open = false
        account.refresh.stop()
        accounts[i] = nil
        let open = account.mediaPorts.subtracting(account.ua.callsBeingGivenUp)
        if !open.isEmpty, retirementFault == nil {
            retirementFault = "port \(i + 1): RTP ports held for calls \(open) of an account taken down by a reload"
        }
    }
}
