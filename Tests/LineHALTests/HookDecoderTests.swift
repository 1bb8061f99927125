import Testing
import TipRingCore
import LineHAL
import BoardSimulator
import TestSupport

/// Hook decoding, end to end through the simulated GPIO chip: telephone contact → simulated
/// Ag1171 SHK → real ag1171 driver → decoder.
@Suite struct HookDecoderBoundaryTests {
    static let profiles = HookTimingProfile.named

    /// Opens the loop for `length` once off-hook and returns the port's events afterwards.
    func afterBreak(_ profile: HookTimingProfile, _ length: Duration) throws -> (events: [HookEvent.Kind], stats: HookStatistics) {
        let rig = try LineRig(profile: profile, ports: 1)
        rig.offHook(1)
        let before = rig.decoded(1).count
        rig.phone(1).flash(for: length)
        rig.settle()
        return (Array(rig.decoded(1).dropFirst(before)), rig.lines[1]!.hookStatistics)
    }

    @Test(arguments: profiles)
    func seizureBoundary(profile: HookTimingProfile) throws {
        for (held, expectOffHook) in [(profile.seize - .milliseconds(1), false), (profile.seize + .milliseconds(1), true)] {
            let rig = try LineRig(profile: profile, ports: 1)
            rig.phone(1).liftHandset()
            rig.phone(1).hangUp(at: rig.scheduler.now + held)
            rig.settle()
            #expect(rig.decoded(1).contains(.offHook) == expectOffHook, "\(profile.name) held \(held)")
            if !expectOffHook { #expect(rig.lines[1]!.hookStatistics.abortedSeizures == 1) }
        }
        // The off-hook decision is made exactly `seize` after the contact closed.
        let rig = try LineRig(profile: profile, ports: 1)
        let t0 = rig.scheduler.now
        rig.phone(1).liftHandset()
        rig.settle()
        #expect(rig.events[1]?.first { $0.kind == .offHook }?.at == t0 + profile.seize)
    }

    @Test(arguments: profiles)
    func pulseWindowBoundaries(profile: HookTimingProfile) throws {
        let one = Duration.milliseconds(1)
        #expect(try afterBreak(profile, profile.pulseBreak.lowerBound).events == [.pulseDigit(1)])
        #expect(try afterBreak(profile, profile.pulseBreak.upperBound).events == [.pulseDigit(1)])
        let short = try afterBreak(profile, profile.pulseBreak.lowerBound - one)
        #expect(short.events == [])
        #expect(short.stats.ignoredBreaks == 1)
        let long = try afterBreak(profile, profile.pulseBreak.upperBound + one)
        #expect(long.events == [])
        #expect(long.stats.ignoredBreaks == 1)
    }

    @Test(arguments: profiles)
    func flashWindowBoundaries(profile: HookTimingProfile) throws {
        let one = Duration.milliseconds(1)
        #expect(try afterBreak(profile, profile.flash.lowerBound).events == [.flash])
        #expect(try afterBreak(profile, profile.flash.upperBound).events == [.flash])
        #expect(try afterBreak(profile, profile.flash.lowerBound - one).events == [])
        let over = try afterBreak(profile, profile.flash.upperBound + one)
        #expect(over.events == [])
        #expect(over.stats.ignoredBreaks == 1)
    }

    @Test(arguments: profiles)
    func hangUpBoundary(profile: HookTimingProfile) throws {
        let one = Duration.milliseconds(1)
        #expect(try afterBreak(profile, profile.hangUpMinimum - one).events == [])
        let hang = try afterBreak(profile, profile.hangUpMinimum + one)
        // The break reached the hang-up minimum: on-hook; the closing contact then starts a
        // new seizure that lasts, so off-hook follows.
        #expect(hang.events == [.onHook, .offHook])
        let rig = try LineRig(profile: profile, ports: 1)
        rig.offHook(1)
        let t = rig.scheduler.now
        rig.phone(1).hangUp()
        rig.settle()
        #expect(rig.events[1]?.last == HookEvent(.onHook, at: t + profile.hangUpMinimum))
    }

    @Test(arguments: profiles)
    func digitEndBoundary(profile: HookTimingProfile) throws {
        let pulse = profile.pulseBreak.lowerBound + .milliseconds(20)
        for (make, expected) in [(profile.digitEnd - .milliseconds(1), [HookEvent.Kind.pulseDigit(2)]),
                                 (profile.digitEnd + .milliseconds(1), [.pulseDigit(1), .pulseDigit(1)])] {
            let rig = try LineRig(profile: profile, ports: 1)
            rig.offHook(1)
            let before = rig.decoded(1).count
            let end = rig.phone(1).flash(for: pulse)
            rig.phone(1).flash(for: pulse, at: end + make)
            rig.settle()
            #expect(Array(rig.decoded(1).dropFirst(before)) == expected, "\(profile.name) make \(make)")
        }
    }
}

@Suite struct RotaryDialTests {
    static let matrix: [(HookTimingProfile, Double, Double)] = {
        var m: [(HookTimingProfile, Double, Double)] = []
        for p in [HookTimingProfile.b222s, .us, .permissive] {
            for pps in [8.0, 10.0, 12.0] { for ratio in [0.6, 2.0 / 3.0] { m.append((p, pps, ratio)) } }
        }
        for p in [HookTimingProfile.gb, .de] {
            for ratio in [0.6, 2.0 / 3.0] { m.append((p, 10, ratio)) }
        }
        return m
    }()

