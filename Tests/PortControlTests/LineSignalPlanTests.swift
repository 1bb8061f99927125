import Testing
import TelephonyDSP
import LineHAL
import PortControl

/// The line signal plans against the standards' windows (the numbers are written here from
/// Telcordia GR-30 and ETSI EN 300 659-1, not read from the code's constants).
@Suite("Ringing and caller ID as a line signal plan")
struct LineSignalPlanTests {
    static let carol = CallerIDInfo(number: "5551234", name: "Carol")

    static func ms(_ d: Duration) -> Int { Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }

    /// Each audio step with its start and length (ms).
    static func audio(_ p: LineSignalPlan) -> [(start: Int, length: Int)] {
        p.steps.compactMap { s in if case .play(let x) = s.signal { (ms(s.at), x.count / 8) } else { nil } }
    }

    static func firstRing(_ p: LineSignalPlan, cadenceOf plan: RegionTonePlan) -> Int? {
        p.steps.first { if case .ring(plan.ringing.cadence, _) = $0.signal { true } else { false } }.map { ms($0.at) }
    }

    /// Every audio step plays in on-hook transmission, set at its start, and the feed comes
    /// back only after it ends. After a line reversal (DT-AS, DTMF) the audio goes out
    /// reversed and nothing touches the feed until the polarity is restored after the last
    /// of it: a restore in between would be a second reversal under the data.
    static func checkOnHookTransmission(_ p: LineSignalPlan) {
        var reversed = false
        for (i, s) in p.steps.enumerated() {
            if s.signal == .feed(.reverse) { reversed = true }
            guard case .play(let x) = s.signal else { continue }
            let end = ms(s.at) + x.count / 8
            let feed: LineFeed = reversed ? .reversedOnHookTransmission : .onHookTransmission
            #expect(i > 0 && p.steps[i - 1] == LineSignalPlan.Step(at: s.at, .feed(feed)))
            let restore = p.steps[(i + 1)...].first { if case .restoreFeed = $0.signal { true } else { false } }
            if reversed {
                let changes = p.steps[(i + 1)...].filter { ms($0.at) < end && { if case .feed = $0.signal { true } else { false } }($0) }
                #expect(changes.allSatisfy { $0.signal == .feed(.reversedOnHookTransmission) })
                if p.steps[(i + 1)...].contains(where: { if case .play = $0.signal { true } else { false } }) { continue }
                #expect(restore?.signal == .restoreFeed(onlyOnHook: false))
            } else {
                #expect(restore?.signal == .restoreFeed(onlyOnHook: true))
            }
            #expect(restore.map { ms($0.at) >= end } == true)
        }
    }

    @Test("no one to announce: the region's ring at once and nothing else")
    func plainRinging() throws {
        let us = try #require(RegionTonePlan.forRegion(.us))
        let p = LineSignalPlan.ringing(callerID: nil, plan: us)
        #expect(p.steps == [LineSignalPlan.Step(at: .zero, .ring(us.ringing.cadence, frequency: us.ringing.frequency))])
    }

    @Test("Telcordia GR-30 (US): data at least 500 ms after the first ring ends and done 200 ms before the next")
    func afterFirstRing() throws {
        let us = try #require(RegionTonePlan.forRegion(.us))
        let p = LineSignalPlan.ringing(callerID: Self.carol, plan: us)
        #expect(Self.firstRing(p, cadenceOf: us) == 0)
        let data = try #require(Self.audio(p).first)
        // The US cadence: 2 s ring, 4 s silence.
        #expect(data.start >= 2000 + 500)
        #expect(data.start + data.length <= 6000 - 200)
        Self.checkOnHookTransmission(p)
    }

