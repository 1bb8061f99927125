/// The receiver's replay list (RFC 3711 §3.3.2): the highest index authenticated so far and
/// which of the 128 before it have been seen. Anything older, or seen, is a replay.
struct SRTPReplayWindow: Sendable {
    static let size: UInt64 = 128
    private(set) var highest: UInt64?
    private var seen: (UInt64, UInt64) = (0, 0)  // bit k: index highest − k arrived

    enum Verdict: Equatable { case fresh, replayed, tooOld }

    func check(_ index: UInt64) -> Verdict {
        guard let highest, index <= highest else { return .fresh }
        let back = highest - index
        if back >= Self.size { return .tooOld }
        return bit(back) ? .replayed : .fresh
    }

    /// Records an authenticated index (after `check` said fresh).
    mutating func accept(_ index: UInt64) {
        guard let h = highest else {
            highest = index
            seen = (1, 0)
            return
        }
        if index > h {
            shift(by: index - h)
            highest = index
            seen.0 |= 1
        } else {
            setBit(h - index)
        }
    }

    private func bit(_ k: UInt64) -> Bool { k < 64 ? (seen.0 >> k) & 1 == 1 : (seen.1 >> (k - 64)) & 1 == 1 }

    private mutating func setBit(_ k: UInt64) {
        if k < 64 { seen.0 |= 1 << k } else { seen.1 |= 1 << (k - 64) }
    }

    private mutating func shift(by n: UInt64) {
        if n >= 128 { seen = (0, 0); return }
        if n >= 64 {
            seen = (0, seen.0 << (n - 64))
            return
        }
        if n == 0 { return }
        seen = (seen.0 << n, (seen.1 << n) | (seen.0 >> (64 - n)))
    }
}
