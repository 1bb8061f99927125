public import TipRingCore

/// What a feature code asks for.
public enum FeatureRequest: Sendable, Hashable {
    /// Forward calls (always, when busy, when not answered) to a number, or stop (nil).
    case forward(ForwardCondition, to: String?)
    /// Every forward off.
    case cancelAllForwards
    case doNotDisturb(Bool)
    /// One call with the identity withheld (CLIR) or presented (overriding the setting).
    case callWithheld(String)
    case callPresented(String)
    /// One call during which a second caller gets busy instead of the call-waiting tone.
    case callWithoutWaiting(String)
    /// Call back whoever called last, or the number dialled last.
    case returnLastCall
    case redial
    /// A two-digit speed-dial code for a number.
    case setSpeedDial(code: String, number: String)
}

public enum ForwardCondition: String, Sendable, Hashable, CaseIterable {
    case always, busy, noAnswer = "no-answer"
}

/// One feature code: digits, `*` and `#` as dialled, `N` for a number (ended by the
/// pattern's next character, by `#`, by the dial plan, or by the inter-digit timeout) and
/// `SS` for a two-digit speed-dial code. `*72N`, `*21*N#`, `*74SSN`.
public struct FeatureCode: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    public let feature: Feature

    /// The features a code may name, as the configuration names them.
    public enum Feature: String, Sendable, Hashable, CaseIterable {
        case forwardAlwaysOn = "forward-always-on", forwardAlwaysOff = "forward-always-off"
        case forwardBusyOn = "forward-busy-on", forwardBusyOff = "forward-busy-off"
        case forwardNoAnswerOn = "forward-no-answer-on", forwardNoAnswerOff = "forward-no-answer-off"
        case forwardAllOff = "forward-all-off"
        case doNotDisturbOn = "dnd-on", doNotDisturbOff = "dnd-off"
        case withholdOnce = "withhold-once", presentOnce = "present-once", noCallWaitingOnce = "no-call-waiting-once"
        case returnLastCall = "return-last-call", redial = "redial", setSpeedDial = "set-speed-dial"

        /// Whether the code carries a number (`N`), and a speed-dial code (`SS`).
        var takesNumber: Bool {
            switch self {
            case .forwardAlwaysOn, .forwardBusyOn, .forwardNoAnswerOn, .withholdOnce, .presentOnce, .noCallWaitingOnce, .setSpeedDial: true
            case .forwardAlwaysOff, .forwardBusyOff, .forwardNoAnswerOff, .forwardAllOff, .doNotDisturbOn, .doNotDisturbOff, .returnLastCall, .redial: false
            }
        }
    }

    enum Token: Hashable { case literal(Character), number, speedCode }
    let tokens: [Token]

    /// A code, or why the pattern is not one (it names the feature and the pattern).
    public init(_ pattern: String, _ feature: Feature) throws(FeatureCodeError) {
        var tokens: [Token] = []
        var rest = Substring(pattern)
        while let c = rest.first {
            if rest.hasPrefix("SS") {
                tokens.append(.speedCode)
                rest = rest.dropFirst(2)
            } else if c == "N" {
                tokens.append(.number)
                rest = rest.dropFirst()
            } else if "0123456789*#".contains(c) {
                tokens.append(.literal(c))
                rest = rest.dropFirst()
            } else {
                throw FeatureCodeError("feature code '\(pattern)' for \(feature.rawValue): only digits, '*', '#', 'N' (a number) and 'SS' (a speed-dial code)")
            }
        }
        let numbers = tokens.filter { $0 == .number }.count, speed = tokens.filter { $0 == .speedCode }.count
        guard case .literal? = tokens.first else { throw FeatureCodeError("feature code '\(pattern)' for \(feature.rawValue) must start with a digit, '*' or '#'") }
        guard numbers == (feature.takesNumber ? 1 : 0), speed == (feature == .setSpeedDial ? 1 : 0) else {
            throw FeatureCodeError("feature code '\(pattern)' for \(feature.rawValue) " + (feature.takesNumber ? "needs one N (the number)" : "takes no number") + (feature == .setSpeedDial ? " and one SS" : ""))
        }
        self.pattern = pattern
        self.feature = feature
        self.tokens = tokens
    }

    public var description: String { "\(pattern) (\(feature.rawValue))" }

    /// How `digits` stand against the code.
    enum Match: Equatable {
        case no
        /// A beginning of it: more digits may complete it.
        case partial
        /// A beginning that ends with a number which may already be whole.
        case openNumber(number: String, code: String)
        case complete(number: String, code: String)
    }

    func match(_ digits: String) -> Match {
        var number = "", code = ""
        var d = Substring(digits)
        for (i, token) in tokens.enumerated() {
            switch token {
            case .literal(let c):
                guard let first = d.first else { return .partial }
                guard first == c else { return .no }
                d = d.dropFirst()
            case .speedCode:
                let two = d.prefix(2)
                guard two.allSatisfy(\.isASCIIDigitCharacter) else { return .no }
                code = String(two)
                d = d.dropFirst(two.count)
                if two.count < 2 { return .partial }
            case .number:
                // The number runs to the next literal of the pattern (or to '#' or the end).
                let end: Character? = i + 1 < tokens.count ? { if case .literal(let c) = tokens[i + 1] { c } else { nil } }() : nil
                let run = d.prefix { $0 != "#" && $0 != end && $0 != "*" }
                number = String(run)
                d = d.dropFirst(run.count)
                if d.isEmpty { return number.isEmpty ? .partial : .openNumber(number: number, code: code) }
                if number.isEmpty { return .no }
                // A '#' that no literal asks for ends the number and the code.
                if end == nil {
                    return d == "#" ? .complete(number: number, code: code) : .no
                }
            }
        }
        return d.isEmpty ? .complete(number: number, code: code) : .no
    }

    func request(number: String, code: String) -> FeatureRequest {
        switch feature {
        case .forwardAlwaysOn: .forward(.always, to: number)
        case .forwardAlwaysOff: .forward(.always, to: nil)
        case .forwardBusyOn: .forward(.busy, to: number)
        case .forwardBusyOff: .forward(.busy, to: nil)
        case .forwardNoAnswerOn: .forward(.noAnswer, to: number)
        case .forwardNoAnswerOff: .forward(.noAnswer, to: nil)
        case .forwardAllOff: .cancelAllForwards
        case .doNotDisturbOn: .doNotDisturb(true)
        case .doNotDisturbOff: .doNotDisturb(false)
        case .withholdOnce: .callWithheld(number)
        case .presentOnce: .callPresented(number)
        case .noCallWaitingOnce: .callWithoutWaiting(number)
        case .returnLastCall: .returnLastCall
        case .redial: .redial
        case .setSpeedDial: .setSpeedDial(code: code, number: number)
        }
    }
}

