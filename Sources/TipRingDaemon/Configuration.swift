#if canImport(Glibc)
import Glibc  // environ
#elseif canImport(Musl)
import Musl
#endif
public import TipRingCore
import SystemCalls
public import SIPCore
public import SIPTransport
public import PortControl
public import TelephonyDSP
public import LineHAL

/// One SIP account, as a B222s or a good ATA exposes it.
public struct AccountConfiguration: Sendable, Hashable {
    public var port: Int
    public var enabled = true
    public var user: String
    public var authUser: String
    public var password: Secret
    public var domain: String
    public var registrar: ServerName
    public var outboundProxy: ServerName?
    /// Where requests go when every address of the registrar (or of the outbound proxy) has
    /// failed; the account returns to the first as soon as it answers again.
    public var failoverServer: ServerName?
    /// While the failover server serves, the first is tried again this often (Cisco's "proxy
    /// fallback interval").
    public var fallbackSeconds = 60
    /// False: calls go through the proxy without a registration (a trunk the provider routes
    /// to this box by its address).
    public var register = true
    public var transport: Transport = .udp
    /// SIP over TLS: the CA file trusted instead of the system's store, our own certificate.
    public var tls = TLSSettings()
    /// Encrypted calls (SDES-SRTP; only over TLS, where the keys in SDP are not in clear).
    public var srtp: SRTPMode = .off
    public var expires = 3600
    public var refreshMargin = 30
    public var retryBase = 30
    public var retryMax = 1800
    public var codecs: [PayloadFormat] = [.pcmu, .pcma]
    public var dtmf: DTMFMode = .rfc4733
    public var displayName: String?
    public var keepAliveSeconds = 25
    /// How the NAT binding is kept: a CRLF ping (RFC 5626) or an OPTIONS request (for
    /// servers that do not answer CRLF).
    public var keepAliveMethod = "crlf"
    /// Session timer (RFC 4028): the interval asked for (0: none) and the least accepted.
    public var sessionExpires = 1800
    public var minSessionExpires = 90
    /// Ask callees for reliable provisional responses (RFC 3262 `Require: 100rel`).
    public var require100rel = false
    /// DSCP marks: SIP (CS3 = 24 by default) and RTP (EF = 46); nil leaves a socket unmarked.
    public var dscpSIP: Int? = 24
    public var dscpRTP: Int? = 46
    public var sipPorts: ClosedRange<Int> = 5060...5079
    /// The weakest digest algorithm answered: "md5" (default), "sha-256" or "sha-512-256".
    public var minimumDigest: DigestAlgorithm = .md5
}

/// One port's behaviour.
public struct PortConfiguration: Sendable, Hashable {
    public var id: Int
    public var region: Region = .us
    public var dialPlan: DialPlan = .standard
    public var transmitGain = 0.0
    public var receiveGain = 0.0
    public var callWaiting = true
    public var withholdIdentity = false
    public var doNotDisturb = false
    public var hotLine: String?
    public var warmLineSeconds: Int?
    public var messageWaiting = true
    public var reversePolarityOnAnswer = false
    /// An unanswered incoming call is refused after this many seconds.
    public var ringTimeoutSeconds = 200
    /// Changes to the board's hook timing for this port's telephone.
    public var timing = HookTimingOverrides()
    /// Dialling: how long the first digit is waited for, and the gap after a digit before a
    /// number the dial plan may still extend is dialled (the "T" of a plan).
    public var firstDigitSeconds = 10
    public var interDigitSeconds = 4
    /// The caller-ID standard when the telephone expects another than its region's (an
    /// imported phone); nil: the region's.
    public var callerID: CallerIDStandard?
    /// Feature codes that replace the region's (`featureCodes: { "redial": "*33" }`), the
    /// features left to the network (`"off"`), or none handled here at all (`featureCodes: false`).
    public var featureCodes: [FeatureCode] = []
    public var featureCodesOff: Set<FeatureCode.Feature> = []
    public var featureCodesEnabled = true
    /// What a flash does with two calls on the line (`flash`, `recall-digits`); nil: the region's.
    public var hookFlash: HookFlashStyle?
    /// Hanging up in a three-way call: `transfer` (the two go on) or `end`.
    public var conferenceHangUp: ConferenceHangUp = .transfer
    /// How forwards reach their target (`forward: { by: "redirect" | "invite" }`).
    public var forwardBy: ForwardMethod = .redirect
    /// Forwards and speed dials the port starts with (`forward`, `speedDial`); what is dialled
    /// at the phone later takes over until these change.
    public var features = PortFeatures()

