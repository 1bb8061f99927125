public import TipRingCore

/// One account's registration settings.
public struct RegistrationSettings: Sendable, Hashable {
    /// The registrar's Request-URI (`sip:example.com`).
    public var registrar: String
    /// The address of record (`sip:1001@example.com`).
    public var addressOfRecord: String
    /// Our Contact URI (`sip:1001@192.0.2.10:5060`); changes when the local address does.
    public var contact: String
    /// A stable instance id (RFC 5626 `+sip.instance`), kept across restarts.
    public var instanceID: String
    /// Authentication user (defaults to the AOR's user) and password.
    public var authUser: String
    public var password: Secret
    /// UDP, TCP (TLS later): the Via transport and the Contact's transport parameter.
    public var transport: Transport = .udp
    public var expires: Int = 3600
    /// Refresh this long before the binding expires (at least).
    public var refreshMargin: Duration = .seconds(30)
    /// RFC 5626 §4.5 backoff: base and ceiling of the wait after failures.
    public var retryBase: Duration = .seconds(30)
    public var retryMax: Duration = .seconds(1800)
    /// The wait after a credential failure (403, or 401 again with the same credentials).
    public var credentialRetry: Duration = .seconds(1800)
    /// A Route for every request (the outbound proxy, `<sip:proxy.example.com;lr>`).
    public var route: String?
    /// The weakest digest algorithm we answer (`.sha256` refuses MD5 challenges).
    public var minimumDigest: DigestAlgorithm = .md5
    /// False: the account calls through its proxy without registering (a trunk the provider
    /// routes to us by address); in service from the start, no REGISTER ever sent.
    public var register = true

    public init(registrar: String, addressOfRecord: String, contact: String, instanceID: String, authUser: String, password: String) {
        self.registrar = registrar
        self.addressOfRecord = addressOfRecord
        self.contact = contact
        self.instanceID = instanceID
        self.authUser = authUser
        self.password = Secret(password)
    }
}

/// What the registration client asks of its runner.
public enum RegistrationAction: Sendable, Hashable {
    /// Send this REGISTER (in a new client transaction).
    case send(SIPMessage)
    /// Call ``RegistrationClient/timer(now:)`` at this time (replaces the previous one).
    case wake(at: Instant)
    case cancelWake
    case status(RegistrationStatus)
}

/// Keeps one account registered (RFC 3261 §10, RFC 5626 §4.5 backoff). Sans-IO.
///
/// Call-ID stays the same for the account's life and CSeq increases; the binding granted for
/// *our* Contact (not other devices') sets the refresh time, which carries jitter so that a
/// fleet of devices does not refresh in lock-step. 401/407 are answered once per challenge;
/// a second challenge for credentials just sent, or a 403, is a credential failure: a slow
/// retry and a clear status, never a storm. 423 takes Min-Expires, 503 honours Retry-After,
/// anything else (and silence) backs off exponentially with jitter.
public struct RegistrationClient: Sendable {
    public enum State: Sendable, Hashable {
        case idle
        case registering
        case registered(until: Instant)
        /// `register: false`: in service, nothing to keep.
        case withoutRegistration
        case retrying(at: Instant, failures: Int)
        case failed(reason: String, retryAt: Instant)
        case unregistering
    }

    public private(set) var settings: RegistrationSettings
    public private(set) var state: State = .idle
    let callID: String
    let fromTag: String
    var cseq: UInt32 = 0
    var digest: DigestClient
    var requestedExpires: Int
    var pending: SIPMessage?
    var answeredNonce: String?
    /// Challenges in a row that called our last answer stale (a new nonce, same password).
    var staleAnswers = 0
    static let maximumStaleAnswers = 3
    var staleContact: String?
    var failures = 0
    var random: SeededRandom

    public init(settings: RegistrationSettings, seed: UInt64) {
        self.settings = settings
        random = SeededRandom(seed: seed)
        callID = SecureRandom.token()
        fromTag = SecureRandom.token()
        digest = DigestClient(username: settings.authUser, password: settings.password.value)
        requestedExpires = settings.expires
    }

    /// The status a UI shows, in seconds of the scheduler's clock.
    public var status: RegistrationStatus {
        switch state {
        case .idle, .unregistering: .unregistered
        case .registering: .registering
        case .registered(let until): .registered(untilSeconds: until.nanoseconds / 1_000_000_000)
        case .withoutRegistration: .inServiceWithoutRegistration
        case .retrying(let at, let n): .retrying(atSeconds: at.nanoseconds / 1_000_000_000, reason: "\(n) failure(s)")
        case .failed(let reason, _): .failed(reason: reason)
        }
    }

