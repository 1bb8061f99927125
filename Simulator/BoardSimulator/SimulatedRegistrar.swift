public import SIPCore
public import TipRingCore

/// A SIP registrar on the simulated network: digest authentication, bindings with expiry,
/// and knobs to misbehave — refuse (403), grant less time, demand more (423), be
/// unavailable (503 + Retry-After), go silent, restart (forget everything).
public final class SimulatedRegistrar {
    public enum Mode: Sendable, Hashable {
        case normal
        case forbidden
        case unavailable(retryAfter: Int?)
        case silent
    }

    public struct Binding: Sendable, Hashable {
        public var contact: String
        public var expires: Instant
    }

    public let address: SIPNetworkAddress
    public let realm: String
    let network: SimulatedSIPNetwork
    let scheduler: any Scheduler
    var users: [String: String]
    public var algorithm: DigestAlgorithm
    public var mode: Mode = .normal
    /// Longest binding granted (shorter than asked = "shortened expiry").
    public var maximumExpires = 7200
    /// Shortest binding accepted; less gets 423 with this Min-Expires.
    public var minimumExpires = 60
    /// Mark the next challenge's nonce as stale.
    public var nextNonceStale = false
    var nonceCounter = 0
    var liveNonces: Set<String> = []
    /// Passwords by user, for the exchange's own challenges.
    public func password(of user: String) -> String? { users[user] }
    public private(set) var bindings: [String: [Binding]] = [:]
    /// Every REGISTER received, with its time.
    public private(set) var registers: [(at: Instant, message: SIPMessage)] = []

    public init(network: SimulatedSIPNetwork, address: SIPNetworkAddress, realm: String, users: [String: String], algorithm: DigestAlgorithm = .md5) {
        self.network = network
        self.address = address
        self.realm = realm
        self.users = users
        self.algorithm = algorithm
        scheduler = network.scheduler
        network.attach(address) { [weak self] bytes, from in self?.receive(bytes, from: from) }
    }

    /// A user's password changed on the server (the operator rotates it, or sets a new one).
    public func setPassword(_ password: String, for user: String) { users[user] = password }

    /// Forget every binding and nonce, as a restarted registrar does.
    public func restart() {
        bindings.removeAll()
        liveNonces.removeAll()
    }

    /// The live bindings of an address of record now.
    public func contacts(of aor: String) -> [String] {
        (bindings[aor] ?? []).filter { $0.expires > scheduler.now }.map(\.contact)
    }

    /// Everything that is not a REGISTER (the exchange's proxy takes it).
    var other: ((SIPMessage, SIPNetworkAddress) -> Void)?

    func receive(_ bytes: [UInt8], from: SIPNetworkAddress) {
        guard let m = try? SIPParser.parse(bytes) else { return }
        guard m.method == .register else {
            if let other { return other(m, from) }
            // A registrar alone answers OPTIONS as RFC 3261 §11.2 has any server do.
            if m.method == .options, mode == .normal { reply(m, 200, "OK", to: from) }
            return
        }
        registers.append((scheduler.now, m))
        switch mode {
        case .silent: return
        case .forbidden: return reply(m, 403, "Forbidden", to: from)
        case .unavailable(let ra):
            var r = SIPResponses.response(to: m, status: 503, reason: "Service Unavailable", toTag: "reg")
            if let ra { r.add("Retry-After", "\(ra)") }
            return network.send(r.serialized(), from: address, to: from)
        case .normal: break
        }
        guard let aorText = m["To"], let aor = try? NameAddress(aorText), let user = aor.sipURI?.user, let password = users[user] else {
            return reply(m, 404, "Not Found", to: from)
        }
        // Authentication.
        let auth = m["Authorization"]
        let nonce = auth.flatMap { try? DigestChallenge.parameters(String($0.dropFirst(6)))["nonce"] } ?? nil
        guard let auth, let nonce, liveNonces.contains(nonce),
              DigestVerifier.verify(auth, method: "REGISTER", realm: realm, password: password, nonce: nonce, algorithm: algorithm) else {
            nonceCounter += 1
            let fresh = "n\(nonceCounter)x\(scheduler.now.nanoseconds)"
            liveNonces.insert(fresh)
            var r = SIPResponses.response(to: m, status: 401, reason: "Unauthorized", toTag: "reg")
            let stale = nextNonceStale
            nextNonceStale = false
            r.add("WWW-Authenticate", "Digest realm=\"\(realm)\", nonce=\"\(fresh)\", qop=\"auth\", algorithm=\(algorithm.rawValue)" + (stale ? ", stale=true" : ""))
            return network.send(r.serialized(), from: address, to: from)
        }
        if nextNonceStale {
            // The nonce the client used has gone stale: challenge again with stale=true.
            liveNonces.remove(nonce)
            nonceCounter += 1
            let fresh = "n\(nonceCounter)s"
            liveNonces.insert(fresh)
            nextNonceStale = false
            var r = SIPResponses.response(to: m, status: 401, reason: "Unauthorized", toTag: "reg")
            r.add("WWW-Authenticate", "Digest realm=\"\(realm)\", nonce=\"\(fresh)\", qop=\"auth\", algorithm=\(algorithm.rawValue), stale=true")
            return network.send(r.serialized(), from: address, to: from)
        }
        let key = aor.uri
        let asked = m["Expires"].flatMap { Int($0) } ?? 3600
        let contacts = m.values("Contact").compactMap { try? NameAddress($0) }
        if asked > 0 && asked < minimumExpires {
            var r = SIPResponses.response(to: m, status: 423, reason: "Interval Too Brief", toTag: "reg")
            r.add("Min-Expires", "\(minimumExpires)")
            return network.send(r.serialized(), from: address, to: from)
        }
        var list = (bindings[key] ?? []).filter { $0.expires > scheduler.now }
        for c in contacts {
            list.removeAll { $0.contact == c.uri }
            let wanted = (c.parameters["expires"] ?? nil).flatMap { Int($0) } ?? asked
            if wanted > 0 {
                list.append(Binding(contact: c.uri, expires: scheduler.now + .seconds(Int64(min(wanted, maximumExpires)))))
            }
        }
        bindings[key] = list
        var r = SIPResponses.response(to: m, status: 200, reason: "OK", toTag: "reg")
        markSource(&r, from)
        for b in list {
            let left = max(0, (b.expires - scheduler.now).nanoseconds / 1_000_000_000)
            r.add("Contact", "<\(b.contact)>;expires=\(left)")
        }
        network.send(r.serialized(), from: address, to: from)
    }

    /// RFC 3581: the top Via of a response says where the request came from.
    func markSource(_ r: inout SIPMessage, _ from: SIPNetworkAddress) {
        guard let top = r["Via"], var via = try? Via(top) else { return }
        if "\(via.host)" != from.host { via.parameters["received"] = .some(from.host) }
        if via.parameters["rport"] != nil { via.parameters["rport"] = .some("\(from.port)") }
        r.replaceFirst("Via", with: via.description)
    }

    func reply(_ m: SIPMessage, _ status: Int, _ reason: String, to: SIPNetworkAddress) {
        network.send(SIPResponses.response(to: m, status: status, reason: reason, toTag: "reg").serialized(), from: address, to: to)
    }
}