    @Test(arguments: matrix)
    func dialsEveryDigit(profile: HookTimingProfile, pps: Double, ratio: Double) throws {
        let rig = try LineRig(profile: profile, ports: 1)
        rig.offHook(1)
        let end = rig.phone(1).dialPulses("1234567890", pulsesPerSecond: pps, breakRatio: ratio)
        rig.run(until: end + .seconds(2))
        let digits = rig.decoded(1).compactMap { if case .pulseDigit(let d) = $0 { d } else { nil } }
        #expect(digits == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], "\(profile.name) \(pps) pps \(ratio)")
        #expect(rig.decoded(1).filter { $0 == .flash || $0 == .onHook }.isEmpty)
    }

    @Test func elevenPulsesAreNoDigit() throws {
        let rig = try LineRig(ports: 1)
        rig.offHook(1)
        var t = rig.scheduler.now
        for _ in 0..<11 { t = rig.phone(1).flash(for: .milliseconds(60), at: t) + .milliseconds(40) }
        rig.settle()
        #expect(!rig.decoded(1).contains { if case .pulseDigit = $0 { true } else { false } })
        #expect(rig.lines[1]!.hookStatistics.invalidPulseTrains == 1)
    }
}

@Suite struct BounceAndChatterTests {
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func bouncingContactsGiveCleanEvents(seed: UInt64) throws {
        let rig = try LineRig(ports: 1, seed: seed)
        rig.phone(1).bounces = true
        rig.offHook(1)
        rig.phone(1).dialPulses("905", pulsesPerSecond: 10, breakRatio: 0.6)
        rig.settle()
        rig.phone(1).flash(for: .milliseconds(400))
        rig.settle()
        rig.phone(1).hangUp()
        rig.settle()
        #expect(rig.decoded(1) == [.offHook, .pulseDigit(9), .pulseDigit(0), .pulseDigit(5), .flash, .onHook])
        #expect(rig.lines[1]!.hookStatistics.bounces > 0)
    }

    @Test func chatterWhileOffHookProducesNothing() throws {
        let rig = try LineRig(ports: 1)
        rig.offHook(1)
        let before = rig.decoded(1)
        var t = rig.scheduler.now
        for ms in [2, 3, 4, 5, 2, 5] as [Int64] {
            t = rig.phone(1).flash(for: .milliseconds(ms), at: t) + .milliseconds(30)
        }
        rig.settle()
        #expect(rig.decoded(1) == before)
        #expect(rig.lines[1]!.hookStatistics.bounces == 6)
        #expect(rig.lines[1]!.hookStatistics.ignoredBreaks == 0)
    }

    @Test func chatterWhileOnHookIsNoSeizure() throws {
        let rig = try LineRig(ports: 1)
        var t = rig.scheduler.now
        for ms in [2, 5, 3] as [Int64] {
            rig.phone(1).liftHandset(at: t)
            rig.phone(1).hangUp(at: t + .milliseconds(ms))
            t = t + .milliseconds(50)
        }
        rig.settle()
        #expect(rig.events[1] ?? [] == [])
    }
}

@Suite struct FlashAndHangUpTests {
    @Test(arguments: HookTimingProfile.named)
    func flashIsNotHangUpAndHangUpIsNotFlash(profile: HookTimingProfile) throws {
        let rig = try LineRig(profile: profile, ports: 1)
        rig.offHook(1)
        let mid = (profile.flash.lowerBound + profile.flash.upperBound) / 2
        rig.phone(1).flash(for: mid)
        rig.settle()
        #expect(rig.decoded(1) == [.offHook, .flash])
        rig.phone(1).hangUp()
        rig.settle()
        #expect(rig.decoded(1) == [.offHook, .flash, .onHook])
        #expect(rig.lines[1]!.decoder.isOffHook == false)
    }

    @Test func aPendingDigitIsReportedBeforeAFlashOrHangUp() throws {
        let rig = try LineRig(ports: 1)
        rig.offHook(1)
        let end = rig.phone(1).dialPulses("3")
        rig.phone(1).flash(for: .milliseconds(400), at: end + .milliseconds(100))
        rig.settle()
        let end2 = rig.phone(1).dialPulses("2")
        rig.phone(1).hangUp(at: end2 + .milliseconds(100))
        rig.settle()
        #expect(rig.decoded(1) == [.offHook, .pulseDigit(3), .flash, .pulseDigit(2), .onHook])
    }

    @Test func histogramRecordsBreakLengths() throws {
        let rig = try LineRig(ports: 1)
        rig.offHook(1)
        rig.phone(1).dialPulses("2", pulsesPerSecond: 10, breakRatio: 0.6)
        rig.settle()
        let h = rig.lines[1]!.hookStatistics
        #expect(h.breakHistogram == [60: 2])
        #expect(h.makeHistogram == [40: 1])
    }
}
