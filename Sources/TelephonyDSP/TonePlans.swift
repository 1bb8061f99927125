public import TipRingCore

/// One region's row in the table below, as written.
struct RegionPlanEntry: Sendable {
    var code: String
    var name: String
    var ring: [Int64]
    var ringHz: Double
    var callerID: CallerIDStandard
    var dtmf: (low: Double, high: Double)
    var tones: [ToneKind: String]

    init(_ code: String, _ name: String, ring: [Int64], ringHz: Double, callerID: CallerIDStandard, dtmf: (Double, Double), tones: [ToneKind: String]) {
        self.code = code
        self.name = name
        self.ring = ring
        self.ringHz = ringHz
        self.callerID = callerID
        self.dtmf = (dtmf.0, dtmf.1)
        self.tones = tones
    }
}

extension RegionTonePlan {
    /// Tone levels per component (dBm0), by kind: within ITU-T E.180's recommended
    /// −10…−20 dBm0 range; the howler is loud on purpose (its four components sum to just
    /// under full scale).
    static let levels: [ToneKind: Double] = [
        .dial: -13, .stutterDial: -13, .dialRecall: -13, .confirmation: -13,
        .ringback: -16, .busy: -16, .congestion: -16, .callWaiting: -16,
        .specialInformation: -16, .noService: -16, .howler: -9,
    ]

    /// The receiver-off-hook tone where a region has none of its own: the Telcordia
    /// four-tone howler (1400+2060+2450+2600 Hz, 0.1 s on / 0.1 s off).
    static let defaultHowler = "1400+2060+2450+2600/100,0/100"

    /// Every region with a tone plan, by ISO 3166 code.
    public static let all: [String: RegionTonePlan] = {
        var out: [String: RegionTonePlan] = [:]
        for e in table {
            var tones: [ToneKind: Tone] = [:]
            var patterns = e.tones
            // Tones every port needs that tone tables often lack: derived from the
            // region's own dial tone and special information tone.
            let dial = patterns[.dial] ?? "425"
            let dialFrequency = dial.split(separator: "/").first.map(String.init) ?? "425"
            if patterns[.confirmation] == nil {
                patterns[.confirmation] = "!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100"
            }
            if patterns[.howler] == nil { patterns[.howler] = defaultHowler }
            // No service: the special-information tri-tone with a short gap, so it is told
            // apart from the region's own special information tone (1 s gap or played once).
            if patterns[.noService] == nil { patterns[.noService] = "950/330,1400/330,1800/330,0/330" }
            if patterns[.dialRecall] == nil { patterns[.dialRecall] = dial }
            if patterns[.stutterDial] == nil { patterns[.stutterDial] = "!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100,!0/100,!\(dialFrequency)/100,!0/100,\(dialFrequency)" }
            for (kind, pattern) in patterns {
                do {
                    tones[kind] = try Tone(pattern, level: levels[kind] ?? -13)
                } catch {
                    preconditionFailure("tone table: \(e.code) \(kind): \(error)")
                }
            }
            let region = Region(e.code)!
            out[e.code] = RegionTonePlan(
                region: region, name: e.name, tones: tones,
                ringing: RegionalRinging(cadence: RingCadence(milliseconds: e.ring), frequency: e.ringHz),
                callerID: e.callerID, dtmfLowLevel: e.dtmf.low, dtmfHighLevel: e.dtmf.high)
        }
        return out
    }()

    public static func forRegion(_ region: Region) -> RegionTonePlan? { all[region.code] }