    /// Register now.
    public mutating func start(now: Instant) -> [RegistrationAction] {
        guard settings.register else {
            state = .withoutRegistration
            return [.cancelWake, .status(status)]
        }
        // Also after a stop whose Expires: 0 is still in flight: its answer no longer counts.
        state = .registering
        failures = 0
        requestedExpires = settings.expires
        answeredNonce = nil
        return register(now: now)
    }

    /// Unregister (`Expires: 0`).
    public mutating func stop(now: Instant) -> [RegistrationAction] {
        guard settings.register else {
            state = .idle
            return [.cancelWake, .status(.unregistered)]
        }
        state = .unregistering
        requestedExpires = 0
        // The status changes when the registrar has answered (or not at all).
        let m = request(expires: 0, authorization: nil)
        pending = m
        return [.cancelWake, .send(m)]
    }

    /// Requests now go through another proxy (a failover server and back): its Route.
    public mutating func routeChanged(_ route: String?) { settings.route = route }

    /// The local address changed: register the new Contact at once.
    public mutating func contactChanged(_ contact: String, now: Instant) -> [RegistrationAction] {
        guard contact != settings.contact else { return [] }
        // The old Contact is unbound in the same REGISTER, so calls do not fork to an
        // address that no longer reaches us.
        if case .registered = state { staleContact = settings.contact }
        settings.contact = contact
        if case .idle = state { return [] }
        if case .withoutRegistration = state { return [] }
        if case .unregistering = state { return [] }
        return register(now: now)
    }

    /// The request in flight went unanswered (or got 503) from one server and the runner
    /// now sends to the next (RFC 3263 failover): the same request again, fresh, without
    /// counting a failure.
    public mutating func resend(now: Instant) -> [RegistrationAction] {
        answeredNonce = nil
        if case .unregistering = state {
            let m = request(expires: 0, authorization: nil)
            pending = m
            return [.send(m)]
        }
        return register(now: now)
    }

    /// The wake-up asked for: refresh, or retry.
    public mutating func timer(now: Instant) -> [RegistrationAction] {
        switch state {
        case .registered, .retrying, .failed:
            answeredNonce = nil
            return register(now: now)
        default:
            return []
        }
    }

    /// The REGISTER's transaction timed out (no answer at all).
    public mutating func timeout(now: Instant) -> [RegistrationAction] {
        if case .unregistering = state { state = .idle; return [.status(.unregistered)] }
        return backoff(now: now, reason: "no answer from the registrar")
    }