/// A feature code that is not one, in words that name the feature and the pattern.
public struct FeatureCodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension Character {
    var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}

/// A port's feature codes: the region's (as its carriers' handset guides teach them), with
/// the configuration's changes. Dialled digits are checked here before the dial plan sees
/// them, so a code never reaches the network as a number.
public struct FeatureCodeTable: Sendable, Hashable {
    public private(set) var codes: [FeatureCode]

    public init(_ codes: [FeatureCode]) {
        self.codes = codes
    }

    /// What the digits so far are to the table.
    public enum Verdict: Equatable {
        /// No code begins so: the dial plan's business.
        case notACode
        /// Only a code begins so: wait for more.
        case incomplete
        /// A code whose number may be whole now; `#` or the timeout ends it, or more digits.
        case complete(FeatureRequest, numberOpen: Bool)
    }

    /// The verdict on `digits`; `numberComplete` says whether the dial plan would dial the
    /// number part as it stands (then an open number counts as whole).
    public func verdict(_ digits: String, numberComplete: (String) -> Bool = { _ in false }) -> Verdict {
        var waiting = false
        for code in codes {
            switch code.match(digits) {
            case .complete(let number, let speed):
                return .complete(code.request(number: number, code: speed), numberOpen: false)
            case .openNumber(let number, let speed):
                if code.tokens.last == .number, numberComplete(number) {
                    return .complete(code.request(number: number, code: speed), numberOpen: true)
                }
                waiting = true
            case .partial:
                waiting = true
            case .no:
                break
            }
        }
        return waiting ? .incomplete : .notACode
    }

