package import TipRingCore
import SIPCore

/// Who may see the status page: HTTP Digest (RFC 7616: SHA-256, qop=auth) against a stored
/// hash of the password — the password itself is never kept. Nonces live five minutes and
/// each one's count must grow (a captured request does not replay); an address that fails
/// five times in a minute is answered 429 until the minute is over.
package struct WebAccess: Sendable {
    package struct Credentials: Sendable, Hashable {
        package var user: String
        /// SHA-256 of "user:TipRing:password", lower-case hex.
        package var secretHash: String
        package init(user: String, secretHash: String) {
            self.user = user
            self.secretHash = secretHash
        }
    }

    package enum Decision: Sendable, Equatable {
        case allow
        /// 401 with this `WWW-Authenticate`.
        case challenge(String)
        /// 429 with `Retry-After`.
        case tooMany(retryAfterSeconds: Int)
    }

    package static let realm = "TipRing"
    static let nonceLife = Duration.seconds(300)
    static let failureWindow = Duration.seconds(60)
    static let failuresAllowed = 5
    static let rememberedNonces = 64
    static let rememberedClients = 256

    let credentials: Credentials
    var nonces: [String: (issued: Instant, lastCount: UInt64)] = [:]
    var nonceOrder: [String] = []
    var failures: [String: [Instant]] = [:]
    var clientOrder: [String] = []

    package init(credentials: Credentials) { self.credentials = credentials }

    /// The hash to store for a user and password (`tipring config hash-password`).
    package static func secretHash(user: String, password: String) -> String {
        DigestVerifier.secretHash(algorithm: .sha256, username: user, realm: realm, password: password)
    }

    /// Decides one request. `newNonce` makes a fresh random nonce when a challenge is due.
    package mutating func check(authorization: String?, method: String, uri: String, client: String, now: Instant,
                                newNonce: () -> String) -> Decision {
        let recent = (failures[client] ?? []).filter { now - $0 < Self.failureWindow }
        failures[client] = recent.isEmpty ? nil : recent
        if recent.count >= Self.failuresAllowed, let first = recent.first {
            let left = Self.failureWindow - (now - first)
            return .tooMany(retryAfterSeconds: max(1, Int((left.nanoseconds + 999_999_999) / 1_000_000_000)))
        }
        guard let authorization else { return challenge(stale: false, now: now, newNonce: newNonce) }
        switch verify(authorization, method: method, uri: uri, now: now) {
        case .valid: return .allow
        case .staleNonce: return challenge(stale: true, now: now, newNonce: newNonce)
        case .wrong:
            noteFailure(client, now: now)
            return challenge(stale: false, now: now, newNonce: newNonce)
        }
    }

    enum Verdict { case valid, staleNonce, wrong }

    mutating func verify(_ authorization: String, method: String, uri: String, now: Instant) -> Verdict {
        guard authorization.lowercased().hasPrefix("digest "),
              let p = try? DigestChallenge.parameters(String(authorization.dropFirst(7))),
              let nonce = p["nonce"], let given = p["response"], let cnonce = p["cnonce"], let ncText = p["nc"],
              p["username"] == credentials.user, p["realm"] == Self.realm, p["uri"] == uri, p["qop"] == "auth",
              (p["algorithm"] ?? "MD5").uppercased() == "SHA-256",
              ncText.utf8.count == 8, let nc = ASCIIHex.exact(ncText, maxDigits: 8) else { return .wrong }
        guard let known = nonces[nonce] else { return .staleNonce }  // not ours, or forgotten: a fresh one
        if now - known.issued >= Self.nonceLife { return .staleNonce }
        let expected = DigestVerifier.response(algorithm: .sha256, ha1: credentials.secretHash, nonce: nonce, nc: ncText, cnonce: cnonce,
                                               qop: "auth", method: method, uri: uri)
        guard Self.sameInConstantTime(expected, given.lowercased()) else { return .wrong }
        guard nc > known.lastCount else { return .wrong }  // a replay
        nonces[nonce]?.lastCount = nc
        return .valid
    }

    mutating func challenge(stale: Bool, now: Instant, newNonce: () -> String) -> Decision {
        let nonce = newNonce()
        nonces[nonce] = (now, 0)
        nonceOrder.append(nonce)
        while nonceOrder.count > Self.rememberedNonces { nonces[nonceOrder.removeFirst()] = nil }
        return .challenge("Digest realm=\"\(Self.realm)\", qop=\"auth\", algorithm=SHA-256, nonce=\"\(nonce)\"" + (stale ? ", stale=true" : ""))
    }

    mutating func noteFailure(_ client: String, now: Instant) {
        if failures[client] == nil {
            clientOrder.append(client)
            while clientOrder.count > Self.rememberedClients { failures[clientOrder.removeFirst()] = nil }
        }
        failures[client, default: []].append(now)
    }

    /// Compares without stopping at the first difference (the time taken says nothing).
    static func sameInConstantTime(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
