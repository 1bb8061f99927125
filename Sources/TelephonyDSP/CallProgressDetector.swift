#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// Tells which of a region's tones a stretch of audio is — what a person on the phone
/// would call "dial tone", "busy", "ringing".
///
/// The audio is cut into runs: 10 ms blocks are "on" when above −45 dBm0, and consecutive
/// blocks of the same kind form a run. Each "on" run gets its frequency set from Goertzel
/// filters over the whole run (fine resolution: 400 and 425 Hz apart) at every frequency
/// the region uses, in 50 ms chunks; a run fits a tone's segment when that segment's
/// frequencies carry most of its energy (speech and noise fit nothing). Each tone of the plan is turned into the same kind of runs (adjacent
/// tone segments merged, cycles unrolled), and the observed runs are aligned against it:
/// inner runs must match in frequencies and length (±max(25 ms, 12 %)); the first and
/// last may be cut short by the window. The tone explaining the most runs wins; ties go
/// to the order of ``ToneKind``.
public struct CallProgressDetector: Sendable {
    public let plan: RegionTonePlan
    let frequencies: [Double]
    let expected: [(ToneKind, Program)]

    struct Run: Equatable {
        enum Kind: Equatable { case off, on(Set<Double>) }
        var kind: Kind
        /// Length in ms; `nil` for a run that lasts for ever (expected only).
        var ms: Int?
        /// Observed runs: each frequency's share of the run's energy.
        var shares: [Double: Double] = [:]
    }

    /// A tone as runs: a prefix played once, then a repeated cycle or a final run.
    struct Program {
        var prefix: [Run]
        var cycle: [Run]
        func unrolled(count: Int) -> [Run] {
            var out = prefix
            if cycle.isEmpty { return out }
            while out.count < count { out += cycle }
            return out
        }
    }

    static let blockSamples = 80
    static let onThreshold = Level.sineAmplitude(dBm0: -45) * Level.sineAmplitude(dBm0: -45) / 2 * Double(blockSamples)

    public init(plan: RegionTonePlan) {
        self.plan = plan
        var f = Set<Double>()
        for t in plan.tones.values { f.formUnion(t.frequencies) }
        frequencies = f.sorted()
        expected = plan.tones.sorted { $0.key < $1.key }.map { ($0.key, CallProgressDetector.program(of: $0.value)) }
    }

    static func program(of tone: Tone) -> Program {
        func runs(_ segs: [Tone.Segment]) -> [Run] {
            var out: [Run] = []
            for s in segs {
                // Gaps under 30 ms are not heard as breaks (and are bridged when observing).
                let kind: Run.Kind = s.isSilence && (s.milliseconds ?? 1000) >= 30 ? .off : .on(Set(s.frequencies))
                if let last = out.last {
                    switch (last.kind, kind) {
                    case (.off, .off):
                        out[out.count - 1].ms = last.ms.flatMap { a in s.milliseconds.map { a + $0 } }
                        continue
                    case (.on(let a), .on(let b)):
                        out[out.count - 1] = Run(kind: .on(a.union(b)), ms: last.ms.flatMap { x in s.milliseconds.map { x + $0 } })
                        continue
                    default: break
                    }
                }
                out.append(Run(kind: kind, ms: s.milliseconds))
            }
            return out
        }
        let segs = tone.segments
        if let r = tone.repeatStart {
            var cycle = runs(Array(segs[r...]))
            // Merge across the wrap-around (cycle ends and starts with the same kind).
            if cycle.count > 1, let a = cycle.first, let b = cycle.last {
                switch (a.kind, b.kind) {
                case (.off, .off), (.on, .on):
                    cycle[0] = Run(kind: merge(a.kind, b.kind), ms: (a.ms ?? 0) + (b.ms ?? 0))
                    cycle.removeLast()
                default: break
                }
            }
            if cycle.count == 1, cycle[0].kind == .off {
                // Repeated silence is silence for good.
                var prefix = runs(Array(segs[..<r]))
                if prefix.last?.kind == .off { prefix.removeLast() }
                prefix.append(Run(kind: .off, ms: nil))
                return Program(prefix: prefix, cycle: [])
            }
            if cycle.count == 1, case .on = cycle[0].kind {
                // Tones that only change frequency never stop: one endless run.
                var prefix = runs(Array(segs[..<r]))
                if let last = prefix.last, case .on = last.kind {
                    prefix[prefix.count - 1] = Run(kind: merge(last.kind, cycle[0].kind), ms: nil)
                } else {
                    prefix.append(Run(kind: cycle[0].kind, ms: nil))
                }
                return Program(prefix: prefix, cycle: [])
            }
            return Program(prefix: runs(Array(segs[..<r])), cycle: cycle)
        }
        var all = runs(segs)
        if segs.last?.milliseconds != nil { all.append(Run(kind: .off, ms: nil)) }  // then silence
        return Program(prefix: all, cycle: [])
    }

    static func merge(_ a: Run.Kind, _ b: Run.Kind) -> Run.Kind {
        if case .on(let x) = a, case .on(let y) = b { return .on(x.union(y)) }
        return a
    }

