public import TelephonyDSP
public import LineHAL

/// One thing the line does while it signals to an on-hook telephone.
public enum LineSignal: Sendable, Hashable {
    case ring(RingCadence, frequency: Double)
    case stopRing
    /// A signalling feed: reversed polarity (the alert before caller ID), on-hook transmission.
    case feed(LineFeed)
    /// Back to the feed the port's machine set — at the end of on-hook transmission only if
    /// the handset is still down (an answer mid-spill keeps the talking feed).
    case restoreFeed(onlyOnHook: Bool)
    /// Audio to the telephone (caller ID data, an alerting signal, a message-waiting message).
    case play([Int16])
}

/// A line signal sequence, each step at an offset from its start: ringing with caller ID the
/// region's way (Telcordia GR-30 after the first ring; ETSI EN 300 659-1 DT-AS, RP-AS or after
/// the ring; DTMF), or a visual message-waiting indication. Pure: the controller only plays it.
public struct LineSignalPlan: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var at: Duration
        public var signal: LineSignal
        public init(at: Duration, _ signal: LineSignal) {
            self.at = at
            self.signal = signal
        }
    }

    public var steps: [Step]

    /// Ringing for a call, with caller ID when the region has a scheme and there is someone
    /// to announce; plain ringing otherwise.
    public static func ringing(callerID info: CallerIDInfo?, plan: RegionTonePlan) -> LineSignalPlan {
        let ring = plan.ringing
        let plain = LineSignalPlan(steps: [Step(at: .zero, .ring(ring.cadence, frequency: ring.frequency))])
        guard let info, let scheme = CallerIDScheme(plan.callerID),
              let delivery = CallerIDSender.plan(.callerID(info), scheme: scheme, cadence: ring.cadence) else { return plain }
        var audio = delivery.audio.makeIterator()
        var steps: [Step] = []
        var reversed = false
        for (offset, step) in delivery.steps {
            let at = Duration.milliseconds(Int64(offset))
            switch step {
            case .startRinging: steps.append(Step(at: at, .ring(ring.cadence, frequency: ring.frequency)))
            case .reversePolarity:
                reversed = true
                steps.append(Step(at: at, .feed(.reverse)))
            case .restorePolarity:
                reversed = false
                steps.append(Step(at: at, .restoreFeed(onlyOnHook: false)))
            case .ringPulse(let ms):
                steps.append(Step(at: at, .ring(RingCadence(milliseconds: [Int64(ms), 3_600_000]), frequency: ring.frequency)))
                steps.append(Step(at: at + .milliseconds(Int64(ms)), .stopRing))
            case .play:
                guard let samples = audio.next() else { continue }
                if reversed {
                    // The reversal stays until the polarity is restored after the data: the
                    // alert and the data both go out reversed, the feed untouched between them.
                    steps += [Step(at: at, .feed(.reversedOnHookTransmission)), Step(at: at, .play(samples))]
                } else {
                    steps += onHookTransmission(samples, at: at).steps
                }
            }
        }
        return LineSignalPlan(steps: steps)
    }

    /// Audio to an on-hook telephone: the on-hook transmission feed, the audio, and the feed
    /// restored 20 ms after it ends.
    public static func onHookTransmission(_ samples: [Int16], at start: Duration = .zero) -> LineSignalPlan {
        LineSignalPlan(steps: [
            Step(at: start, .feed(.onHookTransmission)), Step(at: start, .play(samples)),
            Step(at: start + .milliseconds(Int64(samples.count / 8 + 20)), .restoreFeed(onlyOnHook: true)),
        ])
    }

    /// The plan as the line must carry it when audio reaches the line `delay` after it is
    /// played: every line step that follows audio (the feed restored, the polarity put back,
    /// the ring after the data) waits as long, so it still comes after the sound; steps before
    /// any audio, and the feed set for audio about to start, keep their time.
    public func followingAudio(delayedBy delay: Duration) -> LineSignalPlan {
        guard delay > .zero, let firstAudio = steps.first(where: { if case .play = $0.signal { true } else { false } })?.at else { return self }
        return LineSignalPlan(steps: steps.map { step in
            if case .play = step.signal { return step }
            return step.at > firstAudio ? Step(at: step.at + delay, step.signal) : step
        })
    }

    /// The message-waiting lamp on or off (ETSI/Bellcore visual MWI), for regions whose
    /// caller-ID scheme carries it.
    public static func messageWaiting(_ on: Bool, plan: RegionTonePlan) -> LineSignalPlan? {
        guard let scheme = CallerIDScheme(plan.callerID), let samples = CallerIDSender.audio(.messageWaiting(on), scheme: scheme) else { return nil }
        return onHookTransmission(samples)
    }
}