    /// The region's feature codes with this port's changes.
    public var featureCodeTable: FeatureCodeTable {
        featureCodesEnabled ? FeatureCodeTable.defaults(for: region).with(featureCodes, without: featureCodesOff) : .none
    }

    /// The board's hook timing with this port's changes.
    public func timingProfile(board: HookTimingProfile) -> Result<HookTimingProfile, HookTimingError> {
        timing.applied(to: board)
    }
}

/// The daemon's configuration file (`/etc/tipring/tipring.json5`):
///
/// ```json5
/// {
///   accounts: [{ port: 1, user: "1001", passwordFile: "/etc/tipring/1001.password",
///                domain: "sip.example.com", registrar: "sip.example.com" }],
///   ports: [{ id: 1, region: "de", dialPlan: "(*xx|0x.T|[1-9]x.T)" }],
/// }
/// ```
public struct Configuration: Sendable, Hashable {
    public var accounts: [AccountConfiguration] = []
    public var ports: [PortConfiguration] = []
    public var rtpPorts: ClosedRange<Int> = 16384...16482
    public var stateDirectory = "/var/lib/tipring"
    /// The file names no state directory: `tipring run --state-directory` may choose it (the
    /// OpenWrt service does: /var is RAM there, and an instance id must survive reboots).
    public var stateDirectoryIsDefault = true
    public var logLevel = "info"
    /// Per module (`sip`, `port`, `media`, `daemon`): a level other than `logLevel`.
    public var moduleLogLevels: [String: String] = [:]
    /// Where the status page is served (`web: { listen: "127.0.0.1:8080" }`); nil: nowhere.
    public var webListen: ServerName?
    /// Who may see it (`user`, `passwordHash`): then it may listen on any address.
    package var webCredentials: WebAccess.Credentials?
    /// Things worth saying that are not errors (a password file others can read, …).
    public var warnings: [String] = []
    /// Where what only the board can check was written: each account's `port`, each port's
    /// `id` and `timing` — kept apart from the values, so that a reload of a file whose lines
    /// merely moved changes no port.
    var accountPortSources: [Int: DocumentError] = [:]
    var portIDSources: [Int: DocumentError] = [:]
    var timingSources: [Int: DocumentError] = [:]

    public func account(port: Int) -> AccountConfiguration? { accounts.first { $0.port == port } }
    public func port(_ id: Int) -> PortConfiguration { ports.first { $0.id == id } ?? PortConfiguration(id: id) }

    /// The caller-ID standards a port may name (`callerId`).
    static let callerIDStandards: [String: CallerIDStandard] = [
        "bell202": .bell202, "etsi-after-ring": .etsiFSKAfterRing, "etsi-before-ring-dtas": .etsiFSKBeforeRing(.polarityReversalDTAS),
        "etsi-before-ring-rpas": .etsiFSKBeforeRing(.ringPulse), "dtmf": .dtmf,
    ]

