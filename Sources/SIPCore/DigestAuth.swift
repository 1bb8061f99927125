import TipRingCore
import Crypto

/// Digest access authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760).
public enum DigestAlgorithm: String, Sendable, Hashable, CaseIterable {
    case md5 = "MD5", md5Sess = "MD5-sess"
    case sha256 = "SHA-256", sha256Sess = "SHA-256-sess"
    case sha512_256 = "SHA-512-256", sha512_256Sess = "SHA-512-256-sess"

    /// Preference when a server offers several (RFC 8760 §2.4: strongest first).
    public var strength: Int {
        switch self {
        case .sha512_256, .sha512_256Sess: 3
        case .sha256, .sha256Sess: 2
        case .md5, .md5Sess: 1
        }
    }

    var isSession: Bool { rawValue.hasSuffix("-sess") }

    /// Lower-case hex of the algorithm's hash.
    func hex(_ s: String) -> String {
        let bytes = Array(s.utf8)
        let digest: [UInt8]
        switch self {
        case .md5, .md5Sess: digest = Array(Insecure.MD5.hash(data: bytes))
        case .sha256, .sha256Sess: digest = Array(SHA256.hash(data: bytes))
        case .sha512_256, .sha512_256Sess: digest = SHA512_256.hash(bytes)
        }
        return hexString(digest)
    }

    func hex(bytes: [UInt8]) -> String {
        switch self {
        case .md5, .md5Sess: hexString(Array(Insecure.MD5.hash(data: bytes)))
        case .sha256, .sha256Sess: hexString(Array(SHA256.hash(data: bytes)))
        case .sha512_256, .sha512_256Sess: hexString(SHA512_256.hash(bytes))
        }
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    s.reserveCapacity(bytes.count * 2)
    for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
    return s
}

/// A `WWW-Authenticate` / `Proxy-Authenticate` Digest challenge.
public struct DigestChallenge: Sendable, Hashable {
    public var realm: String
    public var nonce: String
    public var opaque: String?
    public var algorithm: DigestAlgorithm
    /// The qop values offered (`auth`, `auth-int`); empty when none (RFC 2069 style).
    public var qop: [String]
    public var stale: Bool

    /// Parses `Digest realm="…", nonce="…", …`. Unknown algorithms are an error, so
    /// that a caller can pick another challenge.
    public init(_ header: String) throws(SIPParseError) {
        let t = header.trimmingSpaces()
        guard t.lowercased().hasPrefix("digest") else { throw SIPParseError("not a Digest challenge: '\(t.prefix(30))'") }
        let params = try DigestChallenge.parameters(String(t.dropFirst(6)))
        guard let realm = params["realm"] else { throw SIPParseError("Digest challenge without realm") }
        guard let nonce = params["nonce"] else { throw SIPParseError("Digest challenge without nonce") }
        self.realm = realm
        self.nonce = nonce
        opaque = params["opaque"]
        let alg = params["algorithm"] ?? "MD5"
        guard let a = DigestAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == alg.lowercased() }) else {
            throw SIPParseError("unsupported digest algorithm '\(alg)'")
        }
        algorithm = a
        qop = (params["qop"] ?? "").split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        stale = params["stale"]?.lowercased() == "true"
    }

    /// `name=value` or `name="quoted value"` pairs separated by commas.
    public static func parameters(_ s: String) throws(SIPParseError) -> [String: String] {
        var out: [String: String] = [:]
        var chars = Substring(s)
        while true {
            while let c = chars.first, c == " " || c == "," || c == "\t" { chars.removeFirst() }
            guard !chars.isEmpty else { break }
            guard let eq = chars.firstIndex(of: "=") else { throw SIPParseError("bad Digest parameter '\(chars.prefix(30))'") }
            let name = chars[..<eq].trimmingSpaces().lowercased()
            chars = chars[chars.index(after: eq)...]
            while let c = chars.first, c == " " { chars.removeFirst() }
            var value = ""
            if chars.first == "\"" {
                chars.removeFirst()
                var closed = false
                while let c = chars.first {
                    chars.removeFirst()
                    if c == "\\", let n = chars.first { value.append(n); chars.removeFirst(); continue }
                    if c == "\"" { closed = true; break }
                    value.append(c)
                }
                guard closed else { throw SIPParseError("unterminated quoted value for '\(name)'") }
            } else {
                while let c = chars.first, c != "," { value.append(c); chars.removeFirst() }
                value = value.trimmingSpaces()
            }
            out[name] = value
        }
        return out
    }

    /// The challenge to answer among several: the strongest algorithm, then the first; none
    /// weaker than `minimum` (an account can refuse MD5).
    public static func preferred(_ headers: [String], minimum: DigestAlgorithm = .md5) -> DigestChallenge? {
        let parsed = headers.compactMap { try? DigestChallenge($0) }.filter { $0.algorithm.strength >= minimum.strength }
        return parsed.enumerated().max { a, b in
            a.element.algorithm.strength != b.element.algorithm.strength
                ? a.element.algorithm.strength < b.element.algorithm.strength
                : a.offset > b.offset
        }?.element
    }
}

