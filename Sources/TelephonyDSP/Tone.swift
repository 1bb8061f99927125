public import TipRingCore

/// The call-progress and service tones a port plays.
public enum ToneKind: String, Sendable, Hashable, CaseIterable, Comparable {
    case dial, ringback, busy, congestion, callWaiting, stutterDial, dialRecall
    /// Receiver off-hook ("howler"): the phone was left off-hook.
    case howler
    case specialInformation
    case confirmation
    /// Played when a port is off-hook but not registered: distinct from dial tone.
    case noService

    public static func < (a: ToneKind, b: ToneKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A tone: a sequence of segments, each a sum of sines (or one amplitude-modulated sine)
/// or silence, for a time or for ever.
///
/// Written in the notation common to telephony tone tables (DAHDI, Asterisk):
/// `350+440` (continuous sum), `480+620/500,0/500` (cadence, repeated), `400*25`
/// (400 Hz modulated by 25 Hz), a leading `!` marks a segment played once (the repetition
/// restarts at the first segment without it), and a segment without `/ms` lasts for ever.
public struct Tone: Sendable, Hashable, CustomStringConvertible {
    public struct Segment: Sendable, Hashable {
        /// Frequencies summed; empty for silence.
        public var frequencies: [Double]
        /// When set, the first frequency is amplitude-modulated by this one (100 %) instead.
        public var modulation: Double?
        /// Length in milliseconds; nil = for ever.
        public var milliseconds: Int?
        /// Played once, not part of the repetition.
        public var once: Bool

        public var isSilence: Bool { frequencies.isEmpty }
    }

    public var segments: [Segment]
    /// Level of each frequency component, dBm0.
    public var level: Double
    /// The text it was parsed from.
    public let pattern: String

    public struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        public var description: String
    }

    public init(_ pattern: String, level: Double = -13) throws(ParseError) {
        self.pattern = pattern
        self.level = level
        var segs: [Segment] = []
        for raw in pattern.split(separator: ",", omittingEmptySubsequences: false) {
            var s = Substring(raw)
            guard !s.isEmpty else { throw ParseError(description: "empty segment in '\(pattern)'") }
            var once = false
            if s.hasPrefix("!") { once = true; s = s.dropFirst() }
            var ms: Int?
            if let slash = s.firstIndex(of: "/") {
                guard let v = Int(s[s.index(after: slash)...]), v > 0 else {
                    throw ParseError(description: "bad duration in segment '\(raw)' of '\(pattern)'")
                }
                ms = v
                s = s[..<slash]
            }
            var freqs: [Double] = []
            var modulation: Double?
            if s == "0" {
                // silence
            } else if let star = s.firstIndex(of: "*") {
                guard let c = Double(s[..<star]), let m = Double(s[s.index(after: star)...]), c > 0, m > 0, c < 4000 else {
                    throw ParseError(description: "bad modulated tone '\(s)' in '\(pattern)'")
                }
                freqs = [c]
                modulation = m
            } else {
                for part in s.split(separator: "+", omittingEmptySubsequences: false) {
                    guard let f = Double(part), f > 0, f < 4000 else {
                        throw ParseError(description: "bad frequency '\(part)' in '\(pattern)' (0–4000 Hz)")
                    }
                    freqs.append(f)
                }
                guard freqs.count <= 4 else { throw ParseError(description: "more than four frequencies in '\(s)'") }
            }
            segs.append(Segment(frequencies: freqs, modulation: modulation, milliseconds: ms, once: once))
        }
        for (i, seg) in segs.enumerated() where seg.milliseconds == nil && i != segs.count - 1 {
            throw ParseError(description: "only the last segment may last for ever in '\(pattern)'")
        }
        if segs.allSatisfy(\.once), segs.last?.milliseconds != nil {
            // Everything played once, then silence: fine.
        }
        segments = segs
    }

    /// Every frequency the tone uses (for detectors).
    public var frequencies: Set<Double> {
        var s = Set<Double>()
        for seg in segments { seg.frequencies.forEach { s.insert($0) } }
        return s
    }

    /// The index the repetition restarts from, or nil when the tone does not repeat (it
    /// ends with a segment that lasts for ever, or everything is played once).
    public var repeatStart: Int? {
        if segments.last?.milliseconds == nil { return nil }
        return segments.firstIndex { !$0.once }
    }

    public var description: String { pattern }
}

/// How a region sends caller ID (the senders come with the caller-ID work).
public enum CallerIDStandard: Sendable, Hashable, CustomStringConvertible {
    /// Bell 202 FSK (Telcordia GR-30), in the first silent interval after the first ring.
    case bell202
    /// ETSI EN 300 659 V.23 FSK after the first ring.
    case etsiFSKAfterRing
    /// ETSI V.23 FSK before the first ring, after an alert.
    case etsiFSKBeforeRing(Alert)
    /// DTMF caller ID (ETSI ES 200 778-style, used in the Nordics, the Netherlands, India,
    /// Brazil).
    case dtmf
    /// NTT (Japan): not supported; no caller ID is sent.
    case ntt

    public enum Alert: Sendable, Hashable {
        /// Line polarity reversal, then the dual-tone alerting signal (2130 + 2750 Hz).
        case polarityReversalDTAS
        /// A short ring burst (ring-pulse alerting signal).
        case ringPulse
    }

    public var description: String {
        switch self {
        case .bell202: "bell202"
        case .etsiFSKAfterRing: "etsi-fsk after first ring"
        case .etsiFSKBeforeRing(.polarityReversalDTAS): "etsi-fsk before ring (polarity reversal + DT-AS)"
        case .etsiFSKBeforeRing(.ringPulse): "etsi-fsk before ring (RP-AS)"
        case .dtmf: "dtmf"
        case .ntt: "ntt (unsupported)"
        }
    }
}

/// Everything regional a port needs: tones, ring signal, caller-ID standard, DTMF levels.
public struct RegionTonePlan: Sendable, Hashable {
    public var region: Region
    public var name: String
    public var tones: [ToneKind: Tone]
    public var ringing: RegionalRinging
    public var callerID: CallerIDStandard
    /// DTMF levels of the low and high group, dBm0.
    public var dtmfLowLevel: Double
    public var dtmfHighLevel: Double

    public func tone(_ kind: ToneKind) -> Tone? { tones[kind] }
}
