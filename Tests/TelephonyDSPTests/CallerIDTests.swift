import Testing
import TestSupport
import TipRingCore
@testable import TelephonyDSP

@Suite struct CallerIDMessageTests {
    let full = CallerIDInfo(number: "5551234567", name: "ALICE SMITH", dateTime: CallerIDInfo.DateTime("11251930"))

    @Test func mdmfLayoutAndChecksum() throws {
        let bytes = CallerIDMessage.callerID(full).encode(.multiple)
        #expect(bytes[0] == 0x80)
        #expect(Int(bytes[1]) == bytes.count - 3)
        #expect(Array(bytes[2...3]) == [0x01, 8])
        #expect(bytes.reduce(UInt8(0), &+) == 0)
        #expect(try CallerIDMessage.decode(bytes) == .callerID(full))
    }

    @Test func sdmfAndMessageWaitingLayouts() throws {
        let sdmf = CallerIDMessage.callerID(CallerIDInfo(number: "5551234", dateTime: CallerIDInfo.DateTime("01020304"))).encode(.single)
        #expect(sdmf == [0x04, 15] + Array("010203045551234".utf8) + [sdmf.last!])
        #expect(CallerIDMessage.messageWaiting(true).encode(.single).prefix(5) == [0x06, 3, 0x42, 0x42, 0x42])
        #expect(CallerIDMessage.messageWaiting(false).encode(.multiple).prefix(5) == [0x82, 3, 0x0B, 1, 0x00])
        for m in [CallerIDMessage.messageWaiting(true), .messageWaiting(false)] {
            for f in [CallerIDMessage.Format.single, .multiple] { #expect(try CallerIDMessage.decode(m.encode(f)) == m) }
        }
    }

    @Test func corruptMessagesAreRejected() throws {
        var bytes = CallerIDMessage.callerID(full).encode(.multiple)
        bytes[5] ^= 0x01
        #expect(throws: CallerIDMessage.DecodeError(description: "checksum mismatch")) { try CallerIDMessage.decode(bytes) }
        #expect(throws: CallerIDMessage.DecodeError.self) { try CallerIDMessage.decode([0x80]) }
        #expect(throws: CallerIDMessage.DecodeError.self) { try CallerIDMessage.decode([0x80, 40, 1, 2, 3]) }
        for n in 0..<bytes.count { _ = try? CallerIDMessage.decode(Array(bytes.prefix(n))) }
    }
}

@Suite struct CallerIDRoundTripTests {
    static let messages: [CallerIDMessage] = [
        .callerID(CallerIDInfo(number: "5551234567", name: "ALICE SMITH", dateTime: CallerIDInfo.DateTime("11251930"))),
        .callerID(CallerIDInfo(number: "0123456789", dateTime: CallerIDInfo.DateTime("12312359"))),
        .callerID(CallerIDInfo(dateTime: CallerIDInfo.DateTime("06150800"), numberAbsence: .private, nameAbsence: .private)),
        .callerID(CallerIDInfo(dateTime: CallerIDInfo.DateTime("06150800"), numberAbsence: .outOfArea, nameAbsence: .outOfArea)),
        .messageWaiting(true),
        .messageWaiting(false),
    ]
    static let fskSchemes: [CallerIDScheme] = [.bell202(.multiple), .etsiAfterRing, .etsiDTAS, .etsiRPAS]

    @Test(arguments: fskSchemes)
    func fskRoundTripsWithNoiseAndFrequencyOffset(scheme: CallerIDScheme) throws {
        for (i, message) in Self.messages.enumerated() {
            for scale in [0.98, 1.0, 1.02] {
                let clean = try #require(CallerIDSender.audio(message, scheme: scheme, frequencyScale: scale))
                let padded = [Int16](repeating: 0, count: 800) + clean + [Int16](repeating: 0, count: 800)
                // Noise 25 dB below the −13 dBm0 signal.
                let a = Level.sineAmplitude(dBm0: -13)
                let noisy = addNoise(padded, meanSquare: a * a / 2 / 316, seed: UInt64(i * 10) + UInt64(scale * 100))
                #expect(CallerIDReceiver.decode(noisy, scheme: scheme) == [message], "\(scheme) message \(i) scale \(scale)")
            }
        }
    }

    @Test func bell202SingleDataMessages() throws {
        let info = CallerIDInfo(number: "5551234", dateTime: CallerIDInfo.DateTime("03141559"))
        for m in [CallerIDMessage.callerID(info), .callerID(CallerIDInfo(dateTime: CallerIDInfo.DateTime("03141559"), numberAbsence: .private)), .messageWaiting(true), .messageWaiting(false)] {
            let audio = try #require(CallerIDSender.audio(m, scheme: .bell202(.single)))
            #expect(CallerIDReceiver.decode(audio, scheme: .bell202(.single)) == [m])
        }
    }