/// Answers Digest challenges for one account, counting nonces (`nc`) per nonce.
public struct DigestClient: Sendable {
    public var username: String
    /// Held only to compute responses; never printed (``description`` omits it).
    var password: Secret
    /// The nonces used lately with their counts, the most recently used last.
    var nonceCounts: [(nonce: String, count: UInt32)] = []
    /// Nonces counted at once: servers hand out a fresh one now and then (a hostile one with
    /// every challenge); the one used longest ago is forgotten first.
    static let rememberedNonces = 16
    /// How many nonces the client counts for now (at most ``rememberedNonces``).
    public var countedNonces: Int { nonceCounts.count }

    /// The next `nc` for `nonce` (1 for a nonce not counted yet).
    mutating func count(_ nonce: String) -> UInt32 {
        var n: UInt32 = 1
        if let i = nonceCounts.firstIndex(where: { $0.nonce == nonce }) {
            n = nonceCounts.remove(at: i).count &+ 1
        } else if nonceCounts.count >= Self.rememberedNonces {
            nonceCounts.removeFirst()
        }
        nonceCounts.append((nonce, n))
        return n
    }

    public init(username: String, password: String) {
        self.username = username
        self.password = Secret(password)
    }

    /// The `Authorization` (or `Proxy-Authorization`) value answering `challenge` for a
    /// request. `qop=auth-int` is used only when it is the sole qop offered.
    public mutating func authorization(for challenge: DigestChallenge, method: SIPMethod, uri: String, body: [UInt8] = [], cnonce fixedCnonce: String? = nil) -> String {
        let a = challenge.algorithm
        let qop: String? = challenge.qop.contains("auth") ? "auth" : (challenge.qop.contains("auth-int") ? "auth-int" : nil)
        let cnonce = fixedCnonce ?? SecureRandom.token()
        var nc: UInt32 = 0
        if qop != nil || a.isSession {
            nc = count(challenge.nonce)
        }
        let ncText = String(nc, radix: 16).leftPadded(to: 8)
        let response = DigestVerifier.response(algorithm: a, username: username, realm: challenge.realm, password: password.value,
                                               nonce: challenge.nonce, nc: ncText, cnonce: cnonce, qop: qop,
                                               method: method.rawValue, uri: uri, body: body)
        var parts = [
            "username=\"\(username)\"", "realm=\"\(challenge.realm)\"", "nonce=\"\(challenge.nonce)\"",
            "uri=\"\(uri)\"", "response=\"\(response)\"", "algorithm=\(a.rawValue)",
        ]
        if let qop { parts += ["qop=\(qop)", "nc=\(ncText)", "cnonce=\"\(cnonce)\""] }
        if let o = challenge.opaque { parts.append("opaque=\"\(o)\"") }
        return "Digest " + parts.joined(separator: ", ")
    }
}

/// The expected digest response (RFC 7616 §3.4.1), for a server checking an Authorization.
public enum DigestVerifier {
    public static func response(algorithm a: DigestAlgorithm, username: String, realm: String, password: String,
                                nonce: String, nc: String?, cnonce: String?, qop: String?, method: String, uri: String, body: [UInt8] = []) -> String {
        response(algorithm: a, ha1: secretHash(algorithm: a, username: username, realm: realm, password: password),
                 nonce: nonce, nc: nc, cnonce: cnonce, qop: qop, method: method, uri: uri, body: body)
    }

    /// H(username:realm:password) — what a server may keep instead of the password.
    public static func secretHash(algorithm a: DigestAlgorithm, username: String, realm: String, password: String) -> String {
        a.hex("\(username):\(realm):\(password)")
    }

    /// The expected response from the stored hash of the user's secret (``secretHash(algorithm:username:realm:password:)``).
    public static func response(algorithm a: DigestAlgorithm, ha1 secret: String, nonce: String, nc: String?, cnonce: String?, qop: String?,
                                method: String, uri: String, body: [UInt8] = []) -> String {
        var ha1 = secret
        if a.isSession { ha1 = a.hex("\(ha1):\(nonce):\(cnonce ?? "")") }
        let ha2 = qop == "auth-int" ? a.hex("\(method):\(uri):\(a.hex(bytes: body))") : a.hex("\(method):\(uri)")
        if let qop { return a.hex("\(ha1):\(nonce):\(nc ?? ""):\(cnonce ?? ""):\(qop):\(ha2)") }
        return a.hex("\(ha1):\(nonce):\(ha2)")
    }

    /// Whether `authorization` (the header value) answers `nonce` correctly for this user.
    public static func verify(_ authorization: String, method: String, realm: String, password: String, nonce: String, algorithm: DigestAlgorithm) -> Bool {
        guard authorization.lowercased().hasPrefix("digest"),
              let p = try? DigestChallenge.parameters(String(authorization.dropFirst(6))),
              let user = p["username"], let uri = p["uri"], let given = p["response"], p["nonce"] == nonce, p["realm"] == realm else { return false }
        let expected = response(algorithm: algorithm, username: user, realm: realm, password: password, nonce: nonce,
                                nc: p["nc"], cnonce: p["cnonce"], qop: p["qop"], method: method, uri: uri)
        return expected == given
    }
}


extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