    /// Regional data: tones in the notation of ``Tone``, ring cadence on/off in ms, ring
    /// frequency, caller-ID standard, DTMF low/high levels. Values follow ITU-T E.180
    /// Supplement 2 as collected in telephony tone tables; they are checked against DAHDI's
    /// libtonezone by the tests, which list every deliberate difference and its reason.
    static let table: [RegionPlanEntry] = [
        RegionPlanEntry(
            "ae", "United Arab Emirates", ring: [1500, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "350+440",
                .busy: "400/375,0/375",
                .ringback: "400+425/400,0/200,400+425/400,0/2000",
                .congestion: "425/400,0/350,425/225,0/525",
                .callWaiting: "420/40,0/1960",
                .specialInformation: "950/330,1450/330,1850/330,0/1000",
                .stutterDial: "380+420",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "ar", "Argentina", ring: [1000, 4500], ringHz: 25, callerID: .bell202, dtmf: (-9, -11),
            tones: [
                .dial: "425",
                .busy: "425/300,0/300",
                .ringback: "425/1000,0/4500",
                .congestion: "425/200,0/300",
                .callWaiting: "425/200,0/9000",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425/330,0/330,425/660,0/660",
                .specialInformation: "425/100,0/100",
                .stutterDial: "425/450,0/50",
            ]),
        RegionPlanEntry(
            "at", "Austria", ring: [1000, 5000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "420",
                .busy: "420/400,0/400",
                .ringback: "420/1000,0/5000",
                .congestion: "420/200,0/200",
                .callWaiting: "420/40,0/1960",
                .dialRecall: "420",
                .specialInformation: "950/330,1450/330,1850/330,0/1000",
                .stutterDial: "380+420",
            ]),
        RegionPlanEntry(
            "au", "Australia", ring: [400, 200, 400, 2000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "415+440",
                .busy: "425/375,0/375",
                .ringback: "413+438/400,0/200,413+438/400,0/2000",
                .congestion: "425/375,0/375",
                .callWaiting: "425/100,0/200,425/200,0/4400",
                .dialRecall: "413+428",
                .specialInformation: "425/2500,0/500",
                .stutterDial: "413+438/100,0/40",
            ]),
        RegionPlanEntry(
            "be", "Belgium", ring: [1000, 3000], ringHz: 25, callerID: .dtmf, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/3000",
                .congestion: "425/167,0/167",
                .callWaiting: "1400/175,0/175,1400/175,0/3500",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "900/330,1400/330,1800/330,0/1000",
                .stutterDial: "425/1000,0/250",
            ]),
        RegionPlanEntry(
            "bg", "Bulgaria", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/250,0/250",
                .callWaiting: "425/150,0/150,425/150,0/4000",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "425/1500,0/100",
            ]),
        RegionPlanEntry(
            "br", "Brazil", ring: [1000, 4000], ringHz: 25, callerID: .dtmf, dtmf: (-12, -10),
            tones: [
                .dial: "425",
                .busy: "425/250,0/250",
                .ringback: "425/1000,0/4000",
                .congestion: "425/250,0/250,425/750,0/250",
                .callWaiting: "425/50,0/1000",
                .dialRecall: "350+440",
                .specialInformation: "950/330,1400/330,1800/330",
                .stutterDial: "350+440",
            ]),
        RegionPlanEntry(
            "ch", "Switzerland", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "425/200,0/200,425/200,0/4000",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "425+340/1100,0/1100",
            ]),
        RegionPlanEntry(
            "cl", "Chile", ring: [1000, 3000], ringHz: 20, callerID: .bell202, dtmf: (-10, -10),
            tones: [
                .dial: "400",
                .busy: "400/500,0/500",
                .ringback: "400/1000,0/3000",
                .congestion: "400/200,0/200",
                .callWaiting: "400/250,0/8750",
                .dialRecall: "!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,400",
                .specialInformation: "!950/333,!1400/333,!1800/333,0",
                .stutterDial: "!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,400",
            ]),
        RegionPlanEntry(
            "cn", "China", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-9, -11),
            tones: [
                .dial: "450",
                .busy: "450/350,0/350",
                .ringback: "450/1000,0/4000",
                .congestion: "450/700,0/700",
                .callWaiting: "450/400,0/4000",
                .dialRecall: "450",
                .specialInformation: "450/100,0/100,450/100,0/100,450/100,0/100,450/400,0/400",
                .stutterDial: "450+425",
            ]),
        RegionPlanEntry(
            "cr", "Costa Rica", ring: [1203, 4797], ringHz: 20, callerID: .bell202, dtmf: (-11, -9),
            tones: [
                .dial: "450",
                .busy: "450/330,0/330",
                .ringback: "450/1203,0/4900",
                .congestion: "450/330,0/330",
                .callWaiting: "450/150,0/150,450/150,450/8000",
                .dialRecall: "!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,450",
                .specialInformation: "!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,450",
            ]),
        RegionPlanEntry(
            "cz", "Czech Republic", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425/330,0/330,425/660,0/660",
                .busy: "425/330,0/330",
                .ringback: "425/1000,0/4000",
                .congestion: "425/165,0/165",
                .callWaiting: "425/330,0/9000",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425/330,0/330,425/660,0/660",
                .specialInformation: "950/330,0/30,1400/330,0/30,1800/330,0/1000",
                .stutterDial: "425/450,0/50",
            ]),
        RegionPlanEntry(
            "de", "Germany", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/480,0/480",
                .ringback: "425/1000,0/4000",
                .congestion: "425/240,0/240",
                .callWaiting: "!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,0",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "425+400",
            ]),
        RegionPlanEntry(
            "dk", "Denmark", ring: [1000, 4000], ringHz: 25, callerID: .dtmf, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "!425/200,!0/600,!425/200,!0/3000,!425/200,!0/200,!425/200,0",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "425/450,0/50",
            ]),
        RegionPlanEntry(
            "ee", "Estonia", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/300,0/300",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "950/650,0/325,950/325,0/30,1400/1300,0/2600",
                .dialRecall: "425/650,0/25",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ]),
        RegionPlanEntry(
            "es", "Spain", ring: [1500, 3000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/200,0/200",
                .ringback: "425/1500,0/3000",
                .congestion: "425/200,0/200,425/200,0/200,425/200,0/600",
                .callWaiting: "425/175,0/175,425/175,0/3500",
                .dialRecall: "!425/200,!0/200,!425/200,!0/200,!425/200,!0/200,425",
                .specialInformation: "950/330,0/1000",
                .stutterDial: "425/500,0/50",
            ]),
        RegionPlanEntry(
            "fi", "Finland", ring: [1000, 4000], ringHz: 25, callerID: .dtmf, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/300,0/300",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "425/150,0/150,425/150,0/8000",
                .dialRecall: "425/650,0/25",
                .specialInformation: "950/650,0/325,950/325,0/30,1400/1300,0/2600",
                .stutterDial: "425/650,0/25",
            ]),
        RegionPlanEntry(
            "fr", "France", ring: [1500, 3500], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "440",
                .busy: "440/500,0/500",
                .ringback: "440/1500,0/3500",
                .congestion: "440/250,0/250",
                .callWaiting: "440/300,0/10000",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!440/100,!0/100,!440/100,!0/100,!440/100,!0/100,!440/100,!0/100,!440/100,!0/100,!440/100,!0/100,440",
            ]),
        RegionPlanEntry(
            "gb", "United Kingdom", ring: [400, 200, 400, 2000], ringHz: 25, callerID: .etsiFSKBeforeRing(.polarityReversalDTAS), dtmf: (-11, -9),
            tones: [
                .dial: "350+440",
                .busy: "400/375,0/375",
                .ringback: "400+450/400,0/200,400+450/400,0/2000",
                .congestion: "400/400,0/350,400/225,0/525",
                .callWaiting: "400/100,0/4000",
                .dialRecall: "350+440",
                .specialInformation: "950/330,0/15,1400/330,0/15,1800/330,0/1000",
                .stutterDial: "350+440/750,440/750",
            ]),
        RegionPlanEntry(
            "gr", "Greece", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425/200,0/300,425/700,0/800",
                .busy: "425/300,0/300",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "425/150,0/150,425/150,0/8000",
                .dialRecall: "425/650,0/25",
                .specialInformation: "!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,0",
                .stutterDial: "425/650,0/25",
            ]),
        RegionPlanEntry(
            "hu", "Hungary", ring: [1250, 3750], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/300,0/300",
                .ringback: "425/1250,0/3750",
                .congestion: "425/300,0/300",
                .callWaiting: "425/40,0/1960",
                .dialRecall: "425+450",
                .specialInformation: "!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,0",
                .stutterDial: "350+375+400",
            ]),
        RegionPlanEntry(
            "il", "Israel", ring: [1000, 3000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "414",
                .busy: "414/500,0/500",
                .ringback: "414/1000,0/3000",
                .congestion: "414/250,0/250",
                .callWaiting: "414/100,0/100,414/100,0/100,414/600,0/3000",
                .dialRecall: "!414/100,!0/100,!414/100,!0/100,!414/100,!0/100,414",
                .specialInformation: "1000/330,1400/330,1800/330,0/1000",
                .stutterDial: "!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,!414/160,!0/160,414",
            ]),
        RegionPlanEntry(
            "in", "India", ring: [400, 200, 400, 2000], ringHz: 25, callerID: .dtmf, dtmf: (-10, -10),
            tones: [
                .dial: "400*25",
                .busy: "400/750,0/750",
                .ringback: "400*25/400,0/200,400*25/400,0/2000",
                .congestion: "400/250,0/250",
                .callWaiting: "400/200,0/100,400/200,0/7500",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "!950/330,!1400/330,!1800/330,0/1000",
                .stutterDial: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "it", "Italy", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425/200,0/200,425/600,0/1000",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "425/400,0/100,425/250,0/100,425/150,0/14000",
                .dialRecall: "470/400,425/400",
                .specialInformation: "!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,0",
                .stutterDial: "470/400,425/400",
            ]),
        RegionPlanEntry(
            "jp", "Japan", ring: [1000, 2000], ringHz: 16, callerID: .ntt, dtmf: (-7, -7),
            tones: [
                .dial: "400",
                .busy: "400/500,0/500",
                .ringback: "400*16/1000,0/2000",
                .congestion: "400/500,0/500",
                .callWaiting: "400*16/500,0/8000",
                .dialRecall: "!400/200,!0/200,!400/200,!0/200,!400/200,!0/200,400",
                .specialInformation: "!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,400",
            ]),
        RegionPlanEntry(
            "lt", "Lithuania", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/350,0/350",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "425/150,0/150,425/150,0/4000",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,0",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ]),
        RegionPlanEntry(
            "mo", "Macao,China", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/250,0/250",
                .callWaiting: "425/200,0/600",
                .specialInformation: "950/333,1400/333,1800/333,0/1000",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "mx", "Mexico", ring: [2000, 4000], ringHz: 20, callerID: .bell202, dtmf: (-6, -8),
            tones: [
                .dial: "425",
                .busy: "425/250,0/250",
                .ringback: "425/1000,0/4000",
                .congestion: "425/250,0/250",
                .callWaiting: "425/200,0/600,425/200,0/10000",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "950/330,0/30,1400/330,0/30,1800/330,0/1000",
                .stutterDial: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "my", "Malaysia", ring: [400, 200, 400, 2000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/400,0/200,425/400,0/2000",
                .congestion: "425/500,0/500",
                .callWaiting: "425/100,0/4000",
                .dialRecall: "350+440",
                .specialInformation: "950/330,0/15,1400/330,0/15,1800/330,0/1000",
                .stutterDial: "450+425",
            ]),
        RegionPlanEntry(
            "nl", "Netherlands", ring: [1000, 4000], ringHz: 25, callerID: .dtmf, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/250,0/250",
                .callWaiting: "425/500,0/9500",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "425/500,0/50",
            ]),
        RegionPlanEntry(
            "no", "Norway", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/200,0/200",
                .callWaiting: "425/200,0/600,425/200,0/10000",
                .dialRecall: "470/400,425/400",
                .specialInformation: "!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,0",
                .stutterDial: "470/400,425/400",
            ]),
        RegionPlanEntry(
            "nz", "New Zealand", ring: [400, 200, 400, 2000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-9, -11),
            tones: [
                .dial: "400",
                .busy: "400/500,0/500",
                .ringback: "400+450/400,0/200,400+450/400,0/2000",
                .congestion: "400/250,0/250",
                .callWaiting: "400/250,0/250,400/250,0/3250",
                .dialRecall: "!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,400",
                .specialInformation: "400/750,0/100,400/750,0/100,400/750,0/100,400/750,0/400",
                .stutterDial: "!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,!400/100,!0/100,400",
            ]),
        RegionPlanEntry(
            "pa", "Panama", ring: [2000, 4000], ringHz: 20, callerID: .bell202, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/320,0/320",
                .ringback: "425/1200,0/4650",
                .congestion: "425/320,0/320",
                .callWaiting: "425/180,0/180,425/180",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .specialInformation: "!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ]),
        RegionPlanEntry(
            "ph", "Philippines", ring: [1000, 4000], ringHz: 20, callerID: .bell202, dtmf: (-10, -10),
            tones: [
                .dial: "425",
                .busy: "480+620/500,0/500",
                .ringback: "425+480/1000,0/4000",
                .congestion: "480+620/250,0/250",
                .callWaiting: "440/300,0/10000",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "pl", "Poland", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/500,0/500",
                .callWaiting: "425/150,0/150,425/150,0/4000",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ]),
        RegionPlanEntry(
            "pt", "Portugal", ring: [1000, 5000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/5000",
                .congestion: "425/200,0/200",
                .callWaiting: "425/200,425/200,425/200,0/5000",
                .dialRecall: "425/1000,0/200",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ]),
        RegionPlanEntry(
            "ru", "Russian Federation", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "425",
                .busy: "425/350,0/350",
                .ringback: "425/1000,0/4000",
                .congestion: "425/175,0/175",
                .callWaiting: "425/200,0/5000",
                .specialInformation: "950/330,1440/330,1800/330,0/1000",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "se", "Sweden", ring: [1000, 5000], ringHz: 25, callerID: .dtmf, dtmf: (-11, -9),
            tones: [
                .dial: "425",
                .busy: "425/250,0/250",
                .ringback: "425/1000,0/5000",
                .congestion: "425/250,0/750",
                .callWaiting: "425/200,0/500,425/200,0/9100",
                .dialRecall: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
                .specialInformation: "!950/332,!0/24,!1400/332,!0/24,!1800/332,!0/2024,!950/332,!0/24,!1400/332,!0/24,!1800/332,!0/2024,!950/332,!0/24,!1400/332,!0/24,!1800/332,!0/2024,!950/332,!0/24,!1400/332,!0/24,!1800/332,!0/2024,!950/332,!0/24,!1400/332,!0/24,!1800/332,0",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ]),
        RegionPlanEntry(
            "sg", "Singapore", ring: [400, 200, 400, 2000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-9, -11),
            tones: [
                .dial: "425",
                .busy: "425/750,0/750",
                .ringback: "425*24/400,0/200,425*24/400,0/2000",
                .congestion: "425/250,0/250",
                .callWaiting: "425*24/300,0/200,425*24/300,0/3200",
                .dialRecall: "425*24/500,0/500,425/500,0/2500",
                .specialInformation: "950/330,1400/330,1800/330,0/1000",
                .stutterDial: "!425/200,!0/200,!425/600,!0/200,!425/200,!0/200,!425/600,!0/200,!425/200,!0/200,!425/600,!0/200,!425/200,!0/200,!425/600,!0/200,425",
            ]),
        RegionPlanEntry(
            "th", "Thailand", ring: [1000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-9, -11),
            tones: [
                .dial: "400*50",
                .busy: "400/500,0/500",
                .ringback: "400/1000,0/4000",
                .congestion: "400/300,0/300",
                .callWaiting: "1000/400,0/10000,1000/400,0/10000",
                .dialRecall: "400*50/400,0/100,400*50/400,0/100",
                .specialInformation: "950/330,1400/330,1800/330",
                .stutterDial: "!400/200,!0/200,!400/600,!0/200,!400/200,!0/200,!400/600,!0/200,!400/200,!0/200,!400/600,!0/200,!400/200,!0/200,!400/600,!0/200,400",
            ]),
        RegionPlanEntry(
            "tr", "Turkey", ring: [2000, 4000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-10, -10),
            tones: [
                .dial: "450",
                .busy: "450/500,0/500",
                .ringback: "450/2000,0/4000",
                .congestion: "!450/200,!0/200,!450/200,!0/200,!450/200,!0/200,450/600,0/200",
                .callWaiting: "450/200,0/600,450/200,0/800",
                .specialInformation: "!950+1400/300,!0/1000,!950+1400/300,!0/1000,!950+1400/1000,0",
                .stutterDial: "!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,!450/100,!0/100,450",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "tw", "Taiwan", ring: [1000, 4000], ringHz: 20, callerID: .bell202, dtmf: (-9, -11),
            tones: [
                .dial: "350+440",
                .busy: "480+620/500,0/500",
                .ringback: "440+480/1000,0/2000",
                .congestion: "480+620/250,0/250",
                .callWaiting: "350+440/250,0/250,350+440/250,0/3250",
                .dialRecall: "300/1500,0/500",
                .specialInformation: "!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "us", "United States / North America", ring: [2000, 4000], ringHz: 20, callerID: .bell202, dtmf: (-10, -10),
            tones: [
                .dial: "350+440",
                .busy: "480+620/500,0/500",
                .ringback: "440+480/2000,0/4000",
                .congestion: "480+620/250,0/250",
                .callWaiting: "440/300,0/10000",
                .dialRecall: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
                .specialInformation: "!950/330,!1400/330,!1800/330,0",
                .stutterDial: "!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440",
            ]),
        RegionPlanEntry(
            "ve", "Venezuela", ring: [1000, 4000], ringHz: 20, callerID: .bell202, dtmf: (-9, -7),
            tones: [
                .dial: "425",
                .busy: "425/500,0/500",
                .ringback: "425/1000,0/4000",
                .congestion: "425/250,0/250",
                .callWaiting: "400+450/300,0/6000",
                .dialRecall: "425",
                .specialInformation: "!950/330,!1440/330,!1800/330,0/1000",
                .stutterDial: "!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,!425/100,!0/100,425",
            ]),
        RegionPlanEntry(
            "za", "South Africa", ring: [400, 200, 400, 2000], ringHz: 25, callerID: .etsiFSKAfterRing, dtmf: (-13, -11),
            tones: [
                .dial: "400*33",
                .busy: "400/500,0/500",
                .ringback: "400*33/400,0/200,400*33/400,0/2000",
                .congestion: "400/250,0/250",
                .callWaiting: "400*33/250,0/250,400*33/250,0/250,400*33/250,0/250,400*33/250,0/250",
                .dialRecall: "350+440",
                .specialInformation: "!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,!950/330,!1400/330,!1800/330,!0/1000,0",
                .stutterDial: "!400*33/100,!0/100,!400*33/100,!0/100,!400*33/100,!0/100,!400*33/100,!0/100,!400*33/100,!0/100,!400*33/100,!0/100,400*33",
            ]),
    ]
}
