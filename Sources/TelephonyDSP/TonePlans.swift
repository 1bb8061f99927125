public import TipRingCore

/// One region's row in the table below, as written.
struct RegionPlanEntry: Sendable {
    var code: String
    var name: String
    var ring: [Int64]
    var ringHz: Double
    var callerID: CallerIDStandard
    var dtmf: (low: Double, high: Double)
    var tones: [ToneKind: String]

    init(_ code: String, _ name: String, ring: [Int64], ringHz: Double, callerID: CallerIDStandard, dtmf: (Double, Double), tones: [ToneKind: String]) {
        self.code = code
        self.name = name
        self.ring = ring
        self.ringHz = ringHz
        self.callerID = callerID
        self.dtmf = (dtmf.0, dtmf.1)
        self.tones = tones
    }
}

extension RegionTonePlan {
    /// Tone levels per component (dBm0), by kind: within ITU-T E.180's recommended
    /// −10…−20 dBm0 range; the howler is loud on purpose (its four components sum to just
    /// under full scale).
    static let levels: [ToneKind: Double] = [
        .dial: -13, .stutterDial: -13, .dialRecall: -13, .confirmation: -13,
        .ringback: -16, .busy: -16, .congestion: -16, .callWaiting: -16,
        .specialInformation: -16, .noService: -16, .howler: -9,
    ]

    /// The receiver-off-hook tone where a region has none of its own: the Telcordia
    /// four-tone howler (1400+2060+2450+2600 Hz, 0.1 s on / 0.1 s off).
    static let defaultHowler = "1400+2060+2450+2600/100,0/100"

    /// Every region with a tone plan, by ISO 3166 code.
    public static let all: [String: RegionTonePlan] = {
        var out: [String: RegionTonePlan] = [:]
        for e in table {
            var tones: [ToneKind: Tone] = [:]
            var patterns = e.tones
            // Tones every port needs that tone tables often lack: derived from the
            // region's own dial tone and special information tone.
            let dial = patterns[.dial] ?? "425"
            let dialFrequency = dial.split(separator: "/").first.map(String.init) ?? "425"
            if patterns[.confirmation] == nil {
                patterns[.confirmation] = "!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100"
            }
            if patterns[.howler] == nil { patterns[.howler] = defaultHowler }
            // No service: the special-information tri-tone with a short gap, so it is told
            // apart from the region's own special information tone (1 s gap or played once).
            if patterns[.noService] == nil { patterns[.noService] = "950/330,1400/330,1800/330,0/330" }
            if patterns[.dialRecall] == nil { patterns[.dialRecall] = dial }
            if patterns[.stutterDial] == nil { patterns[.stutterDial] = "!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100,!0/100,\(dialFrequency)" }
            for (kind, pattern) in patterns {
                do {
                    tones[kind] = try Tone(pattern, level: levels[kind] ?? -13)
                } catch {
                    preconditionFailure("tone table: \(e.code) \(kind): \(error)")
                }
            }
            let region = Region(e.code)!
            out[e.code] = RegionTonePlan(
                region: region, name: e.name, tones: tones,
                ringing: RegionalRinging(cadence: RingCadence(milliseconds: e.ring), frequency: e.ringHz),
                callerID: e.callerID, dtmfLowLevel: e.dtmf.low, dtmfHighLevel: e.dtmf.high)
        }
        return out
    }()

    public static func forRegion(_ region: Region) -> RegionTonePlan? { all[region.code] }
}