    /// The tone heard in `samples` (8 kHz), or nil for silence, speech or anything else.
    public func classify(_ samples: [Int16]) -> ToneKind? {
        var runs = observe(samples)
        // Silence before the first burst says nothing about the tone (the window may open
        // before it starts); a sliver of silence at the end is the window's edge.
        while runs.first?.kind == .off { runs.removeFirst() }
        if let last = runs.last, last.kind == .off, (last.ms ?? 0) < 60 { runs.removeLast() }
        guard runs.contains(where: { if case .on = $0.kind { true } else { false } }) else { return nil }
        // Evidence needed: a whole burst or gap inside the window, or a long steady tone.
        let longSteady = runs.contains { if case .on = $0.kind { ($0.ms ?? 0) >= 500 } else { false } }
        var best: (ToneKind, Int)?
        for (kind, program) in expected {
            if let score = match(runs, program), score > 0 || longSteady, best == nil || score > best!.1 {
                best = (kind, score)
            }
        }
        return best?.0
    }

    /// The observed runs of a signal.
    func observe(_ x: [Int16]) -> [Run] {
        let n = CallProgressDetector.blockSamples
        var spans: [(on: Bool, start: Int, end: Int)] = []
        var i = 0
        while i + n <= x.count {
            var e = 0.0
            for j in i..<(i + n) { e += Double(x[j]) * Double(x[j]) }
            let on = e >= CallProgressDetector.onThreshold
            if let last = spans.last, last.on == on {
                spans[spans.count - 1].end = i + n
            } else {
                spans.append((on, i, i + n))
            }
            i += n
        }
        // Bridge gaps shorter than 30 ms between two "on" spans (modulated tones dip).
        var bridged: [(on: Bool, start: Int, end: Int)] = []
        for (k, s) in spans.enumerated() {
            if !s.on, s.end - s.start < 240, k > 0, k < spans.count - 1, var last = bridged.popLast() {
                last.end = s.end
                bridged.append(last)
                continue
            }
            if s.on, var last = bridged.last, last.on {
                last.end = s.end
                bridged[bridged.count - 1] = last
                continue
            }
            bridged.append(s)
        }
        return bridged.map { s in
            let ms = (s.end - s.start) / 8
            guard s.on else { return Run(kind: .off, ms: ms) }
            return Run(kind: .on([]), ms: ms, shares: shares(x[s.start..<s.end]))
        }
    }

    /// Each frequency's share of the energy of a run, measured in 50 ms chunks (Goertzel,
    /// 20 Hz resolution) and added up, so a frequency present for a third of a run gets a
    /// third of it.
    func shares(_ x: ArraySlice<Int16>) -> [Double: Double] {
        var total = 0.0
        for v in x { total += Double(v) * Double(v) }
        guard total > 0 else { return [:] }
        var out: [Double: Double] = [:]
        let chunk = 400
        for f in frequencies {
            let w = 2 * Double.pi * f / 8000, c = 2 * cos(w)
            var energy = 0.0
            var i = x.startIndex
            while i < x.endIndex {
                let end = min(i + chunk, x.endIndex)
                var s1 = 0.0, s2 = 0.0
                for j in i..<end {
                    let s0 = Double(x[j]) + c * s1 - s2
                    s2 = s1
                    s1 = s0
                }
                let power = s1 * s1 + s2 * s2 - c * s1 * s2
                energy += 2 * power / Double(end - i)
                i = end
            }
            out[f] = energy / total
        }
        return out
    }

    /// Whether an observed "on" run is the sum (or sequence) of `set`: every frequency
    /// carries a fair part of the energy, and together they carry most of it.
    /// A run cut by the window (`partial`) may hold only some of a sequence's frequencies.
    func fits(_ shares: [Double: Double], _ set: Set<Double>, partial: Bool) -> Bool {
        guard !set.isEmpty else { return false }
        var sum = 0.0
        for f in set {
            let s = shares[f] ?? 0
            if !partial && s < 0.35 / Double(set.count) { return false }
            sum += s
        }
        return sum >= 0.6
    }

    /// How many runs a tone explains, or nil when it does not fit.
    func match(_ observed: [Run], _ program: Program) -> Int? {
        let period = program.prefix.count + program.cycle.count
        let e = program.unrolled(count: observed.count + period + 1)
        var best: Int?
        for start in 0..<max(period, 1) {
            guard start + observed.count <= e.count || program.cycle.isEmpty == false else { continue }
            var ok = true
            var verified = 0
            for (i, r) in observed.enumerated() {
                guard start + i < e.count else { ok = false; break }
                let x = e[start + i]
                let first = i == 0, last = i == observed.count - 1
                guard sameKind(r, x.kind, partial: first || last) else { ok = false; break }
                let tolerance = max(25, (x.ms ?? 0) * 12 / 100)
                if let expectedMs = x.ms {
                    if first && start == 0 && abs(r.ms! - expectedMs) <= tolerance && !last {
                        verified += 1  // the window began with the tone itself
                    } else if first || last {
                        if r.ms! > expectedMs + tolerance { ok = false; break }
                    } else {
                        if abs(r.ms! - expectedMs) > tolerance { ok = false; break }
                        verified += 1
                    }
                } else if !last {
                    ok = false  // a run that lasts for ever cannot end inside the window
                    break
                }
            }
            if ok { best = max(best ?? 0, verified) }
        }
        return best
    }

    func sameKind(_ observed: Run, _ expected: Run.Kind, partial: Bool) -> Bool {
        switch (observed.kind, expected) {
        case (.off, .off): true
        case (.on, .on(let set)): fits(observed.shares, set, partial: partial)
        default: false
        }
    }
}
