public import TipRingCore

/// What the daemon reports of itself, as one value: built on the control plane, sent as JSON
/// on the control socket (`status`; the README documents it as a stable interface), read back
/// by `tipring status` and shown as a table. No Swift description of an internal type reaches
/// it: every state is a field with a documented vocabulary.
public struct DaemonStatus: Sendable, Hashable {
    public var board: String
    public var uptimeSeconds: Int64
    public var ports: [PortStatus]

    public init(board: String, uptimeSeconds: Int64, ports: [PortStatus]) {
        self.board = board
        self.uptimeSeconds = uptimeSeconds
        self.ports = ports
    }
}

/// One port: its line, its account's registration, the call on it, what it dropped.
public struct PortStatus: Sendable, Hashable {
    public var port: Int
    /// The port has an account and is meant to be in service.
    public var enabled: Bool
    /// `on-hook` or `off-hook`.
    public var hook: String
    /// The hook timing profile's name.
    public var timing: String
    /// `power-down`, `forward`, `reverse` or `on-hook-transmission`.
    public var feed: String
    /// `user@domain`, when an account is configured.
    public var account: String?
    /// The account's SIP transport: `udp`, `tcp` or `tls`.
    public var transport: String?
    /// Over TLS, the version and cipher suite agreed (`TLS 1.3, TLS_AES_128_GCM_SHA256`), once
    /// connected.
    public var security: String?
    public var registration: Registration
    public var line: Line
    public var call: Call?
    public var messagesWaiting: Bool
    /// Forwards and do-not-disturb set at the phone or in the configuration; nil: none.
    public var features: Features? = nil
    /// From the seizure being confirmed to the tone playing (the last time it happened).
    public var seizeToToneMs: Double?
    /// Why the port is not in service (its hardware or account could not be set up).
    public var lastError: String?
    /// Hardware the port is recovering from (`audio: …`): out of service until it is back.
    public var fault: String?
    public var dropped: Dropped

    public struct Registration: Sendable, Hashable {
        /// `none` (no account), `unregistered`, `registering`, `registered`, `retrying`, `failed`.
        public var state: String
        public var expiresInSeconds: Int64?
        public var retryInSeconds: Int64?
        public var reason: String?
    }

    public struct Line: Sendable, Hashable {
        /// `disabled`, `idle`, `dial-tone`, `no-service`, `collecting`, `outgoing`, `ringing`,
        /// `connected`, `three-way`, `waiting-only`, `disconnected`, `howler`, `lockout`.
        public var state: String
        /// The tone the line plays where it says something: `ringback` while outgoing; `busy`,
        /// `congestion`, `specialInformation`, … while disconnected.
        public var tone: String?
        /// A second call `waiting` (announced) or `held` (swapped, held while the handset
        /// consults, or ringing back); `transferring` while a transfer from the port finishes.
        public var other: String?
    }

    public struct Call: Sendable, Hashable {
        public var peer: String
        public var peerName: String?
        /// `incoming` or `outgoing`.
        public var direction: String
        public var media: Media?
    }

    /// The call's RTP, once media flows.
    public struct Media: Sendable, Hashable {
        public var codec: String
        public var seconds: Int64
        public var packetsSent: Int64
        public var packetsReceived: Int64
        public var lost: Int64
        public var jitterMs: Double
        /// 20 ms frames the jitter buffer made up for lost or late packets (concealment).
        public var concealedFrames: Int64 = 0
        /// Packets that came after their time had been played (dropped by the jitter buffer).
        public var latePackets: Int64 = 0
        /// The SRTP suite protecting the call; absent: in clear.
        public var encryption: String?
        /// The fax or modem tone that switched the call to pass-through; absent: a voice call.
        public var passThrough: String?
    }

    /// What the network side sent that was dropped (see README, "Security").
    /// Hook edges the GPIO chip's kernel buffer dropped (a bouncing switch, a busy daemon),
    /// mended by the driver; shown when any.
    public var lostHookEdges: Int64 = 0

    public struct Dropped: Sendable, Hashable {
        public var requests: Int64, responses: Int64, malformed: Int64, rtp: Int64
    }
}

// MARK: JSON out

extension DaemonStatus {
    public var json: JSONValue {
        .object([("board", .string(board)), ("uptimeSeconds", .integer(uptimeSeconds)), ("ports", .array(ports.map(\.json)))])
    }
}