    @Test(arguments: DTMFCallerIDFormat.allCases)
    func dtmfRoundTrips(format: DTMFCallerIDFormat) throws {
        let number = CallerIDMessage.callerID(CallerIDInfo(number: "4512345678"))
        for scale in [0.98, 1.0, 1.02] {
            let g = try #require(CallerIDSender.audio(number, scheme: .dtmf(format)))
            // Frequency offset applied by resynthesising the digits at scaled frequencies.
            let digits = format.digits(for: CallerIDInfo(number: "4512345678"))!
            let shifted = DTMFGenerator(lowLevel: -10, highLevel: -8, onMilliseconds: 70, offMilliseconds: 70).render(digits, frequencyScale: (scale, scale))
            let a = Level.sineAmplitude(dBm0: -10)
            for audio in [g, addNoise(shifted, meanSquare: a * a / 2 / 316, seed: 5)] {
                #expect(CallerIDReceiver.decode(audio, scheme: .dtmf(format)) == [number], "\(format) \(scale)")
            }
        }
        if format != .hashTerminated {
            for absence in [CallerIDInfo.Absence.private, .outOfArea] {
                let m = CallerIDMessage.callerID(CallerIDInfo(numberAbsence: absence))
                let audio = try #require(CallerIDSender.audio(m, scheme: .dtmf(format)))
                #expect(CallerIDReceiver.decode(audio, scheme: .dtmf(format)) == [m])
            }
        } else {
            #expect(CallerIDSender.audio(.callerID(CallerIDInfo(numberAbsence: .private)), scheme: .dtmf(format)) == nil)
        }
    }

    @Test func everyRegionsStandardHasAScheme() {
        for (code, plan) in RegionTonePlan.all {
            if case .ntt = plan.callerID { #expect(CallerIDScheme(plan.callerID) == nil); continue }
            #expect(CallerIDScheme(plan.callerID) != nil, "\(code)")
        }
    }
}

/// Timing: the alerting signal, seizure, mark and data fall in the standards' windows.
@Suite struct CallerIDTimingTests {
    @Test func spillStructureMatchesTheStandard() {
        let m = CallerIDMessage.callerID(CallerIDInfo(number: "5551234567", name: "BOB"))
        let bytes = m.encode(.multiple)
        let bits = FSKModem.bits(for: bytes)
        #expect(bits.prefix(300).enumerated().allSatisfy { $0.element == ($0.offset % 2 == 1) })  // seizure 0101…
        #expect(bits[300..<480].allSatisfy { $0 })                                                 // 180 bits of mark
        #expect(bits.count == 300 + 180 + bytes.count * 10 + 4)
        // At 8 kHz the bit edges stay on the 1200 bit/s grid to within one sample.
        let audio = FSKModem.bell202.modulate(bits)
        #expect(audio.count == Int((Double(bits.count) * 8000 / 1200).rounded()))
        #expect(FSKModem.bell202.sample(ofBit: 300) == 2000)  // seizure ends exactly at 250 ms
        #expect(FSKModem.bell202.sample(ofBit: 480) == 3200)  // mark ends exactly at 400 ms
        // Off hook (call waiting): no seizure, 80 bits of mark.
        let offHook = FSKModem.bits(for: bytes, seizure: false, markBits: FSKModem.offHookMarkBits)
        #expect(offHook.prefix(80).allSatisfy { $0 } && !offHook[80])
    }

    @Test func dtasPlanIsInsideEveryWindow() throws {
        let m = CallerIDMessage.callerID(CallerIDInfo(number: "441234567890"))
        let plan = try #require(CallerIDSender.plan(m, scheme: .etsiDTAS, cadence: .gb))
        let t = Dictionary(plan.steps.map { ("\($0.step)", $0.offset) }, uniquingKeysWith: { a, _ in a })
        let reversal = try #require(t["reversePolarity"])
        let alertStart = plan.steps[1].offset, dataStart = plan.steps[2].offset
        #expect(CallerIDTiming.reversalToAlert.contains(alertStart - reversal))
        let alertMs = plan.audio[0].count / 8
        #expect(CallerIDTiming.alertDuration.contains(alertMs))
        #expect(CallerIDTiming.alertToData.contains(dataStart - alertStart - alertMs))
        let ring = try #require(t["startRinging"])
        #expect(ring - (dataStart + plan.audio[1].count / 8) >= CallerIDTiming.dataToFirstRing)
        // The alert as a phone hears it: a dual tone, found where the plan put it.
        let line = [Int16](repeating: 0, count: alertStart * 8) + plan.audio[0]
        let found = try #require(CallerIDReceiver.alertingSignal(in: line))
        #expect(abs(found - alertStart * 8) <= 80)
        #expect(CallerIDReceiver.alertingSignal(in: DTMFGenerator().render("1")) == nil)
    }