    static let topKeys = ["accounts", "ports", "rtpPorts", "stateDirectory", "logLevel", "web"]
    static let accountKeys = ["port", "enabled", "user", "authUser", "password", "passwordFile", "passwordEnv", "domain", "registrar",
                              "outboundProxy", "failoverServer", "fallbackSeconds", "register", "tlsCaFile", "tlsCertificateFile", "tlsKeyFile", "srtp", "transport", "expires", "refreshMargin", "retryBase", "retryMax", "codecs", "dtmf",
                              "sendCallerId", "displayName", "keepAlive", "keepAliveMethod", "sipPorts", "minimumDigest",
                              "sessionExpires", "minSessionExpires", "require100rel", "dscpSip", "dscpRtp"]
    static let portKeys = ["id", "region", "dialPlan", "transmitGain", "receiveGain", "callWaiting", "clir", "dnd", "hotLine",
                           "warmLineSeconds", "messageWaiting", "reversePolarityOnAnswer", "ringTimeoutSeconds", "timing",
                           "firstDigitSeconds", "interDigitSeconds", "callerId", "featureCodes", "forward", "speedDial", "hookFlash",
                           "conferenceHangUp"]
    static let forwardKeys = ["always", "busy", "noAnswer", "noAnswerSeconds", "by"]
    /// Speed-dial codes: two digits.
    static let speedDialCodes = (0...99).map { $0 < 10 ? "0\($0)" : "\($0)" }

    public static func load(path: String, environment: [String: String] = Configuration.processEnvironment()) throws(DocumentError) -> Configuration {
        try decode(DocumentValue.load(path: path), environment: environment)
    }

    public static func parse(_ text: String, file: String, environment: [String: String] = [:]) throws(DocumentError) -> Configuration {
        try decode(DocumentValue.parse(Array(text.utf8), file: file), environment: environment)
    }

    public static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    /// The configuration, or its first error (the daemon stops at it).
    public static func decode(_ root: DocumentValue, environment: [String: String]) throws(DocumentError) -> Configuration {
        let (c, errors) = decodeAll(root, environment: environment)
        if let first = errors.first { throw first }
        return c
    }