extension PortStatus {
    public var json: JSONValue {
        [
            ("port", .integer(Int64(port))), ("enabled", .bool(enabled)), ("hook", .string(hook)), ("timing", .string(timing)),
            ("feed", .string(feed)), ("account", .optional(account)), ("transport", .optional(transport)), ("security", .optional(security)),
            ("registration", registration.json), ("line", line.json),
            ("call", call?.json), ("messagesWaiting", .bool(messagesWaiting)), ("features", features?.json), ("seizeToToneMs", seizeToToneMs.map { .number($0) }),
            ("lastError", .optional(lastError)), ("fault", .optional(fault)), ("dropped", dropped.json),
            ("lostHookEdges", lostHookEdges > 0 ? .integer(lostHookEdges) : nil),
        ].jsonObject
    }
}

extension PortStatus {
    /// What the telephone's feature codes set, as far as a caller notices it.
    public struct Features: Sendable, Hashable {
        public var forwardAlways: String?
        public var forwardBusy: String?
        public var forwardNoAnswer: String?
        public var doNotDisturb = false

        var json: JSONValue {
            [("forwardAlways", .optional(forwardAlways)), ("forwardBusy", .optional(forwardBusy)),
             ("forwardNoAnswer", .optional(forwardNoAnswer)), ("dnd", .bool(doNotDisturb))].jsonObject
        }

        /// In words, for the table and the page ("forwarded to 2001", "do not disturb").
        public var summary: String {
            var parts: [String] = []
            if let n = forwardAlways { parts.append("forwarded to \(n)") }
            if let n = forwardBusy { parts.append("when busy to \(n)") }
            if let n = forwardNoAnswer { parts.append("unanswered to \(n)") }
            if doNotDisturb { parts.append("do not disturb") }
            return parts.joined(separator: ", ")
        }
    }
}

extension PortStatus.Registration {
    var json: JSONValue {
        [("state", .string(state)), ("expiresInSeconds", expiresInSeconds.map { .integer($0) }),
         ("retryInSeconds", retryInSeconds.map { .integer($0) }), ("reason", .optional(reason))].jsonObject
    }
}

extension PortStatus.Line {
    var json: JSONValue { [("state", .string(state)), ("tone", .optional(tone)), ("other", .optional(other))].jsonObject }
}

extension PortStatus.Call {
    var json: JSONValue {
        [("peer", .string(peer)), ("peerName", .optional(peerName)), ("direction", .string(direction)), ("media", media?.json)].jsonObject
    }
}

extension PortStatus.Media {
    var json: JSONValue {
        [("codec", .string(codec)), ("seconds", .integer(seconds)), ("packetsSent", .integer(packetsSent)),
         ("packetsReceived", .integer(packetsReceived)), ("lost", .integer(lost)), ("jitterMs", .number(jitterMs)),
         ("concealedFrames", .integer(concealedFrames)), ("latePackets", .integer(latePackets)), ("encryption", .optional(encryption)),
         ("passThrough", .optional(passThrough))].jsonObject
    }
}

extension PortStatus.Dropped {
    var json: JSONValue {
        .object([("requests", .integer(requests)), ("responses", .integer(responses)), ("malformed", .integer(malformed)), ("rtp", .integer(rtp))])
    }
}

// MARK: JSON in (`tipring status`)

/// The daemon's answer did not hold a status.
public struct StatusFormatError: Error, CustomStringConvertible {
    public var description: String
}

extension DaemonStatus {
    /// Reads the JSON the daemon sent. Fields a newer daemon adds are ignored; a missing
    /// required field is an error naming it.
    public init(parsing text: String) throws(StatusFormatError) {
        let root: JSON5Node
        do { root = try JSON5Parser.parse(text) } catch { throw StatusFormatError(description: "the daemon's status is not JSON (\(error))") }
        let r = StatusReader(root, path: "status")
        board = try r.string("board")
        uptimeSeconds = try r.integer("uptimeSeconds")
        ports = try r.array("ports").map { p throws(StatusFormatError) in try PortStatus(p) }
    }
}