    @Test func afterRingPlansStartInTheWindowAndFitTheFirstSilence() throws {
        let m = CallerIDMessage.callerID(CallerIDInfo(number: "5551234567", name: "ALICE SMITH", dateTime: CallerIDInfo.DateTime("11251930")))
        for (scheme, cadence) in [(CallerIDScheme.bell202(.multiple), RingCadence.us), (.etsiAfterRing, .de)] {
            let plan = try #require(CallerIDSender.plan(m, scheme: scheme, cadence: cadence))
            let firstRingMs = Int(cadence.segments[0].duration.nanoseconds / 1_000_000)
            let silenceMs = Int(cadence.segments[1].duration.nanoseconds / 1_000_000)
            let dataStart = plan.steps[1].offset
            #expect(CallerIDTiming.afterRingDelay.contains(dataStart - firstRingMs))
            let dataEnd = dataStart + plan.audio[0].count / 8
            #expect(firstRingMs + silenceMs - dataEnd >= CallerIDTiming.beforeNextRing, "\(scheme)")
        }
    }

    @Test func rpasAndDTMFPlans() throws {
        let m = CallerIDMessage.callerID(CallerIDInfo(number: "4512345678"))
        let rp = try #require(CallerIDSender.plan(m, scheme: .etsiRPAS, cadence: .de))
        guard case .ringPulse(let ms) = rp.steps[0].step else { Issue.record("no ring pulse"); return }
        #expect(CallerIDTiming.ringPulseDuration.contains(ms))
        #expect(CallerIDTiming.ringPulseToData.contains(rp.steps[1].offset - ms))
        let dt = try #require(CallerIDSender.plan(m, scheme: .dtmf(.aToC), cadence: .de))
        #expect(dt.steps.first?.step == .reversePolarity)
        #expect(DTMFDetector.detect(dt.audio[0]) == "A4512345678C")
    }
}

@Suite(.serialized) struct CallerIDSpanDSPInteropTests {
    static let cases: [(String, CallerIDScheme)] = [("class", .bell202(.multiple)), ("clip", .etsiAfterRing)]

    @Test(arguments: cases)
    func spanDSPDecodesOurSpills(standard: String, scheme: CallerIDScheme) throws {
        let info = CallerIDInfo(number: "5551234567", name: "ALICE SMITH", dateTime: CallerIDInfo.DateTime("11251930"))
        let ours = try #require(CallerIDSender.audio(.callerID(info), scheme: scheme))
        let fields = try SpanDSP.decodeCallerID(standard: standard, [Int16](repeating: 0, count: 400) + ours + [Int16](repeating: 0, count: 400))
        #expect(fields == ["datetime=11251930", "number=5551234567", "name=ALICE SMITH"])
        let absent = try #require(CallerIDSender.audio(.callerID(CallerIDInfo(dateTime: CallerIDInfo.DateTime("01010101"), numberAbsence: .private, nameAbsence: .outOfArea)), scheme: scheme))
        #expect(try SpanDSP.decodeCallerID(standard: standard, absent) == ["datetime=01010101", "number-absence=P", "name-absence=O"])
    }

    /// ETSI DT-AS (the UK's caller ID before the first ring): the V.23 data after the dual-tone
    /// alert, as our plan sends it, decoded by spandsp's CLIP receiver.
    @Test func spanDSPDecodesOurDTASData() throws {
        let info = CallerIDInfo(number: "01632960123", name: "CAROL", dateTime: CallerIDInfo.DateTime("12021815"))
        let plan = try #require(CallerIDSender.plan(.callerID(info), scheme: .etsiDTAS, cadence: .gb))
        #expect(plan.audio.count == 2)
        let data = plan.audio[1]
        let fields = try SpanDSP.decodeCallerID(standard: "clip", [Int16](repeating: 0, count: 400) + data + [Int16](repeating: 0, count: 400))
        #expect(fields == ["datetime=12021815", "number=01632960123", "name=CAROL"])
    }

    /// DTMF caller ID (Denmark, the Netherlands, Brazil, India…): "A<number>C" as our plan plays
    /// it, decoded by spandsp's CLIP-DTMF receiver.
    @Test func spanDSPDecodesOurDTMFCallerID() throws {
        let audio = try #require(CallerIDSender.audio(.callerID(CallerIDInfo(number: "4512345678", name: nil)), scheme: .dtmf(.aToC)))
        let fields = try SpanDSP.decodeCallerID(standard: "clip-dtmf", [Int16](repeating: 0, count: 400) + audio + [Int16](repeating: 0, count: 800))
        #expect(fields == ["number=4512345678"])
    }

    @Test(arguments: cases)
    func weDecodeSpanDSPsSpills(standard: String, scheme: CallerIDScheme) throws {
        let theirs = try SpanDSP.generateCallerID(standard: standard, number: "0123456789", name: "BOB JONES", dateTime: "02290745")
        let heard = CallerIDReceiver.decode(theirs, scheme: scheme)
        #expect(heard == [.callerID(CallerIDInfo(number: "0123456789", name: "BOB JONES", dateTime: CallerIDInfo.DateTime("02290745")))])
    }
}