    /// The configuration and every error in it (`tipring config check`): a key that is wrong
    /// is noted and the reading goes on with the next; an account or port section whose port
    /// cannot be read is skipped after its error.
    public static func decodeAll(_ root: DocumentValue, environment: [String: String]) -> (Configuration, [DocumentError]) {
        var c = Configuration()
        let found = ErrorList()
        let top: DocumentObject
        do { top = try root.object(allowed: topKeys, unknown: &found.errors) } catch { return (c, [error]) }
        found.attempt { () throws(DocumentError) in if let v = top.optional("rtpPorts") { c.rtpPorts = try range(v, within: 1024...65535) } }
        found.attempt { () throws(DocumentError) in
            if let v = top.optional("stateDirectory") {
                c.stateDirectory = try v.nonEmptyString()
                c.stateDirectoryIsDefault = false
            }
        }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        found.attempt { () throws(DocumentError) in
            guard let v = top.optional("logLevel") else { return }
            if case .object = v.node.kind {
                // { default: "info", sip: "debug", … }
                let o = try v.object(allowed: ["default", "sip", "port", "media", "daemon"], unknown: &found.errors)
                for key in o.keys {
                    found.attempt { () throws(DocumentError) in
                        let level = try o.required(key).oneOf(levels)
                        if key == "default" { c.logLevel = level } else { c.moduleLogLevels[key] = level }
                    }
                }
            } else {
                c.logLevel = try v.oneOf(levels)
            }
        }
        found.attempt { () throws(DocumentError) in
            guard let w = top.optional("web") else { return }
            let o = try w.object(allowed: ["listen", "user", "passwordHash"], unknown: &found.errors)
            let listenValue = try o.required("listen")
            let listen = try server(listenValue)
            guard listen.port != nil else { throw listenValue.error("the page needs a port: \"127.0.0.1:8080\"") }
            if let hashValue = o.optional("passwordHash") {
                let hash = try hashValue.nonEmptyString().lowercased()
                guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                    throw hashValue.error("not a password hash (64 hex digits): make one with `tipring config hash-password --user NAME`")
                }
                c.webCredentials = WebAccess.Credentials(user: try o.optional("user")?.nonEmptyString() ?? "admin", secretHash: hash)
            } else if o.optional("user") != nil {
                throw (o.optional("user") ?? w).error("a user needs its passwordHash")
            }
            // Without a password the page is served to this box alone.
            let loopback = listen.host == "::1" || listen.host == "localhost" || listen.host.hasPrefix("127.")
            guard loopback || c.webCredentials != nil else {
                throw listenValue.error("a page on the network needs a password: give web.user and web.passwordHash, or listen on 127.0.0.1 or [::1]")
            }
            c.webListen = listen
        }
        var seenPorts: Set<Int> = []
        found.attempt { () throws(DocumentError) in
            for av in try top.required("accounts").array() {
                found.attempt { () throws(DocumentError) in
                    if let a = try account(av, environment: environment, seenPorts: &seenPorts, into: &c, found: found) { c.accounts.append(a) }
                }
            }
        }
        found.attempt { () throws(DocumentError) in
            guard let pv = top.optional("ports") else { return }
            for v in try pv.array() {
                found.attempt { () throws(DocumentError) in try port(v, into: &c, found: found) }
            }
        }
        return (c, found.errors)
    }

    /// One account section; nil (its error noted) when its port, user, domain or password
    /// cannot be read.
    static func account(_ av: DocumentValue, environment: [String: String], seenPorts: inout Set<Int>, into c: inout Configuration,
                        found: ErrorList) throws(DocumentError) -> AccountConfiguration? {
        let o = try av.object(allowed: accountKeys, unknown: &found.errors)
        let portValue = try o.required("port")
        let port = try portValue.int(in: 1...64)
        if !seenPorts.insert(port).inserted { throw portValue.error("port \(port) has two accounts (one account per port)") }
        c.accountPortSources[port] = portValue.error("")
        let user = try o.required("user").nonEmptyString()
        var a = AccountConfiguration(port: port, user: user, authUser: try o.optional("authUser")?.nonEmptyString() ?? user,
                                     password: Secret(""), domain: try o.required("domain").nonEmptyString(),
                                     registrar: ServerName(host: ""))
        a.password = try password(o, environment: environment, warnings: &c.warnings)
        found.attempt { () throws(DocumentError) in a.enabled = try o.optional("enabled")?.bool() ?? true }
        found.attempt { () throws(DocumentError) in
            let registrarValue: DocumentValue
            if let r = o.optional("registrar") { registrarValue = r } else { registrarValue = try o.required("domain") }
            a.registrar = try server(registrarValue)
        }
        found.attempt { () throws(DocumentError) in if let v = o.optional("outboundProxy") { a.outboundProxy = try server(v) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("failoverServer") { a.failoverServer = try server(v) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("fallbackSeconds") { a.fallbackSeconds = try v.int(in: 10...86_400) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("register") { a.register = try v.bool() } }
        found.attempt { () throws(DocumentError) in
            if let v = o.optional("transport") { a.transport = Transport(rawValue: try v.oneOf(Transport.allCases.map(\.rawValue))) ?? .udp }
        }
        found.attempt { () throws(DocumentError) in if let v = o.optional("tlsCaFile") { a.tls.caFile = try v.nonEmptyString() } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("tlsCertificateFile") { a.tls.certificateFile = try v.nonEmptyString() } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("tlsKeyFile") { a.tls.keyFile = try v.nonEmptyString() } }
        found.attempt { () throws(DocumentError) in
            // Files named for TLS must be there and be PEM before anything starts.
            guard a.tls != TLSSettings() else { return }
            let source = o.optional("tlsCaFile") ?? o.optional("tlsCertificateFile") ?? o.optional("tlsKeyFile") ?? av
            if a.transport != .tls { throw source.error("TLS files are for transport: \"tls\"") }
            if let problem = a.tls.problems().first { throw source.error(problem) }
        }
        found.attempt { () throws(DocumentError) in
            guard let v = o.optional("srtp") else { return }
            a.srtp = SRTPMode(rawValue: try v.oneOf(SRTPMode.allCases.map(\.rawValue))) ?? .off
            // SDES keys travel in the SDP: over UDP or TCP anyone on the path reads them.
            if a.srtp != .off && a.transport != .tls { throw v.error("srtp needs transport: \"tls\" (the keys travel in the SIP messages)") }
        }
        found.attempt { () throws(DocumentError) in if let v = o.optional("expires") { a.expires = try v.int(in: 60...86_400) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("refreshMargin") { a.refreshMargin = try v.int(in: 5...3600) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("retryBase") { a.retryBase = try v.int(in: 1...3600) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("retryMax") { a.retryMax = try v.int(in: 1...86_400) } }
        found.attempt { () throws(DocumentError) in
            if a.retryMax < a.retryBase { throw (o.optional("retryMax") ?? av).error("retryMax (\(a.retryMax)) is shorter than retryBase (\(a.retryBase))") }
        }
        found.attempt { () throws(DocumentError) in
            guard let v = o.optional("codecs") else { return }
            let names = try v.array()
            if names.isEmpty { throw v.error("at least one codec (PCMU, PCMA, opus)") }
            var codecs: [PayloadFormat] = []
            let known: [String: PayloadFormat] = ["PCMU": .pcmu, "PCMA": .pcma, "opus": .opus]
            for n in names {
                let format = known[try n.oneOf(["PCMU", "PCMA", "opus"])] ?? .pcmu
                if codecs.contains(format) { throw n.error("'\(format.name)' is listed twice") }
                codecs.append(format)
            }
            a.codecs = codecs
        }
        found.attempt { () throws(DocumentError) in
            if let v = o.optional("dtmf") { a.dtmf = DTMFMode(rawValue: try v.oneOf(["rfc4733", "info", "inband"])) ?? .rfc4733 }
        }
        found.attempt { () throws(DocumentError) in if let v = o.optional("displayName") { a.displayName = try v.string() } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("keepAlive") { a.keepAliveSeconds = try v.int(in: 0...3600) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("keepAliveMethod") { a.keepAliveMethod = try v.oneOf(["crlf", "options"]) } }
        found.attempt { () throws(DocumentError) in
            // 0 turns the session timer off; otherwise RFC 4028's 90 s floor.
            if let v = o.optional("sessionExpires") {
                a.sessionExpires = try v.int(in: 0...86_400)
                if a.sessionExpires != 0 && a.sessionExpires < 90 { throw v.error("\(a.sessionExpires) is below RFC 4028's 90 s (0 turns the session timer off)") }
            }
        }
        found.attempt { () throws(DocumentError) in if let v = o.optional("minSessionExpires") { a.minSessionExpires = try v.int(in: 90...86_400) } }
        found.attempt { () throws(DocumentError) in
            if a.sessionExpires != 0 && a.sessionExpires < a.minSessionExpires {
                throw (o.optional("sessionExpires") ?? av).error("sessionExpires (\(a.sessionExpires)) is below minSessionExpires (\(a.minSessionExpires))")
            }
        }
        found.attempt { () throws(DocumentError) in if let v = o.optional("require100rel") { a.require100rel = try v.bool() } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("dscpSip") { a.dscpSIP = try v.int(in: 0...63) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("dscpRtp") { a.dscpRTP = try v.int(in: 0...63) } }
        found.attempt { () throws(DocumentError) in if let v = o.optional("sipPorts") { a.sipPorts = try range(v, within: 1...65535) } }
        found.attempt { () throws(DocumentError) in
            guard let v = o.optional("minimumDigest") else { return }
            switch try v.oneOf(["md5", "sha-256", "sha-512-256"]) {
            case "sha-256": a.minimumDigest = .sha256
            case "sha-512-256": a.minimumDigest = .sha512_256
            default: a.minimumDigest = .md5
            }
        }
        found.attempt { () throws(DocumentError) in
            if let v = o.optional("sendCallerId"), try !v.bool() {
                c.ports.append(PortConfiguration(id: port, withholdIdentity: true))
            }
        }
        return a
    }

    /// One port section (its error noted, and the section skipped, when its id cannot be read).
    static func port(_ v: DocumentValue, into c: inout Configuration, found: ErrorList) throws(DocumentError) {
        let o = try v.object(allowed: portKeys, unknown: &found.errors)
        let idValue = try o.required("id")
        let id = try idValue.int(in: 1...64)
        c.portIDSources[id] = idValue.error("")
        var p = c.ports.first { $0.id == id } ?? PortConfiguration(id: id)
        c.ports.removeAll { $0.id == id }
        found.attempt { () throws(DocumentError) in
            guard let r = o.optional("region") else { return }
            let code = try r.nonEmptyString()
            guard let region = Region(code), RegionTonePlan.forRegion(region) != nil else {
                throw r.error("no tone plan for region '\(code)' (known: \(RegionTonePlan.all.keys.sorted().joined(separator: ", ")))")
            }
            p.region = region
        }
        found.attempt { () throws(DocumentError) in
            guard let d = o.optional("dialPlan") else { return }
            let text = try d.string()
            do throws(DialPlanError) { p.dialPlan = try DialPlan(text) } catch { throw d.error(error.message) }
        }
        found.attempt { () throws(DocumentError) in if let g = o.optional("transmitGain") { p.transmitGain = try g.number(in: -24...12) } }
        found.attempt { () throws(DocumentError) in if let g = o.optional("receiveGain") { p.receiveGain = try g.number(in: -24...12) } }
        found.attempt { () throws(DocumentError) in if let b = o.optional("callWaiting") { p.callWaiting = try b.bool() } }
        found.attempt { () throws(DocumentError) in
            guard let v = o.optional("hookFlash") else { return }
            p.hookFlash = HookFlashStyle(rawValue: try v.oneOf(HookFlashStyle.allCases.map(\.rawValue)))
        }
        found.attempt { () throws(DocumentError) in
            guard let v = o.optional("conferenceHangUp") else { return }
            p.conferenceHangUp = ConferenceHangUp(rawValue: try v.oneOf(ConferenceHangUp.allCases.map(\.rawValue))) ?? .transfer
        }
        found.attempt { () throws(DocumentError) in if let b = o.optional("clir") { p.withholdIdentity = try b.bool() } }
        found.attempt { () throws(DocumentError) in if let b = o.optional("dnd") { p.doNotDisturb = try b.bool() } }
        found.attempt { () throws(DocumentError) in if let h = o.optional("hotLine") { p.hotLine = try h.nonEmptyString() } }
        found.attempt { () throws(DocumentError) in if let w = o.optional("warmLineSeconds") { p.warmLineSeconds = try w.int(in: 1...60) } }
        found.attempt { () throws(DocumentError) in if let b = o.optional("messageWaiting") { p.messageWaiting = try b.bool() } }
        found.attempt { () throws(DocumentError) in if let b = o.optional("reversePolarityOnAnswer") { p.reversePolarityOnAnswer = try b.bool() } }
        found.attempt { () throws(DocumentError) in if let t = o.optional("ringTimeoutSeconds") { p.ringTimeoutSeconds = try t.int(in: 10...3600) } }
        found.attempt { () throws(DocumentError) in if let t = o.optional("firstDigitSeconds") { p.firstDigitSeconds = try t.int(in: 2...60) } }
        found.attempt { () throws(DocumentError) in if let t = o.optional("interDigitSeconds") { p.interDigitSeconds = try t.int(in: 1...30) } }
        found.attempt { () throws(DocumentError) in
            guard let v = o.optional("callerId") else { return }
            p.callerID = Self.callerIDStandards[try v.oneOf(Self.callerIDStandards.keys.sorted())]
        }
        found.attempt { () throws(DocumentError) in
            guard let codes = o.optional("featureCodes") else { return }
            if case .bool(let on) = codes.node.kind {
                p.featureCodesEnabled = on
                return
            }
            let names = FeatureCode.Feature.allCases.map(\.rawValue)
            let table = try codes.object(allowed: names)
            p.featureCodes = []
            p.featureCodesOff = []
            for name in table.keys {
                let v = try table.required(name)
                guard let feature = FeatureCode.Feature(rawValue: name) else { continue }
                let pattern = try v.nonEmptyString()
                if pattern == "off" {
                    p.featureCodesOff.insert(feature)
                    continue
                }
                do throws(FeatureCodeError) { p.featureCodes.append(try FeatureCode(pattern, feature)) } catch { throw v.error(error.description) }
            }
        }
        found.attempt { () throws(DocumentError) in
            guard let f = o.optional("forward") else { return }
            let forward = try f.object(allowed: Self.forwardKeys)
            for (key, condition) in [("always", ForwardCondition.always), ("busy", .busy), ("noAnswer", .noAnswer)] {
                if let v = forward.optional(key) { p.features.forwards[condition] = try Self.dialledNumber(v) }
            }
            if let v = forward.optional("noAnswerSeconds") { p.features.noAnswerSeconds = try v.int(in: 5...120) }
            if let v = forward.optional("by") { p.forwardBy = ForwardMethod(rawValue: try v.oneOf(ForwardMethod.allCases.map(\.rawValue))) ?? .redirect }
        }
        found.attempt { () throws(DocumentError) in
            guard let d = o.optional("speedDial") else { return }
            var unknown: [DocumentError] = []
            let dials = try d.object(allowed: Self.speedDialCodes, unknown: &unknown)
            if let bad = unknown.first {
                throw DocumentError(file: bad.file, position: bad.position, path: bad.path, message: "a speed-dial code is two digits, 00–99")
            }
            for code in dials.keys { p.features.speedDials[code] = try Self.dialledNumber(try dials.required(code)) }
        }
        found.attempt { () throws(DocumentError) in
            guard let t = o.optional("timing") else { return }
            p.timing = try BoardFile.timingOverrides(t)
            c.timingSources[p.id] = t.error("")
        }
        found.attempt { () throws(DocumentError) in
            if p.warmLineSeconds != nil && p.hotLine == nil { throw (o.optional("warmLineSeconds") ?? v).error("warmLineSeconds needs hotLine (the number to dial)") }
        }
        c.ports.append(p)
    }

    /// A number to forward to or speed-dial: digits, `*`, `#` and `+`, or a SIP URI.
    static func dialledNumber(_ v: DocumentValue) throws(DocumentError) -> String {
        let text = try v.nonEmptyString()
        if text.hasPrefix("sip:") || text.hasPrefix("sips:") {
            do throws(SIPParseError) { _ = try SIPURI(text) } catch { throw v.error("'\(text)' is not a SIP URI: \(error.description)") }
            return text
        }
        guard text.allSatisfy({ "0123456789*#+".contains($0) }) else { throw v.error("'\(text)' is no number to dial (digits, '*', '#', '+') or SIP URI") }
        return text
    }

    /// What only the board can tell: every account and port section is for a port the board
    /// has, and every port's timing changes applied to the board's profile make a consistent
    /// profile. The first problem, naming the file and the key.
    public func check(against board: BoardDescription) throws(DocumentError) {
        if let first = problems(against: board).first { throw first }
    }

    /// Every problem ``check(against:)`` would stop at.
    public func problems(against board: BoardDescription) -> [DocumentError] {
        var found: [DocumentError] = []
        let ids = board.ports.map(\.id)
        func lacking(_ id: Int, _ source: DocumentError?, _ what: String) -> DocumentError {
            var error = source ?? DocumentError(file: "configuration", position: nil, path: what, message: "")
            error.message = "the board '\(board.name)' has no port \(id) (its ports: \(ids.map(String.init).joined(separator: ", ")))"
            return error
        }
        for a in accounts where !ids.contains(a.port) { found.append(lacking(a.port, accountPortSources[a.port], "accounts")) }
        for p in ports where !ids.contains(p.id) { found.append(lacking(p.id, portIDSources[p.id], "ports")) }
        for p in ports {
            if case .failure(let e) = p.timingProfile(board: board.timingProfile) {
                var error = timingSources[p.id] ?? DocumentError(file: "configuration", position: nil, path: "ports", message: "")
                error.message = "\(e.description) (with the board's profile '\(board.timingProfile.name)'; name a base or change the windows)"
                found.append(error)
            }
        }
        return found
    }

    static func password(_ o: DocumentObject, environment: [String: String], warnings: inout [String]) throws(DocumentError) -> Secret {
        let sources = ["password", "passwordFile", "passwordEnv"].filter { o.contains($0) }
        guard sources.count == 1 else {
            throw o.value.error(sources.isEmpty ? "the account needs one of password, passwordFile or passwordEnv"
                                                : "give only one of \(sources.joined(separator: ", "))")
        }
        let v = try o.required(sources[0])
        switch sources[0] {
        case "password":
            return Secret(try v.string())
        case "passwordFile":
            let path = try v.nonEmptyString()
            let bytes: [UInt8]
            do { bytes = try FileIO.readAll(path: path, limit: 4096) } catch { throw v.error("cannot read the password file: \(error)") }
            if let mode = try? FileInfo.mode(of: path), mode & 0o077 != 0 {
                warnings.append("\(path): the password file can be read by others (chmod 600 \(path))")
            }
            var text = String(decoding: bytes, as: UTF8.self)
            while text.last == "\n" || text.last == "\r" { text.removeLast() }
            if text.isEmpty { throw v.error("the password file \(path) is empty") }
            return Secret(text)
        default:
            let name = try v.nonEmptyString()
            guard let value = environment[name], !value.isEmpty else { throw v.error("the environment variable \(name) is not set") }
            return Secret(value)
        }
    }

    /// `host`, `host:port`, an IPv6 address alone or in brackets (`[2001:db8::1]:5060`), with
    /// or without a leading `sip:`.
    static func server(_ v: DocumentValue) throws(DocumentError) -> ServerName {
        let text = try v.nonEmptyString()
        let t = text.hasPrefix("sip:") ? String(text.dropFirst(4)) : text
        func port(_ p: Substring) throws(DocumentError) -> Int {
            guard let n = ASCIIDecimal.exact(p, in: 1...65535) else { throw v.error("'\(text)' has no port 1–65535 after the host") }
            return n
        }
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]"), let address = ServerLocator.ipLiteral(String(t[...close])) else {
                throw v.error("'\(text)' is not an IPv6 address in brackets")
            }
            let rest = t[t.index(after: close)...]
            if rest.isEmpty { return ServerName(host: address) }
            guard rest.hasPrefix(":") else { throw v.error("'\(text)' is not [address] or [address]:port") }
            return ServerName(host: address, port: try port(rest.dropFirst()))
        }
        // More than one colon: an IPv6 address without brackets (and so without a port).
        if t.filter({ $0 == ":" }).count > 1 {
            guard let address = ServerLocator.ipLiteral(t) else { throw v.error("'\(text)' is not an IPv6 address (write a port as [address]:port)") }
            return ServerName(host: address)
        }
        var host = Substring(t), p: Int?
        if let colon = t.firstIndex(of: ":") {
            host = t[..<colon]
            p = try port(t[t.index(after: colon)...])
        }
        // ASCII letters, digits, dots and hyphens (not any Unicode letter or digit).
        func hostByte(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") }
        guard !host.isEmpty, host.utf8.allSatisfy(hostByte) else {
            throw v.error("'\(text)' is not a host name or address")
        }
        return ServerName(host: String(host), port: p)
    }

    static func range(_ v: DocumentValue, within: ClosedRange<Int>) throws(DocumentError) -> ClosedRange<Int> {
        let a = try v.array()
        guard a.count == 2 else { throw v.error("a range is [first, last]") }
        let lo = try a[0].int(in: within), hi = try a[1].int(in: within)
        guard lo <= hi else { throw v.error("the range [\(lo), \(hi)] runs backwards") }
        return lo...hi
    }
}

/// Errors gathered while a file is read: each part that fails is noted, and reading goes on.
final class ErrorList {
    var errors: [DocumentError] = []

    func attempt(_ body: () throws(DocumentError) -> Void) {
        do { try body() } catch { errors.append(error) }
    }
}
