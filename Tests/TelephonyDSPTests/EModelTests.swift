import Testing
import TelephonyDSP

@Suite("The E-model's estimate of a call (ITU-T G.107)")
struct EModelTests {
    @Test("R to MOS as G.109's table gives it: 90 → 4.34, 80 → 4.03, 70 → 3.60, 60 → 3.10, 50 → 2.58; the default R 93.2 → 4.41", arguments: [
        (90.0, 4.34), (80.0, 4.03), (70.0, 3.60), (60.0, 3.10), (50.0, 2.58), (93.2, 4.41),
    ])
    func mosOfRating(r: Double, published: Double) {
        #expect(abs(EModel.mos(rating: r) - published) < 0.01, "\(EModel.mos(rating: r))")  // the table rounds to 0.01 (80 → 4.024 is listed 4.03)
    }

    @Test("bounds: 1 at or below R 0, 4.5 at or above 100")
    func bounds() {
        #expect(EModel.mos(rating: -5) == 1 && EModel.mos(rating: 120) == 4.5)
    }

    @Test("G.711 with concealment (Ie 0, Bpl 25.1): no loss R 93.2; 1 % → Ie,eff 95/26.1; 5 % → R 77.4; what a call shows")
    func loss() {
        #expect(abs(EModel.rating(codec: "PCMU", lossRatio: 0) - 93.2) < 1e-9)
        #expect(abs(EModel.rating(codec: "PCMU", lossRatio: 0.01) - (93.2 - 95 / 26.1)) < 1e-9)
        #expect(abs(EModel.rating(codec: "PCMA", lossRatio: 0.05) - (93.2 - 95 * 5 / 30.1)) < 1e-9)
        #expect(EModel.mos(codec: "PCMU", received: 995, lost: 5) == 4.4)
        #expect(EModel.mos(codec: "PCMU", received: 950, lost: 50) == 3.9)
        #expect(EModel.mos(codec: "PCMU", received: 0, lost: 0) == 4.4)
        #expect(EModel.rating(codec: "PCMU", lossRatio: .nan) == 93.2)
    }
}
