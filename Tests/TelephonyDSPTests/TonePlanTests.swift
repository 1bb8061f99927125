import Foundation  // tests only
import Testing
import TipRingCore
@testable import TelephonyDSP
import TestSupport

@Suite struct TonePlanTests {
    @Test func everyRegionHasEveryTone() {
        #expect(RegionTonePlan.all.count >= 40)
        for (code, plan) in RegionTonePlan.all {
            #expect(plan.region.code == code)
            for kind in ToneKind.allCases { #expect(plan.tones[kind] != nil, "\(code) lacks \(kind)") }
            #expect(plan.ringing.cadence.inconsistency == nil, "\(code)")
            #expect((16...50).contains(plan.ringing.frequency))
        }
        #expect(RegionTonePlan.forRegion(Region("uk")!)?.name == "United Kingdom")
    }

    @Test(arguments: [
        ("350+440", 1, nil as Int?),
        ("480+620/500,0/500", 2, 0),
        ("!950/330,!1400/330,!1800/330,0", 4, nil),
        ("!425/100,!0/100,425/500,0/50", 4, 2),
        ("400*25/400,0/200", 2, 0),
    ])
    func parsesTheNotation(pattern: String, segments: Int, repeatStart: Int?) throws {
        let t = try Tone(pattern)
        #expect(t.segments.count == segments)
        #expect(t.repeatStart == repeatStart)
    }

    @Test(arguments: ["", "350+", "abc", "425/0", "425/x", "425,0/500", "5000", "1+2+3+4+5", "400*"])
    func rejectsBadPatterns(pattern: String) {
        #expect(throws: Tone.ParseError.self) { try Tone(pattern) }
    }
}

@Suite struct ToneSynthesizerTests {
    /// Energy per millisecond (8 samples).
    func envelope(_ x: [Int16]) -> [Double] {
        stride(from: 0, to: x.count - 7, by: 8).map { i in (i..<i + 8).reduce(0.0) { $0 + Double(x[$1]) * Double(x[$1]) } }
    }

    func goertzelLevel(_ x: ArraySlice<Int16>, _ f: Double) -> Double {
        let w = 2 * Double.pi * f / 8000, c = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for v in x { let s0 = Double(v) + c * s1 - s2; s2 = s1; s1 = s0 }
        let p = s1 * s1 + s2 * s2 - c * s1 * s2
        let amplitude = 2 * p.squareRoot() / Double(x.count)
        return Level.dBm0(meanSquare: amplitude * amplitude / 2)
    }

    @Test func cadenceIsSampleAccurate() throws {
        let busy = try Tone("480+620/500,0/500", level: -16)
        let x = ToneSynthesizer.samples(of: busy, count: 8000 * 3)
        // On exactly 4000 samples, off 4000, repeating.
        let env = envelope(x)
        let floor = env.max()! / 1000
        for cycle in 0..<3 {
            let on = Array(x[(cycle * 8000)..<(cycle * 8000 + 4000)]), off = x[(cycle * 8000 + 4000)..<(cycle * 8000 + 8000)]
            #expect(off.allSatisfy { $0 == 0 })
            // Every millisecond inside the burst (past the 2 ms ramps) carries the tone.
            #expect(env[(cycle * 1000 + 2)..<(cycle * 1000 + 498)].allSatisfy { $0 > floor })
            #expect(on[0] == 0 && on[3999] != 0 || on[3999] == 0 || abs(Int(on[3999])) < 200)
            #expect(abs(goertzelLevel(on[100..<3900], 480) - (-16)) < 0.2)
            #expect(abs(goertzelLevel(on[100..<3900], 620) - (-16)) < 0.2)
        }
    }

    @Test func levelIsInDBm0AndStableForAMinute() throws {
        let dial = try Tone("350+440", level: -13)
        let x = ToneSynthesizer.samples(of: dial, count: 8000 * 60)
        let start = Level.dBm0(of: x[8000..<16000]), end = Level.dBm0(of: x[(x.count - 8000)...])
        #expect(abs(start - (-9.99)) < 0.05)  // two components at −13 dBm0 each
        #expect(abs(end - start) < 0.02)
    }

    @Test func playOnceSegmentsThenTheRepetition() throws {
        let t = try Tone("!1000/100,!0/100,500/50,0/50")
        let x = ToneSynthesizer.samples(of: t, count: 8000)
        #expect(abs(goertzelLevel(x[20..<780], 1000) - (-13)) < 0.3)
        #expect(x[800..<1600].allSatisfy { $0 == 0 })
        #expect(abs(goertzelLevel(x[1620..<1980], 500) - (-13)) < 0.5)
        #expect(x[2000..<2400].allSatisfy { $0 == 0 })
        #expect(x[(2400 + 800 * 5)..<(2400 + 800 * 5 + 400)].contains { $0 != 0 })
        // Everything once: then silence for good.
        var once = ToneSynthesizer(try Tone("!950/330,!1400/330,!1800/330"))
        var buf = [Int16](repeating: 1, count: 8000)
        buf.withUnsafeMutableBufferPointer { once.render(into: $0) }
        #expect(once.isFinished)
        #expect(buf[(3 * 330 * 8)...].allSatisfy { $0 == 0 })
    }

