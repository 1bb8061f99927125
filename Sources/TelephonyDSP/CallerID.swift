#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// The caller-ID schemes TipRing sends, and the signals around them.
public enum CallerIDScheme: Sendable, Hashable, CustomStringConvertible {
    /// Bell 202 FSK, MDMF (or SDMF), in the first silent interval after the first ring.
    case bell202(CallerIDMessage.Format)
    /// V.23 FSK per ETSI EN 300 659-1 after the first ring.
    case etsiAfterRing
    /// V.23 FSK before the first ring: line reversal, then the dual-tone alerting signal.
    case etsiDTAS
    /// V.23 FSK before the first ring after a ring-pulse alerting signal.
    case etsiRPAS
    /// DTMF digits before the first ring.
    case dtmf(DTMFCallerIDFormat)

    public var description: String {
        switch self {
        case .bell202(.multiple): "bell202 (MDMF, after first ring)"
        case .bell202(.single): "bell202 (SDMF, after first ring)"
        case .etsiAfterRing: "etsi V.23 after first ring"
        case .etsiDTAS: "etsi V.23 before ring (reversal + DT-AS)"
        case .etsiRPAS: "etsi V.23 before ring (RP-AS)"
        case .dtmf(let f): "dtmf \(f)"
        }
    }

    /// The scheme a region's standard uses.
    public init?(_ standard: CallerIDStandard) {
        switch standard {
        case .bell202: self = .bell202(.multiple)
        case .etsiFSKAfterRing: self = .etsiAfterRing
        case .etsiFSKBeforeRing(.polarityReversalDTAS): self = .etsiDTAS
        case .etsiFSKBeforeRing(.ringPulse): self = .etsiRPAS
        case .dtmf: self = .dtmf(.aToC)
        case .ntt: return nil
        }
    }

    public var modem: FSKModem? {
        switch self {
        case .bell202: .bell202
        case .etsiAfterRing, .etsiDTAS, .etsiRPAS: .v23
        case .dtmf: nil
        }
    }

    /// Whether it is sent before the first ring (after an alert), or in the first silence.
    public var beforeRing: Bool {
        switch self {
        case .bell202, .etsiAfterRing: false
        case .etsiDTAS, .etsiRPAS, .dtmf: true
        }
    }
}

/// The common forms of DTMF caller ID: start and end digits around the number.
public enum DTMFCallerIDFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `A<number>C` (ETSI ES 200 778 style; Denmark, the Netherlands, Sweden, …).
    case aToC = "A…C"
    /// `D<number>C` (Taiwan and some PBXs).
    case dToC = "D…C"
    /// `<number>#` (Brazil, India).
    case hashTerminated = "…#"

    public var description: String { rawValue }

    /// The digits to send. Absence is sent as an information code: `B00` out of area,
    /// `B10` private (the `…#` form has none: nothing is sent).
    public func digits(for info: CallerIDInfo) -> String? {
        let body: String
        if let n = info.number, !n.isEmpty, n.allSatisfy({ "0123456789".contains($0) }) {
            body = n
        } else if self != .hashTerminated {
            body = info.numberAbsence == .private ? "B10" : "B00"
        } else {
            return nil
        }
        switch self {
        case .aToC: return body.hasPrefix("B") ? body + "C" : "A" + body + "C"
        case .dToC: return body.hasPrefix("B") ? body + "C" : "D" + body + "C"
        case .hashTerminated: return body + "#"
        }
    }

    /// Parses received digits in any of the forms.
    public static func parse(_ digits: String) -> CallerIDInfo? {
        var d = digits
        if d.hasPrefix("B"), d.hasSuffix("C") {
            let code = d.dropFirst().dropLast()
            return CallerIDInfo(numberAbsence: code == "10" ? .private : .outOfArea)
        }
        if d.hasPrefix("A") || d.hasPrefix("D") { d.removeFirst() }
        if d.hasSuffix("C") || d.hasSuffix("#") { d.removeLast() }
        guard !d.isEmpty, d.allSatisfy({ "0123456789".contains($0) }) else { return nil }
        return CallerIDInfo(number: d)
    }
}