extension PortStatus {
    init(_ r: StatusReader) throws(StatusFormatError) {
        port = Int(clamping: try r.integer("port"))
        enabled = try r.bool("enabled")
        hook = try r.string("hook")
        timing = r.optionalString("timing") ?? ""
        feed = r.optionalString("feed") ?? ""
        account = r.optionalString("account")
        transport = r.optionalString("transport")
        security = r.optionalString("security")
        let reg = try r.object("registration")
        registration = Registration(state: try reg.string("state"), expiresInSeconds: reg.optionalInteger("expiresInSeconds"),
                                    retryInSeconds: reg.optionalInteger("retryInSeconds"), reason: reg.optionalString("reason"))
        let l = try r.object("line")
        line = Line(state: try l.string("state"), tone: l.optionalString("tone"), other: l.optionalString("other"))
        if let c = r.optionalObject("call") {
            var media: Media?
            if let m = c.optionalObject("media") {
                media = Media(codec: try m.string("codec"), seconds: try m.integer("seconds"), packetsSent: try m.integer("packetsSent"),
                              packetsReceived: try m.integer("packetsReceived"), lost: try m.integer("lost"), jitterMs: try m.number("jitterMs"),
                              concealedFrames: m.optionalInteger("concealedFrames") ?? 0, latePackets: m.optionalInteger("latePackets") ?? 0,
                              encryption: m.optionalString("encryption"), passThrough: m.optionalString("passThrough"))
            }
            call = Call(peer: try c.string("peer"), peerName: c.optionalString("peerName"), direction: try c.string("direction"), media: media)
        }
        messagesWaiting = r.optionalBool("messagesWaiting") ?? false
        if let f = r.optionalObject("features") {
            features = Features(forwardAlways: f.optionalString("forwardAlways"), forwardBusy: f.optionalString("forwardBusy"),
                                forwardNoAnswer: f.optionalString("forwardNoAnswer"), doNotDisturb: f.optionalBool("dnd") ?? false)
        }
        seizeToToneMs = r.optionalNumber("seizeToToneMs")
        lastError = r.optionalString("lastError")
        fault = r.optionalString("fault")
        let d = r.optionalObject("dropped")
        dropped = Dropped(requests: d?.optionalInteger("requests") ?? 0, responses: d?.optionalInteger("responses") ?? 0,
                          malformed: d?.optionalInteger("malformed") ?? 0, rtp: d?.optionalInteger("rtp") ?? 0)
    }
}

/// Typed access to one JSON object of the status, with errors that name the field's path.
struct StatusReader {
    let node: JSON5Node
    let path: String

    init(_ node: JSON5Node, path: String) {
        self.node = node
        self.path = path
    }

    func member(_ key: String) -> JSON5Node? {
        guard case .object(let members) = node.kind else { return nil }
        return members.first { $0.key == key }?.value
    }

    func missing(_ key: String, _ kind: String) -> StatusFormatError {
        StatusFormatError(description: "the daemon's status has no \(kind) \(path).\(key)")
    }

    /// A field that must be there, read by `read`; missing or of another kind, an error
    /// naming its path.
    func required<T>(_ key: String, _ kind: String, _ read: (String) -> T?) throws(StatusFormatError) -> T {
        guard let value = read(key) else { throw missing(key, kind) }
        return value
    }

    func string(_ key: String) throws(StatusFormatError) -> String { try required(key, "string", optionalString) }

    func optionalString(_ key: String) -> String? {
        if case .string(let s)? = member(key)?.kind { s } else { nil }
    }

    func integer(_ key: String) throws(StatusFormatError) -> Int64 { try required(key, "integer", optionalInteger) }

    func optionalInteger(_ key: String) -> Int64? {
        if case .integer(let i)? = member(key)?.kind { i } else { nil }
    }

    func number(_ key: String) throws(StatusFormatError) -> Double { try required(key, "number", optionalNumber) }

    func optionalNumber(_ key: String) -> Double? {
        switch member(key)?.kind {
        case .number(let d)?: d
        case .integer(let i)?: Double(i)
        default: nil
        }
    }

    func bool(_ key: String) throws(StatusFormatError) -> Bool { try required(key, "boolean", optionalBool) }

    func optionalBool(_ key: String) -> Bool? {
        if case .bool(let b)? = member(key)?.kind { b } else { nil }
    }

    func object(_ key: String) throws(StatusFormatError) -> StatusReader { try required(key, "object", optionalObject) }

    func optionalObject(_ key: String) -> StatusReader? {
        guard let m = member(key), case .object = m.kind else { return nil }
        return StatusReader(m, path: path + "." + key)
    }

    func array(_ key: String) throws(StatusFormatError) -> [StatusReader] {
        guard case .array(let items)? = member(key)?.kind else { throw missing(key, "array") }
        return items.enumerated().map { StatusReader($1, path: "\(path).\(key)[\($0)]") }
    }
}