    /// A final (or provisional) response to our REGISTER.
    public mutating func response(_ m: SIPMessage, now: Instant) -> [RegistrationAction] {
        guard let status = m.status, status >= 200 else { return [] }
        guard let cseqValue = m["CSeq"], let c = try? CSeq(cseqValue), c.sequence == cseq, m["Call-ID"] == callID else { return [] }
        if case .unregistering = state {
            if status == 401 || status == 407, let ch = DigestChallenge.preferred(m.values(status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"), minimum: settings.minimumDigest), answeredNonce != ch.nonce {
                answeredNonce = ch.nonce
                let m = request(expires: 0, authorization: authorization(ch, proxy: status == 407))
                pending = m
                return [.send(m)]
            }
            state = .idle
            return [.status(.unregistered)]
        }
        switch status {
        case 200...299:
            failures = 0
            staleContact = nil
            answeredNonce = nil
            staleAnswers = 0
            let granted = grantedExpires(m) ?? requestedExpires
            guard granted > 0 else { return backoff(now: now, reason: "registrar granted no time") }
            let until = now + .seconds(Int64(granted))
            state = .registered(until: until)
            // Refresh before expiry: at 80–90 % of the lifetime, and at least the margin early.
            let lifetime = Double(granted)
            let early = max(settings.refreshMargin.seconds, lifetime * (0.1 + 0.1 * random.unit()))
            let refresh = now + .nanoseconds(Int64(saturating: max(1, lifetime - min(early, lifetime / 2)) * 1e9))
            return [.status(registeredStatus(until)), .wake(at: refresh)]
        case 401, 407:
            let header = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate"
            guard let ch = DigestChallenge.preferred(m.values(header), minimum: settings.minimumDigest) else {
                let weak = DigestChallenge.preferred(m.values(header)) != nil
                return credentialFailure(now: now, reason: weak ? "registrar offers only digest weaker than \(settings.minimumDigest.rawValue) (minimumDigest)"
                                                                : "registrar's challenge cannot be answered")
            }
            if answeredNonce != nil && !ch.stale {
                return credentialFailure(now: now, reason: "wrong user name or password (\(status) again)")
            }
            // A registrar that calls every answer stale would keep us in a tight loop.
            if ch.stale { staleAnswers += 1 }
            if staleAnswers > Self.maximumStaleAnswers {
                staleAnswers = 0
                return backoff(now: now, reason: "registrar keeps answering stale=true")
            }
            answeredNonce = ch.nonce
            return send(request(expires: requestedExpires, authorization: authorization(ch, proxy: status == 407)), status: .registering)
        case 403:
            return credentialFailure(now: now, reason: "forbidden (403): check the account")
        case 423:
            guard let minimum = HeaderNumbers.deltaSeconds(m["Min-Expires"], in: 1...HeaderNumbers.expires.upperBound),
                  minimum > requestedExpires, minimum < HeaderNumbers.expires.upperBound else {
                return backoff(now: now, reason: "423 without a usable Min-Expires")
            }
            requestedExpires = minimum
            answeredNonce = nil
            return register(now: now)
        case 503:
            if let secs = HeaderNumbers.deltaSeconds(m["Retry-After"], in: HeaderNumbers.retryAfter), secs > 0 {
                failures += 1
                let at = now + .seconds(Int64(secs))
                state = .retrying(at: at, failures: failures)
                return [.status(.retrying(atSeconds: at.nanoseconds / 1_000_000_000, reason: "503, Retry-After \(secs) s")), .wake(at: at)]
            }
            return backoff(now: now, reason: "503 Service Unavailable")
        default:
            return backoff(now: now, reason: "\(status) from the registrar")
        }
    }

    // MARK: helpers

    func registeredStatus(_ until: Instant) -> RegistrationStatus { .registered(untilSeconds: until.nanoseconds / 1_000_000_000) }

    mutating func register(now: Instant) -> [RegistrationAction] {
        send(request(expires: requestedExpires, authorization: nil), status: .registering)
    }

    mutating func send(_ m: SIPMessage, status: RegistrationStatus) -> [RegistrationAction] {
        if case .unregistering = state {} else { state = .registering }
        pending = m
        return [.status(status), .send(m)]
    }

    /// RFC 5626 §4.5 (``FlowRecoveryBackoff``).
    mutating func backoff(now: Instant, reason: String) -> [RegistrationAction] {
        failures += 1
        let at = now + FlowRecoveryBackoff.wait(failures: failures, base: settings.retryBase, ceiling: settings.retryMax, unit: random.unit())
        state = .retrying(at: at, failures: failures)
        return [.status(.retrying(atSeconds: at.nanoseconds / 1_000_000_000, reason: reason)), .wake(at: at)]
    }

    mutating func credentialFailure(now: Instant, reason: String) -> [RegistrationAction] {
        failures += 1
        let at = now + settings.credentialRetry
        state = .failed(reason: reason, retryAt: at)
        return [.status(.failed(reason: reason)), .wake(at: at)]
    }

    mutating func authorization(_ ch: DigestChallenge, proxy: Bool) -> (String, String) {
        (proxy ? "Proxy-Authorization" : "Authorization", digest.authorization(for: ch, method: .register, uri: settings.registrar))
    }

    /// The expiry granted to our Contact: its `expires` parameter, else the Expires header.
    func grantedExpires(_ m: SIPMessage) -> Int? {
        let ours = settings.contact.hasPrefix("<") ? ((try? NameAddress(settings.contact))?.uri ?? settings.contact) : settings.contact
        for c in m.values("Contact") {
            guard let n = try? NameAddress(c) else { continue }
            let sameInstance = (n.parameters["+sip.instance"] ?? nil).map { $0.contains(settings.instanceID) } ?? false
            if n.uri == ours || sameInstance {
                if let e = n.parameters["expires"] ?? nil, let v = ASCIIDecimal.clamped(e, to: HeaderNumbers.expires) { return v }
            }
        }
        return HeaderNumbers.deltaSeconds(m["Expires"], in: HeaderNumbers.expires)
    }

    mutating func request(expires: Int, authorization: (String, String)?) -> SIPMessage {
        cseq += 1
        var m = SIPRequests.new(.register, uri: settings.registrar, via: settings.transport.via(fromContact: settings.contact))
        if let route = settings.route { m.add("Route", route) }
        m.add("From", "<\(settings.addressOfRecord)>;tag=\(fromTag)")
        m.add("To", "<\(settings.addressOfRecord)>")
        m.add("Call-ID", callID)
        m.add("CSeq", "\(cseq) REGISTER")
        m.add("Contact", "<\(settings.contact)>;+sip.instance=\"<\(settings.instanceID)>\"")
        if let stale = staleContact, expires > 0 { m.add("Contact", "<\(stale)>;expires=0") }
        m.add("Expires", "\(expires)")
        if let (name, value) = authorization { m.add(name, value) }
        m.add("User-Agent", "TipRing")
        return m
    }
}
