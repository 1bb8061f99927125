/// How long hook-switch breaks and makes must last to mean something.
///
/// A break (the loop opened: the hook switch went on-hook) is classified by its length:
/// a dial pulse, a flash (recall), or — once it outlasts `hangUpMinimum` — a hang-up.
/// Breaks in the gaps between windows are ignored (and counted, for the bring-up
/// histogram); breaks shorter than `debounce` are contact bounce. Networks and phones
/// disagree widely (DAHDI's flash reaches 1250 ms, Lantiq's is 80–200 ms, Cisco's
/// 100–900 ms), hence named profiles, each value overridable, instead of constants.
public struct HookTimingProfile: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// Edges closer together than this are contact bounce and are merged away.
    public var debounce: Duration
    /// Off-hook must be stable this long before it counts as a seizure.
    public var seize: Duration
    /// A break of this length is one dial pulse.
    public var pulseBreak: ClosedRange<Duration>
    /// A make this long after pulses ends the digit.
    public var digitEnd: Duration
    /// A break of this length is a hook flash (recall).
    public var flash: ClosedRange<Duration>
    /// A break at least this long is a hang-up.
    public var hangUpMinimum: Duration

    public init(
        name: String, debounce: Duration, seize: Duration, pulseBreak: ClosedRange<Duration>,
        digitEnd: Duration, flash: ClosedRange<Duration>, hangUpMinimum: Duration
    ) {
        self.name = name
        self.debounce = debounce
        self.seize = seize
        self.pulseBreak = pulseBreak
        self.digitEnd = digitEnd
        self.flash = flash
        self.hangUpMinimum = hangUpMinimum
    }

    /// Zyxel B222s firmware defaults, the first target's own phone-port settings:
    /// flash 250–600 ms, hang-up from 700 ms, seizure 150 ms. Pulse breaks 15–90 ms cover
    /// rotary dials at 8–12 pps with 60–67 % break (50–84 ms breaks).
    public static let b222s = HookTimingProfile(
        name: "b222s", debounce: .milliseconds(10), seize: .milliseconds(150),
        pulseBreak: .milliseconds(15) ... .milliseconds(90), digitEnd: .milliseconds(250),
        flash: .milliseconds(250) ... .milliseconds(600), hangUpMinimum: .milliseconds(700))

    /// North America: switch-hook flash as Telcordia-style lines and common ATAs
    /// (Grandstream HT80x defaults) accept it, 300–1100 ms; a longer break is a
    /// disconnect. Dial pulses at 10 ± 1 pps with 58–64 % break are 52–71 ms.
    public static let us = HookTimingProfile(
        name: "us", debounce: .milliseconds(10), seize: .milliseconds(150),
        pulseBreak: .milliseconds(15) ... .milliseconds(90), digitEnd: .milliseconds(250),
        flash: .milliseconds(300) ... .milliseconds(1100), hangUpMinimum: .milliseconds(1200))

    /// United Kingdom: timed break recall is a 100 ms break (PBX guides detect 70–125 ms;
    /// BT SIN 351 gives 100 ms nominal), so dial pulses must stay below it: UK 10 pps
    /// loop-disconnect breaks of 66 % are ≈ 66 ms. Clear from 400 ms.
    public static let gb = HookTimingProfile(
        name: "gb", debounce: .milliseconds(10), seize: .milliseconds(150),
        pulseBreak: .milliseconds(15) ... .milliseconds(75), digitEnd: .milliseconds(250),
        flash: .milliseconds(80) ... .milliseconds(130), hangUpMinimum: .milliseconds(400))

    /// Germany: the R key sends a timed break of about 90–120 ms ("Flash"); rotary (IWV)
    /// dials make 60 ms breaks / 40 ms makes at 10 pps. Clear from 400 ms.
    public static let de = HookTimingProfile(
        name: "de", debounce: .milliseconds(10), seize: .milliseconds(150),
        pulseBreak: .milliseconds(15) ... .milliseconds(75), digitEnd: .milliseconds(250),
        flash: .milliseconds(80) ... .milliseconds(200), hangUpMinimum: .milliseconds(400))

    /// Permissive default: Cisco SPA112-style flash window 100–900 ms, hang-up from
    /// 1000 ms, pulses up to 95 ms — accepts most phones, at the cost of a slower hang-up.
    public static let permissive = HookTimingProfile(
        name: "default", debounce: .milliseconds(10), seize: .milliseconds(100),
        pulseBreak: .milliseconds(15) ... .milliseconds(95), digitEnd: .milliseconds(250),
        flash: .milliseconds(100) ... .milliseconds(900), hangUpMinimum: .milliseconds(1000))

    /// The named profiles a board file or configuration may ask for.
    public static let named: [HookTimingProfile] = [.b222s, .us, .gb, .de, .permissive]

    public static func named(_ name: String) -> HookTimingProfile? {
        named.first { $0.name == name }
    }

    /// Why this profile cannot be used, or nil when it is consistent: windows must not
    /// overlap and must come in the order debounce < pulse < flash < hang-up.
    public var inconsistency: String? {
        func ms(_ d: Duration) -> String { "\(Int64(d.milliseconds)) ms" }
        if debounce <= .zero { return "debounce must be positive" }
        if pulseBreak.lowerBound < debounce {
            return "pulse break minimum (\(ms(pulseBreak.lowerBound))) is below the debounce time (\(ms(debounce)))"
        }
        if flash.lowerBound <= pulseBreak.upperBound {
            return "flash window \(ms(flash.lowerBound))–\(ms(flash.upperBound)) overlaps the pulse window \(ms(pulseBreak.lowerBound))–\(ms(pulseBreak.upperBound))"
        }
        if hangUpMinimum <= flash.upperBound {
            return "hang-up minimum (\(ms(hangUpMinimum))) is not above the flash maximum (\(ms(flash.upperBound)))"
        }
        if digitEnd <= debounce { return "digit end (\(ms(digitEnd))) must be above the debounce time" }
        if seize < debounce { return "seizure time (\(ms(seize))) is below the debounce time" }
        return nil
    }

    public var description: String {
        func ms(_ d: Duration) -> Int64 { Int64(d.milliseconds) }
        return "\(name): pulse \(ms(pulseBreak.lowerBound))–\(ms(pulseBreak.upperBound)) ms, flash \(ms(flash.lowerBound))–\(ms(flash.upperBound)) ms, hang-up ≥ \(ms(hangUpMinimum)) ms, seize \(ms(seize)) ms"
    }
}