    /// The request an open number makes when the inter-digit timer runs out.
    public func requestOnTimeout(_ digits: String) -> FeatureRequest? {
        for code in codes {
            if case .openNumber(let number, let speed) = code.match(digits), code.tokens.last == .number {
                return code.request(number: number, code: speed)
            }
        }
        return nil
    }

    /// The codes with some replaced or added (by feature), and some features left to the
    /// network (their digits dialled out like any number, for a carrier that does them).
    public func with(_ changes: [FeatureCode], without removed: Set<FeatureCode.Feature> = []) -> FeatureCodeTable {
        let changed = Set(changes.map(\.feature)).union(removed)
        return FeatureCodeTable(codes.filter { !changed.contains($0.feature) } + changes)
    }

    /// No codes at all: every digit goes to the network.
    public static let none = FeatureCodeTable([])

    /// North American Numbering Plan countries (Telcordia vertical service codes).
    static let northAmerica: Set<String> = [
        "us", "ca", "pr", "vi", "gu", "as", "mp", "ag", "ai", "bb", "bm", "bs", "dm", "do", "gd", "jm", "kn", "ky", "lc", "ms", "sx", "tc", "tt", "vc", "vg",
    ]
    static let britishIsles: Set<String> = ["gb", "gg", "je", "im"]

    /// The region's codes: NANP vertical service codes; CEPT/GSM procedures (ETSI) elsewhere
    /// in Europe and the world; those with BT's 141/1470 for withholding in the UK.
    public static func defaults(for region: Region) -> FeatureCodeTable {
        func make(_ list: [(String, FeatureCode.Feature)]) -> FeatureCodeTable {
            FeatureCodeTable(list.compactMap { try? FeatureCode($0.0, $0.1) })
        }
        if northAmerica.contains(region.code) {
            return make([
                ("*72N", .forwardAlwaysOn), ("*73", .forwardAlwaysOff), ("*90N", .forwardBusyOn), ("*91", .forwardBusyOff),
                ("*92N", .forwardNoAnswerOn), ("*93", .forwardNoAnswerOff), ("*78", .doNotDisturbOn), ("*79", .doNotDisturbOff),
                ("*67N", .withholdOnce), ("*82N", .presentOnce), ("*70N", .noCallWaitingOnce), ("*69", .returnLastCall),
                ("*66", .redial), ("*74SSN", .setSpeedDial),
            ])
        }
        var europe: [(String, FeatureCode.Feature)] = [
            ("*21*N#", .forwardAlwaysOn), ("#21#", .forwardAlwaysOff), ("*67*N#", .forwardBusyOn), ("#67#", .forwardBusyOff),
            ("*61*N#", .forwardNoAnswerOn), ("#61#", .forwardNoAnswerOff), ("##002#", .forwardAllOff),
            ("*26#", .doNotDisturbOn), ("#26#", .doNotDisturbOff), ("#43#N", .noCallWaitingOnce),
            ("*69#", .returnLastCall), ("*66#", .redial), ("*74*SS*N#", .setSpeedDial),
        ]
        if britishIsles.contains(region.code) {
            europe += [("141N", .withholdOnce), ("1470N", .presentOnce)]
        } else {
            europe += [("#31#N", .withholdOnce), ("*31#N", .presentOnce)]
        }
        return make(europe)
    }
}
