/// A digit map in the style of TR-104 / Cisco ATAs: alternatives in parentheses separated by
/// `|`; in each, `x` is any digit, `[2-9]` or `[13579*]` a set, `.` repeats the element before
/// it (zero or more times), `T` at the end means "complete only when the inter-digit timer
/// runs out", and `0-9 * #` stand for themselves. Examples: `(*xx|[2-9]11|1xxx|0.T)`.
public struct DialPlan: Sendable, Hashable, CustomStringConvertible {
    struct Element: Sendable, Hashable {
        var digits: Set<Character>
        var repeats: Bool
    }

    struct Pattern: Sendable, Hashable {
        var elements: [Element]
        var timer: Bool
        var text: String
    }

    let patterns: [Pattern]
    public let description: String

    /// What to do after the digits so far.
    public enum Decision: Sendable, Hashable {
        /// A complete number that no longer one could extend: dial now.
        case dial
        /// Complete, but a longer number (or a `T` pattern) may follow: dial when the short
        /// inter-digit timer runs out.
        case waitShort
        /// Incomplete: wait for more digits (long inter-digit timer); nothing to dial yet.
        case waitLong
        /// No pattern can match: reorder.
        case reject
    }

    public static let allDigits: Set<Character> = Set("0123456789*#")
    public static let standard = try! DialPlan("(*xx|[2-9]11|x.T)")

    public init(_ text: String) throws(DialPlanError) {
        var t = Substring(text.filter { !$0.isWhitespace })
        if t.hasPrefix("(") {
            guard t.hasSuffix(")") else { throw DialPlanError(plan: text, message: "'(' without a closing ')'") }
            t = t.dropFirst().dropLast()
        }
        guard !t.isEmpty else { throw DialPlanError(plan: text, message: "the dial plan is empty") }
        var out: [Pattern] = []
        for alt in t.split(separator: "|", omittingEmptySubsequences: false) {
            guard !alt.isEmpty else { throw DialPlanError(plan: text, message: "an empty alternative (two '|' in a row, or one at an end)") }
            var elements: [Element] = []
            var timer = false
            var i = alt.startIndex
            while i < alt.endIndex {
                let c = alt[i]
                if timer { throw DialPlanError(plan: text, message: "'T' must end its alternative ('\(alt)')") }
                switch c {
                case "x", "X":
                    elements.append(Element(digits: Set("0123456789"), repeats: false))
                case "0"..."9", "*", "#":
                    elements.append(Element(digits: [c], repeats: false))
                case "[":
                    guard let close = alt[i...].firstIndex(of: "]") else { throw DialPlanError(plan: text, message: "'[' without ']' in '\(alt)'") }
                    let body = Array(alt[alt.index(after: i)..<close])
                    var set: Set<Character> = []
                    var j = 0
                    while j < body.count {
                        if j + 2 < body.count, body[j + 1] == "-", let a = body[j].wholeNumberValue, let b = body[j + 2].wholeNumberValue {
                            guard a <= b else { throw DialPlanError(plan: text, message: "range \(a)-\(b) runs backwards") }
                            for d in a...b { set.insert(Character(String(d))) }
                            j += 3
                        } else {
                            guard Self.allDigits.contains(body[j]) else { throw DialPlanError(plan: text, message: "'\(body[j])' is not a digit, * or # in '[\(String(body))]'") }
                            set.insert(body[j])
                            j += 1
                        }
                    }
                    guard !set.isEmpty else { throw DialPlanError(plan: text, message: "an empty set '[]'") }
                    elements.append(Element(digits: set, repeats: false))
                    i = close
                case ".":
                    guard !elements.isEmpty, !elements[elements.count - 1].repeats else {
                        throw DialPlanError(plan: text, message: "'.' must follow a digit, x or a set in '\(alt)'")
                    }
                    elements[elements.count - 1].repeats = true
                case "T", "t":
                    timer = true
                default:
                    throw DialPlanError(plan: text, message: "'\(c)' is not allowed (use 0-9 * # x [..] . T | and parentheses)")
                }
                i = alt.index(after: i)
            }
            guard !elements.isEmpty else { throw DialPlanError(plan: text, message: "an alternative with no digits ('\(alt)')") }
            out.append(Pattern(elements: elements, timer: timer, text: String(alt)))
        }
        patterns = out
        description = "(" + out.map(\.text).joined(separator: "|") + ")"
    }

    /// Positions reachable after `digits` (NFA over the elements; a repeating element can be
    /// skipped or stay).
    static func positions(_ p: Pattern, _ digits: String) -> Set<Int> {
        func closure(_ s: Set<Int>) -> Set<Int> {
            var out = s
            var stack = Array(s)
            while let q = stack.popLast() {
                if q < p.elements.count, p.elements[q].repeats, !out.contains(q + 1) {
                    out.insert(q + 1)
                    stack.append(q + 1)
                }
            }
            return out
        }
        var current = closure([0])
        for d in digits {
            var next: Set<Int> = []
            for q in current where q < p.elements.count && p.elements[q].digits.contains(d) {
                next.insert(p.elements[q].repeats ? q : q + 1)
            }
            current = closure(next)
            if current.isEmpty { break }
        }
        return current
    }

    public func decide(_ digits: String) -> Decision {
        var now = false, short = false, long = false
        for p in patterns {
            let s = Self.positions(p, digits)
            let complete = s.contains(p.elements.count)
            let extendable = s.contains { $0 < p.elements.count }
            if complete && !extendable && !p.timer { now = true }
            if complete && (extendable || p.timer) { short = true }
            if !complete && extendable { long = true }
        }
        if now && !long && !short { return .dial }
        if now || short { return .waitShort }
        if long { return .waitLong }
        return .reject
    }

    /// On the inter-digit timer's expiry: is what was dialled a number?
    public func completeOnTimeout(_ digits: String) -> Bool {
        patterns.contains { Self.positions($0, digits).contains($0.elements.count) }
    }
}

public struct DialPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    public var plan: String
    public var message: String
    public init(plan: String, message: String) {
        self.plan = plan
        self.message = message
    }
    public var description: String { "dial plan '\(plan)': \(message)" }
}
