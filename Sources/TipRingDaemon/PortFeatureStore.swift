package import TipRingCore
package import PortControl

/// What each port's telephone set with feature codes (forwards, do-not-disturb, speed dials,
/// and the numbers redial and call return use), kept in `features.json` in the state
/// directory so that a restart or a power cut loses none of it. Each port's entry remembers
/// the configuration it was dialled over: when the operator changes the port's `forward` or
/// `speedDial` since, the configuration wins again.
package final class PortFeatureStore: @unchecked Sendable {  // entries under `lock`: read on the service loop, saved on the control plane
    let path: String
    private let lock = ConditionLock()
    private var entries: [Int: (configured: PortFeatures, current: PortFeatures)] = [:]

    package init(directory: String) {
        path = directory + "/features.json"
        guard let document = try? DocumentValue.load(path: path), let ports = try? document.object(allowed: ["ports"]).required("ports").array() else { return }
        for p in ports {
            guard let o = try? p.object(allowed: ["port", "configured", "current"]), let port = try? o.required("port").int(in: 1...64),
                  let configured = (try? o.required("configured")).flatMap(Self.features), let current = (try? o.required("current")).flatMap(Self.features)
            else { continue }
            entries[port] = (configured, current)
        }
    }

    /// The port's features as it starts: what was dialled, unless the configuration changed
    /// since (the redial and call-return numbers are kept either way).
    package func features(port: Int, configured: PortFeatures) -> PortFeatures {
        guard let stored = lock.withLock({ entries[port] }) else { return configured }
        if stored.configured == configured { return stored.current }
        var fresh = configured
        fresh.lastDialled = stored.current.lastDialled
        fresh.lastCaller = stored.current.lastCaller
        return fresh
    }

    /// Records a change (the whole file replaced at once). Throws what the file system said.
    package func save(port: Int, configured: PortFeatures, current: PortFeatures) throws(SystemError) {
        let all = lock.withLock {
            entries[port] = (configured, current)
            return entries.sorted { $0.key < $1.key }
        }
        let ports = all.map { id, e -> JSONValue in
            .object([("port", .integer(Int64(id))), ("configured", Self.json(e.configured)), ("current", Self.json(e.current))])
        }
        try FileIO.replace(path: path, bytes: Array((JSONValue.object([("ports", .array(ports))]).rendered + "\n").utf8), mode: 0o640)
    }

    static func json(_ f: PortFeatures) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("forward", .object(ForwardCondition.allCases.compactMap { c in f.forwards[c].map { (c.rawValue, .string($0)) } })),
            ("noAnswerSeconds", .integer(Int64(f.noAnswerSeconds))), ("dnd", .bool(f.doNotDisturb)),
            ("speedDial", .object(f.speedDials.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ]
        if let n = f.lastDialled { members.append(("lastDialled", .string(n))) }
        if let n = f.lastCaller { members.append(("lastCaller", .string(n))) }
        return .object(members)
    }

    static func features(_ v: DocumentValue) -> PortFeatures? {
        guard let o = try? v.object(allowed: ["forward", "noAnswerSeconds", "dnd", "speedDial", "lastDialled", "lastCaller"]) else { return nil }
        var f = PortFeatures()
        if let forward = try? o.optional("forward")?.object(allowed: ForwardCondition.allCases.map(\.rawValue)) {
            for c in ForwardCondition.allCases { f.forwards[c] = try? forward.optional(c.rawValue)?.nonEmptyString() }
        }
        f.noAnswerSeconds = (try? o.optional("noAnswerSeconds")?.int(in: 5...120)) ?? f.noAnswerSeconds
        f.doNotDisturb = (try? o.optional("dnd")?.bool()) ?? false
        if let dials = try? o.optional("speedDial")?.object(allowed: Configuration.speedDialCodes) {
            for code in dials.keys { f.speedDials[code] = try? dials.required(code).nonEmptyString() }
        }
        f.lastDialled = try? o.optional("lastDialled")?.nonEmptyString()
        f.lastCaller = try? o.optional("lastCaller")?.nonEmptyString()
        return f
    }
}
