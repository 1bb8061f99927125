public import TipRingCore

/// Reads and checks board files (`boards/*.json5`).
///
/// A board file is JSON5:
/// ```json5
/// {
///   name: "sim", description: "…", driver: "ag1171", verified: true,
///   timingProfile: "b222s",          // or { base: "b222s", flashMs: [250, 600], … }
///   ports: [{
///     id: 1, gpioChip: "gpiochip0",
///     signals: { hookSense: { line: 4, activeLow: true }, ringMode: { line: 5 },
///                powerDown: { line: 6, activeLow: true, drive: "open-drain" }, … },
///     audio: { device: "plughw:CARD=Codec,DEV=0", sampleRate: 8000, periodMs: 20 },
///     ring: { frequencyHz: 25, minHz: 20, maxHz: 50 },
///   }],
/// }
/// ```
/// Every error names the file, line, column and key path, and says what to fix: unknown
/// keys (with the nearest valid one), missing or foreign signals for the driver kind, a
/// line used twice, values out of range, wrong types.
public enum BoardFile {
    static let topKeys = ["name", "description", "driver", "verified", "timingProfile", "ports"]
    static let portKeys = ["id", "gpioChip", "signals", "audio", "ring"]
    static let signalKeys = ["line", "activeLow", "drive", "bias"]
    static let audioKeys = ["device", "sampleRate", "periodMs"]
    static let ringKeys = ["frequencyHz", "minHz", "maxHz"]
    static let profileKeys = ["base", "debounceMs", "seizeMs", "pulseBreakMs", "digitEndMs", "flashMs", "hangUpMs"]

    /// The ring frequencies any supported SLIC can make (Hz).
    public static let ringFrequencyRange: ClosedRange<Double> = 10...100
    /// GPIO line offsets accepted in a board file.
    public static let offsetRange: ClosedRange<Int64> = 0...65535

    /// Loads and validates a board file.
    public static func load(path: String) throws(DocumentError) -> BoardDescription {
        try decode(DocumentValue.load(path: path))
    }

    /// Parses and validates board-file text; `file` is used in error messages.
    public static func parse(_ text: String, file: String) throws(DocumentError) -> BoardDescription {
        try decode(DocumentValue.parse(Array(text.utf8), file: file))
    }

    public static func decode(_ root: DocumentValue) throws(DocumentError) -> BoardDescription {
        let top = try root.object(allowed: topKeys)
        let name = try top.required("name").nonEmptyString()
        let summary = try top.optional("description")?.string() ?? ""
        let driverValue = try top.required("driver")
        let driver = SLICDriverKind(rawValue: try driverValue.oneOf(SLICDriverKind.allCases.map(\.rawValue)))!
        let verified = try top.required("verified").bool()
        let profile = try top.optional("timingProfile").map { v throws(DocumentError) in try timingProfile(v) } ?? .permissive

        let portsValue = try top.required("ports")
        let portValues = try portsValue.array()
        if portValues.isEmpty { throw portsValue.error("a board needs at least one port") }

        var ports: [PortDescription] = []
        var seenIDs: [Int: String] = [:]
        var seenLines: [String: String] = [:]  // "chip#offset" → path
        for pv in portValues {
            let port = try self.port(pv, driver: driver)
            let idValue = try pv.object(allowed: portKeys).required("id")
            if let other = seenIDs[port.id] {
                throw idValue.error("port id \(port.id) is used twice (also at \(other))")
            }
            seenIDs[port.id] = idValue.path
            let signals = try pv.object(allowed: portKeys).required("signals").object(allowed: SignalRole.allCases.map(\.rawValue))
            for role in port.signals.keys.sorted() {
                let line = port.signals[role]!
                let key = "\(port.gpioChip)#\(line.offset)"
                let lineValue = try signals.required(role.rawValue).object(allowed: signalKeys).required("line")
                if let other = seenLines[key] {
                    throw lineValue.error("line \(line.offset) of \(port.gpioChip) is already used by \(other)")
                }
                seenLines[key] = signals.value.child(role.rawValue)
            }
            ports.append(port)
        }
        return BoardDescription(name: name, summary: summary, driver: driver, verified: verified, timingProfile: profile, ports: ports)
    }

