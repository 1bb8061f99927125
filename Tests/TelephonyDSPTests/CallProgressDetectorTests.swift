import Testing
import TipRingCore
@testable import TelephonyDSP

@Suite struct CallProgressDetectorTests {
    /// A window long enough for two repetitions of the tone.
    func window(_ tone: Tone) -> Int {
        let total = tone.segments.reduce(0) { $0 + ($1.milliseconds ?? 1000) }
        return min(max(4000, 2 * total + 500), 25_000) * 8
    }

    @Test func everyToneOfEveryRegionIsRecognised() {
        var ambiguous: [String] = []
        for (code, plan) in RegionTonePlan.all.sorted(by: { $0.key < $1.key }) {
            let d = CallProgressDetector(plan: plan)
            for (kind, tone) in plan.tones.sorted(by: { $0.key < $1.key }) {
                let audio = ToneSynthesizer.samples(of: tone, count: window(tone))
                let heard = d.classify(audio)
                if heard == kind { continue }
                // Only acceptable when the two tones are the same signal in this region.
                let runs = d.observe(audio)
                let own = d.match(runs, CallProgressDetector.program(of: tone))
                if let heard, let other = plan.tones[heard], let o = d.match(runs, CallProgressDetector.program(of: other)), own == o {
                    let back = d.observe(ToneSynthesizer.samples(of: other, count: window(other)))
                    if d.match(back, CallProgressDetector.program(of: tone)) != nil {
                        ambiguous.append("\(code): \(kind)=\(heard)")
                        continue
                    }
                }
                Issue.record("\(code) \(kind): heard \(heard.map { "\($0)" } ?? "nothing")")
            }
        }
        print("call-progress detector: \(RegionTonePlan.all.count) regions; identical tone pairs: \(ambiguous.count) (\(ambiguous.prefix(8).joined(separator: ", "))…)")
    }

    @Test func usTonesByName() {
        let us = RegionTonePlan.forRegion(.us)!
        let d = CallProgressDetector(plan: us)
        for kind in [ToneKind.dial, .ringback, .busy, .congestion, .stutterDial, .howler, .noService] {
            let t = us.tones[kind]!
            #expect(d.classify(ToneSynthesizer.samples(of: t, count: window(t))) == kind, "\(kind)")
        }
    }

    @Test func aStretchCutAnywhereInTheCycleIsStillRecognised() {
        let gb = RegionTonePlan.forRegion(.gb)!
        let d = CallProgressDetector(plan: gb)
        let ring = ToneSynthesizer.samples(of: gb.tones[.ringback]!, count: 8000 * 10)
        for offset in stride(from: 0, to: 24000, by: 2100) {
            #expect(d.classify(Array(ring[offset..<(offset + 8000 * 6)])) == .ringback, "offset \(offset)")
        }
    }

    @Test func silenceNoiseAndDTMFAreNoTone() {
        let d = CallProgressDetector(plan: RegionTonePlan.forRegion(.de)!)
        #expect(d.classify([Int16](repeating: 0, count: 16000)) == nil)
        #expect(d.classify(addNoise([Int16](repeating: 0, count: 32000), meanSquare: 1e6, seed: 3)) == nil)
        #expect(d.classify(DTMFGenerator().render("1234567890")) == nil)
    }
}