/// The standards' timing, as checked constants (milliseconds).
public enum CallerIDTiming {
    /// Telcordia GR-30 / ETSI EN 300 659-1 (after ringing): data starts at least 500 ms after
    /// the end of the first ring…
    public static let afterRingDelay = 500...2000
    /// …and ends at least 200 ms before the next ring.
    public static let beforeNextRing = 200
    /// ETSI EN 300 659-1 (DT-AS): the alerting signal starts at least 100 ms after the line
    /// reversal…
    public static let reversalToAlert = 100...500
    /// …lasts 88–110 ms (2130 + 2750 Hz)…
    public static let alertDuration = 88...110
    /// …and data starts 45–500 ms after it ends.
    public static let alertToData = 45...500
    /// RP-AS: a ring pulse of 200–300 ms, then data 500–800 ms after it.
    public static let ringPulseDuration = 200...300
    public static let ringPulseToData = 500...800
    /// The first ring follows the data by at least 200 ms (before-ring schemes).
    public static let dataToFirstRing = 200
    /// DTMF caller ID digits: 70 ms on, 70 ms off.
    public static let dtmfOn = 70, dtmfOff = 70

    /// What TipRing uses inside those windows.
    public static let chosenAfterRingDelay = 600
    public static let chosenReversalToAlert = 150
    public static let chosenAlertDuration = 100
    public static let chosenAlertToData = 60
    public static let chosenRingPulse = 250
    public static let chosenRingPulseToData = 600
    public static let chosenDataToRing = 300
}

/// When each part of a caller-ID delivery happens, relative to the start of ringing
/// (after-ring schemes) or to the start of the delivery (before-ring schemes), and the
/// audio to play. The port controller executes it together with the ringer.
public struct CallerIDPlan: Sendable {
    public enum Step: Sendable, Hashable {
        /// Reverse the line polarity (ETSI DT-AS), and restore it after the data.
        case reversePolarity
        case restorePolarity
        /// Play audio with the line in on-hook transmission.
        case play(samples: Int)
        /// A short ring burst (RP-AS), milliseconds.
        case ringPulse(milliseconds: Int)
        /// Start the normal ring cadence.
        case startRinging
    }

    /// (time offset in ms, step).
    public var steps: [(offset: Int, step: Step)]
    /// The audio of the `play` steps, in order.
    public var audio: [[Int16]]
}

/// Makes caller-ID and message-waiting signals.
public enum CallerIDSender {
    /// The dual-tone alerting signal: 2130 + 2750 Hz, each at `level`.
    public static func alertingSignal(milliseconds: Int = CallerIDTiming.chosenAlertDuration, level: Double = -16) -> [Int16] {
        let g = DTMFGenerator(lowLevel: level, highLevel: level, onMilliseconds: milliseconds, offMilliseconds: 0)
        return g.tone(low: 2130, high: 2750)
    }

    /// The audio of a message for an FSK scheme (seizure, mark, message), or of the digits
    /// for DTMF caller ID. Nil when there is nothing to send (a `…#` DTMF format with no number).
    public static func audio(_ message: CallerIDMessage, scheme: CallerIDScheme, onHook: Bool = true, level: Double = -13, frequencyScale: Double = 1) -> [Int16]? {
        switch scheme {
        case .bell202(let format):
            let bits = FSKModem.bits(for: message.encode(format), seizure: onHook, markBits: onHook ? FSKModem.onHookMarkBits : FSKModem.offHookMarkBits)
            return FSKModem.bell202.modulate(bits, level: level, frequencyScale: frequencyScale)
        case .etsiAfterRing, .etsiDTAS, .etsiRPAS:
            let bits = FSKModem.bits(for: message.encode(.multiple), seizure: onHook, markBits: onHook ? FSKModem.onHookMarkBits : FSKModem.offHookMarkBits)
            return FSKModem.v23.modulate(bits, level: level, frequencyScale: frequencyScale)
        case .dtmf(let format):
            guard case .callerID(let info) = message, let digits = format.digits(for: info) else { return nil }
            let g = DTMFGenerator(lowLevel: level + 3, highLevel: level + 5, onMilliseconds: CallerIDTiming.dtmfOn, offMilliseconds: CallerIDTiming.dtmfOff)
            return g.render(digits)
        }
    }