    static func port(_ value: DocumentValue, driver: SLICDriverKind) throws(DocumentError) -> PortDescription {
        let obj = try value.object(allowed: portKeys)
        let id = try obj.required("id").int(in: 1...64)
        let chip = try obj.required("gpioChip").nonEmptyString()

        let signalsValue = try obj.required("signals")
        let signalsObj = try signalsValue.object(allowed: SignalRole.allCases.map(\.rawValue))
        var signals: [SignalRole: SignalLine] = [:]
        for key in signalsObj.keys {
            let role = SignalRole(rawValue: key)!
            let v = signalsObj.optional(key)!
            guard driver.allowedSignals.contains(role) else {
                throw v.error("signal '\(key)' is not used by the \(driver.rawValue) driver (it uses: \(driver.allowedSignals.map(\.rawValue).joined(separator: ", ")))")
            }
            let s = try v.object(allowed: signalKeys)
            let offset = try s.required("line").integer(in: offsetRange)
            let activeLow = try s.optional("activeLow")?.bool() ?? false
            let drive = try s.optional("drive").map { v throws(DocumentError) in
                GPIODrive(rawValue: try v.oneOf(GPIODrive.allCases.map(\.rawValue))) ?? .pushPull
            } ?? .pushPull
            let bias = try s.optional("bias").map { v throws(DocumentError) in
                GPIOBias(rawValue: try v.oneOf(GPIOBias.allCases.map(\.rawValue))) ?? .asIs
            } ?? .asIs
            signals[role] = SignalLine(offset: UInt32(offset), activeLow: activeLow, drive: drive, bias: bias)
            if driver == .ag1171 && role == .powerDown && (!activeLow || drive != .openDrain) {
                // Datasheet pin 14: "A logic (L) on this pin powers down the Ag1171. DO NOT put
                // logic (H) on this pin" (§3.4: drive it through a diode, or leave it open).
                throw v.error("the Ag1171's PD is active-low and must never be driven high (datasheet pin 14): "
                    + "set activeLow: true and drive: 'open-drain', and wire it through a diode")
            }
        }
        for role in driver.requiredSignals where signals[role] == nil {
            throw signalsValue.error("missing signal '\(role.rawValue)', which the \(driver.rawValue) driver needs")
        }

        let audioObj = try obj.required("audio").object(allowed: audioKeys)
        let device = try audioObj.required("device").nonEmptyString()
        let rateValue = audioObj.optional("sampleRate")
        let rate = try rateValue?.int(in: 8000...16000) ?? 8000
        if rate != 8000 && rate != 16000 {
            throw rateValue!.error("sample rate \(rate) is not supported (use 8000, or 16000 for codecs that insist)")
        }
        let periodValue = audioObj.optional("periodMs")
        let period = try periodValue?.int(in: 10...20) ?? 20
        if period != 10 && period != 20 {
            throw periodValue!.error("period \(period) ms is not supported (use 10 or 20)")
        }

        let ringValue = try obj.required("ring")
        let ringObj = try ringValue.object(allowed: ringKeys)
        let freq = try ringObj.required("frequencyHz").number(in: ringFrequencyRange)
        let minHz = try ringObj.optional("minHz")?.number(in: ringFrequencyRange) ?? freq
        let maxHz = try ringObj.optional("maxHz")?.number(in: ringFrequencyRange) ?? freq
        if minHz > maxHz {
            throw ringValue.error("minHz (\(minHz)) is above maxHz (\(maxHz))")
        }
        if freq < minHz || freq > maxHz {
            throw ringObj.optional("frequencyHz")!.error("\(freq) Hz is outside this port's limits \(minHz)…\(maxHz) Hz")
        }

        return PortDescription(
            id: id, gpioChip: chip, signals: signals,
            audio: AudioDeviceDescription(device: device, format: AudioFormat(sampleRate: rate, periodMilliseconds: period)),
            ring: RingLimits(defaultFrequency: freq, minimumFrequency: minHz, maximumFrequency: maxHz))
    }

    /// A profile by name, or `{ base: NAME, …overrides in ms }`.
    public static func timingProfile(_ value: DocumentValue) throws(DocumentError) -> HookTimingProfile {
        if case .object = value.node.kind { _ = try value.object(allowed: profileKeys).required("base") }
        let changes = try timingOverrides(value)
        switch changes.applied(to: .permissive) {
        case .success(let p): return p
        case .failure(let e): throw value.error(e.description)
        }
    }

    /// Changes to a profile: a profile's name, or `{ base?: NAME, …overrides in ms }`.
    public static func timingOverrides(_ value: DocumentValue) throws(DocumentError) -> HookTimingOverrides {
        let names = HookTimingProfile.named.map(\.name)
        if case .string = value.node.kind {
            return HookTimingOverrides(base: try value.oneOf(names))
        }
        let obj = try value.object(allowed: profileKeys)
        var o = HookTimingOverrides(base: try obj.optional("base").map { v throws(DocumentError) in try v.oneOf(names) })
        func ms(_ key: String) throws(DocumentError) -> Duration? {
            try obj.optional(key).map { v throws(DocumentError) in .milliseconds(try v.int(in: 1...5000)) }
        }
        func window(_ key: String) throws(DocumentError) -> ClosedRange<Duration>? {
            guard let v = obj.optional(key) else { return nil }
            let items = try v.array()
            guard items.count == 2 else { throw v.error("expected [minimum, maximum] in milliseconds") }
            let lo = try items[0].int(in: 1...5000), hi = try items[1].int(in: 1...5000)
            guard lo <= hi else { throw v.error("minimum \(lo) ms is above maximum \(hi) ms") }
            return .milliseconds(lo) ... .milliseconds(hi)
        }
        o.debounce = try ms("debounceMs")
        o.seize = try ms("seizeMs")
        o.digitEnd = try ms("digitEndMs")
        o.hangUpMinimum = try ms("hangUpMs")
        o.pulseBreak = try window("pulseBreakMs")
        o.flash = try window("flashMs")
        // With a base named, consistency is known now; otherwise when the board's is.
        if o.base != nil, case .failure(let e) = o.applied(to: .permissive) { throw value.error(e.description) }
        return o
    }
}
