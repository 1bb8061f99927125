/// ITU-T G.107's E-model, reduced to what an ATA knows of a call: its codec and its packet
/// loss (taken as random: BurstR = 1), everything else at G.107's default values — R = 93.2
/// for a mouth-to-ear delay under 100 ms, where the delay impairment is negligible. An estimate
/// for a status page and a call history, not a measurement of the far end's room.
public enum EModel {
    /// The transmission rating R for `codec` (an SDP encoding name) and a share of packets
    /// lost (0…1): R = 93.2 − Ie,eff, Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl) with Ppl
    /// in percent (G.107 §7.2). G.711 with packet loss concealment, as TipRing plays it:
    /// Ie 0, Bpl 25.1 (ITU-T G.113 Appendix I); other codecs are rated as G.711 until they
    /// have values of their own.
    public static func rating(codec: String, lossRatio: Double) -> Double {
        let ie = 0.0, bpl = 25.1, burstR = 1.0
        let ppl = min(max(lossRatio.isFinite ? lossRatio : 0, 0), 1) * 100
        let effective = ie + (95 - ie) * ppl / (ppl / burstR + bpl)
        return 93.2 - effective
    }

    /// The mean opinion score for a rating (G.107 Annex B, B-4): 1 below R = 0, 4.5 above 100.
    public static func mos(rating r: Double) -> Double {
        if r <= 0 { return 1 }
        if r >= 100 { return 4.5 }
        return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
    }

    /// MOS for a call's codec and loss, to one decimal as people quote it.
    public static func mos(codec: String, received: Int64, lost: Int64) -> Double {
        let total = received + lost
        let loss = total > 0 ? Double(lost) / Double(total) : 0
        return (mos(rating: rating(codec: codec, lossRatio: loss)) * 10).rounded() / 10
    }
}
