/// Decimal numbers as protocols write them: ASCII digits `0`–`9` only, read on bytes.
///
/// Network text must never reach `Int(x)!`, and `Character.isNumber` is no grammar check
/// (it is true for `١`, `²`, `½`): every number that comes from a peer is read here, with
/// its range. No sign, no spaces, no other digits; the value never overflows.
public enum ASCIIDecimal {
    /// The number `text` spells, if it is 1…`maxDigits` ASCII digits and lies in `range`.
    public static func exact(_ text: some StringProtocol, in range: ClosedRange<Int>, maxDigits: Int = 18) -> Int? {
        guard let v = read(text, maxDigits: maxDigits), range.contains(v) else { return nil }
        return v
    }

    /// The number `text` spells, clamped into `range` (a registrar granting 10¹⁷ s gets our
    /// maximum): nil only when `text` is not digits. However many digits, no overflow.
    public static func clamped(_ text: some StringProtocol, to range: ClosedRange<Int>) -> Int? {
        var value = 0
        var any = false
        for b in text.utf8 {
            guard b >= 48, b <= 57 else { return nil }
            any = true
            // Past the upper bound the number only grows: stop multiplying, keep checking bytes.
            if value <= range.upperBound, value <= (Int.max - 9) / 10 { value = value * 10 + Int(b - 48) }
        }
        guard any else { return nil }
        return min(max(value, range.lowerBound), range.upperBound)
    }

    /// Digits only, at most `maxDigits` of them (≤ 18 keeps the value inside `Int`).
    static func read(_ text: some StringProtocol, maxDigits: Int) -> Int? {
        var value = 0
        var count = 0
        for b in text.utf8 {
            guard b >= 48, b <= 57 else { return nil }
            count += 1
            if count > min(maxDigits, 18) { return nil }
            value = value * 10 + Int(b - 48)
        }
        return count > 0 ? value : nil
    }
}