    /// The full delivery plan with the ring cadence's first ring and silence.
    public static func plan(_ message: CallerIDMessage, scheme: CallerIDScheme, cadence: RingCadence) -> CallerIDPlan? {
        guard let data = audio(message, scheme: scheme) else { return nil }
        let dataMs = data.count / 8
        switch scheme {
        case .bell202, .etsiAfterRing:
            guard let first = cadence.segments.first, first.ring, cadence.segments.count > 1 else { return nil }
            let ringMs = Int(first.duration.nanoseconds / 1_000_000)
            let silenceMs = Int(cadence.segments[1].duration.nanoseconds / 1_000_000)
            let start = ringMs + CallerIDTiming.chosenAfterRingDelay
            // Does the spill fit the first silence? If not, send it anyway but later rings
            // wait: the controller holds the second ring until after the data.
            _ = silenceMs
            return CallerIDPlan(steps: [(0, .startRinging), (start, .play(samples: data.count))], audio: [data])
        case .etsiDTAS:
            let alert = alertingSignal()
            let a = CallerIDTiming.chosenReversalToAlert
            let d = a + CallerIDTiming.chosenAlertDuration + CallerIDTiming.chosenAlertToData
            let end = d + dataMs
            return CallerIDPlan(steps: [
                (0, .reversePolarity), (a, .play(samples: alert.count)), (d, .play(samples: data.count)),
                (end, .restorePolarity), (end + CallerIDTiming.chosenDataToRing, .startRinging),
            ], audio: [alert, data])
        case .etsiRPAS:
            let d = CallerIDTiming.chosenRingPulse + CallerIDTiming.chosenRingPulseToData
            return CallerIDPlan(steps: [
                (0, .ringPulse(milliseconds: CallerIDTiming.chosenRingPulse)), (d, .play(samples: data.count)),
                (d + dataMs + CallerIDTiming.chosenDataToRing, .startRinging),
            ], audio: [data])
        case .dtmf:
            return CallerIDPlan(steps: [
                (0, .reversePolarity), (CallerIDTiming.chosenReversalToAlert, .play(samples: data.count)),
                (CallerIDTiming.chosenReversalToAlert + dataMs, .restorePolarity),
                (CallerIDTiming.chosenReversalToAlert + dataMs + CallerIDTiming.chosenDataToRing, .startRinging),
            ], audio: [data])
        }
    }
}

/// Receives caller ID the way a telephone's display does.
public enum CallerIDReceiver {
    /// Every message in the audio, decoded.
    public static func decode(_ samples: [Int16], scheme: CallerIDScheme) -> [CallerIDMessage] {
        switch scheme {
        case .dtmf:
            return DTMFCallerIDFormat.parse(DTMFDetector.detect(samples)).map { [.callerID($0)] } ?? []
        default:
            return FSKReceiver.messages(in: samples, modem: scheme.modem!).compactMap { try? CallerIDMessage.decode($0) }
        }
    }

    /// Whether a dual-tone alerting signal (2130 + 2750 Hz) of at least 80 ms is present,
    /// and where it starts (sample index).
    public static func alertingSignal(in x: [Int16]) -> Int? {
        let block = 80
        var run = 0
        var start = 0
        var i = 0
        while i + block <= x.count {
            var e = 0.0
            for v in x[i..<(i + block)] { e += Double(v) * Double(v) }
            let p1 = goertzel(x[i..<(i + block)], 2130), p2 = goertzel(x[i..<(i + block)], 2750)
            let on = e > 1000 * Double(block) && p1 / e > 0.25 && p2 / e > 0.25
            if on {
                if run == 0 { start = i }
                run += 1
                if run * block >= 640 { return start }
            } else {
                run = 0
            }
            i += block
        }
        return nil
    }

    static func goertzel(_ x: ArraySlice<Int16>, _ f: Double) -> Double {
        let w = 2 * Double.pi * f / 8000, c = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for v in x { let s0 = Double(v) + c * s1 - s2; s2 = s1; s1 = s0 }
        return 2 * (s1 * s1 + s2 * s2 - c * s1 * s2) / Double(x.count)
    }
}