/// Changes to a timing profile: another named profile to start from, and single values. A
/// board file names its profile; a configuration file adjusts it per port (a telephone
/// with a slow flash, a rotary dial that breaks long).
public struct HookTimingOverrides: Sendable, Hashable {
    /// A named profile to start from instead of the one given.
    public var base: String?
    public var debounce: Duration?
    public var seize: Duration?
    public var pulseBreak: ClosedRange<Duration>?
    public var digitEnd: Duration?
    public var flash: ClosedRange<Duration>?
    public var hangUpMinimum: Duration?

    public init(base: String? = nil) { self.base = base }

    public var isEmpty: Bool { self == HookTimingOverrides() }

    /// `profile` (or the named base) with the changes; the reason when the result is
    /// inconsistent or the base unknown.
    public func applied(to profile: HookTimingProfile) -> Result<HookTimingProfile, HookTimingError> {
        var p = profile
        if let base {
            guard let named = HookTimingProfile.named(base) else {
                return .failure(HookTimingError(description: "no timing profile '\(base)' (known: \(HookTimingProfile.named.map(\.name).joined(separator: ", ")))"))
            }
            p = named
        }
        if let debounce { p.debounce = debounce }
        if let seize { p.seize = seize }
        if let pulseBreak { p.pulseBreak = pulseBreak }
        if let digitEnd { p.digitEnd = digitEnd }
        if let flash { p.flash = flash }
        if let hangUpMinimum { p.hangUpMinimum = hangUpMinimum }
        if self != HookTimingOverrides(base: base) { p.name += " (adjusted)" }
        if let why = p.inconsistency { return .failure(HookTimingError(description: "inconsistent timing profile: \(why)")) }
        return .success(p)
    }
}

public struct HookTimingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}