    /// No clicks: the largest step between samples never exceeds what the sines themselves
    /// can do (Σ A·ω), for every tone of every region.
    @Test func noTonesClickAtSegmentEdges() {
        for (code, plan) in RegionTonePlan.all.sorted(by: { $0.key < $1.key }) {
            for (kind, tone) in plan.tones {
                let x = ToneSynthesizer.samples(of: tone, count: 8000 * 4)
                var bound = 0.0
                for seg in tone.segments {
                    let a = Level.sineAmplitude(dBm0: tone.level)
                    var b = seg.frequencies.reduce(0.0) { $0 + a * 2 * .pi * $1 / 8000 }
                    if let m = seg.modulation { b += a * 2 * .pi * m / 8000 }
                    bound = max(bound, b)
                }
                var worst = 0.0
                for i in 1..<x.count { worst = max(worst, abs(Double(x[i]) - Double(x[i - 1]))) }
                #expect(worst <= bound * 1.05 + 2, "\(code) \(kind): step \(worst) > \(bound)")
            }
        }
    }
}

/// Our tone plans against DAHDI's libtonezone (Debian libtonezone-dev, installed by
/// `make test`): every difference is either fixed or listed here with its reason.
@Suite(.serialized) struct ToneZoneCrossCheckTests {
    /// (region, field) → why ours differs. A listed difference that no longer differs fails.
    static let knownDifferences: [String: String] = [
        "au congestion": "DAHDI writes '425@/375' for the second burst (a level change our notation does not carry); we play both bursts at one level.",
        "ee specialInformation": "DAHDI's entry starts with a zero-length segment ('950/0'), which cannot be played; ours is ITU-T E.180's special information tone (950/1400/1800 Hz, 330 ms each, 1 s silence).",
        "th callWaiting": "DAHDI's entry reads '1000/400,10000/400,1000/400' — a 10 kHz tone cannot pass an 8 kHz line; read as 1000 Hz bursts of 400 ms with 10 s gaps.",
        "jp ringback": "DAHDI adds a 15 Hz sine ('400+15'), approximating what ITU-T E.180 specifies: 400 Hz modulated by 16 Hz; ours is the modulated tone.",
        "jp callWaiting": "as jp ringback: DAHDI '400+16' (a sum), E.180 400 Hz modulated by 16 Hz (ours).",
        "nz dialRecall": "DAHDI's entry lacks a comma between two segments ('!400/100!0/100'); ours has it.",
        "nz stutterDial": "DAHDI's entry lacks commas between segments ('!400/100!0/100'); ours has them.",
    ]

    static let dahdiNames: [String: ToneKind] = [
        "Dialtone": .dial, "Busy": .busy, "Ringtone": .ringback, "Congestion": .congestion,
        "Call Waiting": .callWaiting, "Dial Recall": .dialRecall, "Special Information": .specialInformation,
        "Stutter Dialtone": .stutterDial,
    ]

    static func dump() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-tonezone-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let exe = dir.appendingPathComponent("tonezone_dump").path
        let src = repositoryRoot + "/Tests/Fixtures/tonezone/tonezone_dump.c"
        let b = try run("/bin/sh", ["-c", "cc -O1 -o '\(exe)' '\(src)' -ltonezone"])
        guard b.status == 0 else { throw ToolFailure(description: "building the libtonezone dump failed (libtonezone-dev missing? make test installs it): \(b.err)") }
        let r = try run(exe, [])
        guard r.status == 0 else { throw ToolFailure(description: "tonezone_dump: \(r.err)") }
        return String(decoding: r.out, as: UTF8.self)
    }

    @Test func ourPlansMatchDAHDIOrTheDifferenceIsListed() throws {
        let text = try Self.dump()
        var differences: [String: String] = [:]
        var compared = Set<String>()
        var fields = 0
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 2, f[1] != "us-old" else { continue }
            let code = f[1] == "uk" ? "gb" : f[1]
            guard let plan = RegionTonePlan.all[code] else {
                if f[0] == "zone" { differences["\(code) zone"] = "DAHDI has a zone we lack" }
                continue
            }
            compared.insert(code)
            switch f[0] {
            case "ring":
                fields += 1
                let ours = plan.ringing.cadence.segments.map { String(Int64($0.duration.milliseconds)) }.joined(separator: ",")
                if f.count > 2 && ours != f[2] { differences["\(code) ring"] = "ours \(ours), DAHDI \(f[2])" }
            case "dtmf":
                fields += 1
                let ours = "\(Int(plan.dtmfLowLevel)),\(Int(plan.dtmfHighLevel))"
                if ours != f[2] { differences["\(code) dtmf"] = "ours \(ours), DAHDI \(f[2])" }
            case "tone":
                guard let kind = Self.dahdiNames[f[2]] else { continue }
                fields += 1
                let ours = plan.tones[kind]?.pattern ?? "(none)"
                if ours != f[3] { differences["\(code) \(kind)"] = "ours \(ours), DAHDI \(f[3])" }
            default:
                break
            }
        }
        print("libtonezone cross-check: \(compared.count) regions, \(fields) fields compared, \(differences.count) differences, all listed: \(Set(differences.keys) == Set(Self.knownDifferences.keys))")
        #expect(compared.count >= 40)
        for (key, detail) in differences.sorted(by: { $0.key < $1.key }) {
            #expect(Self.knownDifferences[key] != nil, "unlisted difference \(key): \(detail)")
        }
        for key in Self.knownDifferences.keys where differences[key] == nil {
            Issue.record("listed difference \(key) no longer differs: remove it from the list")
        }
    }
}