    @Test("ETSI DT-AS (GB): reversal, alert 100–500 ms later, data 45–500 ms after the alert, first ring 200 ms or more after the data")
    func dualToneAlertBeforeRinging() throws {
        let gb = try #require(RegionTonePlan.forRegion(.gb))
        let p = LineSignalPlan.ringing(callerID: Self.carol, plan: gb)
        #expect(p.steps.first == LineSignalPlan.Step(at: .zero, .feed(.reverse)))
        let parts = Self.audio(p)
        #expect(parts.count == 2)
        let (alert, data) = (parts[0], parts[1])
        #expect((100...500).contains(alert.start))
        #expect((88...110).contains(alert.length))
        #expect((45...500).contains(data.start - (alert.start + alert.length)))
        let ring = try #require(Self.firstRing(p, cadenceOf: gb))
        #expect(ring >= data.start + data.length + 200)
        #expect(p.steps.contains { $0.signal == .restoreFeed(onlyOnHook: false) && Self.ms($0.at) <= ring })
        Self.checkOnHookTransmission(p)
    }

    @Test("DTMF caller ID: reversal, digits 100 ms or more later, the polarity restored after the last digit, then the ring")
    func dtmfBeforeRinging() throws {
        var plan = try #require(RegionTonePlan.forRegion(.gb))
        plan.callerID = .dtmf
        let p = LineSignalPlan.ringing(callerID: Self.carol, plan: plan)
        #expect(p.steps.first == LineSignalPlan.Step(at: .zero, .feed(.reverse)))
        let digits = try #require(Self.audio(p).first)
        #expect(digits.start >= 100)
        let ring = try #require(Self.firstRing(p, cadenceOf: plan))
        #expect(ring >= digits.start + digits.length + 200)
        Self.checkOnHookTransmission(p)
    }

    @Test("audio that reaches the line 60 ms late: every line step after the first sound waits as long; the reversal before it and the feed set for it do not")
    func lineStepsFollowDelayedAudio() throws {
        let gb = try #require(RegionTonePlan.forRegion(.gb))
        let p = LineSignalPlan.ringing(callerID: Self.carol, plan: gb)
        let late = p.followingAudio(delayedBy: .milliseconds(60))
        #expect(late.steps.count == p.steps.count)
        let firstAudio = try #require(Self.audio(p).first).start
        for (a, b) in zip(p.steps, late.steps) {
            #expect(a.signal == b.signal)
            let shifted: Bool
            if case .play = a.signal { shifted = false } else { shifted = Self.ms(a.at) > firstAudio }
            #expect(Self.ms(b.at) == Self.ms(a.at) + (shifted ? 60 : 0), "\(a.signal) at \(a.at)")
        }
        // Heard at the line (audio 60 ms late), the standard's windows still hold.
        let restore = try #require(late.steps.first { $0.signal == .restoreFeed(onlyOnHook: false) })
        let data = try #require(Self.audio(p).last)
        #expect(Self.ms(restore.at) >= data.start + 60 + data.length)
        #expect(late.followingAudio(delayedBy: .zero).steps == late.steps)
    }

    @Test("ETSI RP-AS: a 200–300 ms ring pulse, data 500–800 ms after it, then the ring")
    func ringPulseBeforeData() throws {
        var plan = try #require(RegionTonePlan.forRegion(.gb))
        plan.callerID = .etsiFSKBeforeRing(.ringPulse)
        let p = LineSignalPlan.ringing(callerID: Self.carol, plan: plan)
        guard case .ring = p.steps.first?.signal else { Issue.record("starts with the pulse: \(p.steps)"); return }
        let stop = try #require(p.steps.first { $0.signal == .stopRing })
        #expect((200...300).contains(Self.ms(stop.at)))
        let data = try #require(Self.audio(p).first)
        #expect((500...800).contains(data.start - Self.ms(stop.at)))
        let ring = try #require(Self.firstRing(p, cadenceOf: plan))
        #expect(ring >= data.start + data.length + 200)
    }

    @Test("a message-waiting indication is on-hook transmission that puts the feed back afterwards")
    func messageWaiting() throws {
        let de = try #require(RegionTonePlan.forRegion(.de))
        let p = try #require(LineSignalPlan.messageWaiting(true, plan: de))
        #expect(Self.audio(p).count == 1)
        Self.checkOnHookTransmission(p)
    }
}
