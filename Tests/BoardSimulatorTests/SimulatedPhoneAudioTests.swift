import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import PortAudio
import BoardSimulator
import TestSupport

@Suite struct SimulatedPhoneAudioTests {
    @Test func theKeypadSendsRealDTMFThroughTheCapturePath() throws {
        let s = VirtualScheduler()
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
        let engine = AudioEngine()
        var keys: [(Character, Instant)] = []
        engine.addConsumer(DTMFReceiver { keys.append(($0, $1)) })
        try board.audioPort(1).start(handler: engine)
        let phone = board.telephone(1)
        phone.press("0123456789*#ABCD", duration: .milliseconds(60), interval: .milliseconds(120), at: .milliseconds(100))
        s.run(until: .seconds(3))
        #expect(String(keys.map(\.0)) == "0123456789*#ABCD")
        // Each key is recognised within 80 ms of its press.
        for (i, k) in keys.enumerated() {
            let pressed = Instant.milliseconds(100 + 120 * Int64(i))
            #expect(k.1 - pressed <= .milliseconds(80), "\(k.0) at \(k.1)")
        }
    }

    @Test func theEarpieceNamesTheToneItHears() throws {
        let s = VirtualScheduler()
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
        let engine = AudioEngine()
        try board.audioPort(1).start(handler: engine)
        let de = RegionTonePlan.forRegion(.de)!
        let phone = board.telephone(1)
        // A tone reaches the earpiece the device's buffer later.
        let delay = board.audioPort(1).playbackDelay
        var heard: [ToneKind?] = []
        for kind in [ToneKind.dial, .busy, .ringback, .congestion] {
            engine.setSource(ToneSource(de.tones[kind]!, kind: kind))
            let from = s.now + delay
            s.run(until: from + .seconds(6))
            heard.append(phone.earpiece.tone(from: from, to: s.now, plan: de))
        }
        engine.setSource(nil)
        let from = s.now + delay
        s.run(until: from + .seconds(2))
        heard.append(phone.earpiece.tone(from: from, to: s.now, plan: de))
        #expect(heard == [.dial, .busy, .ringback, .congestion, nil])
    }

    @Test func aLongRunningEarpieceKeepsOnlyWhatItWasToldTo() throws {
        let s = VirtualScheduler()
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
        let engine = AudioEngine()
        try board.audioPort(1).start(handler: engine)
        let earpiece = board.telephone(1).earpiece
        earpiece.retainSeconds = 3
        let us = RegionTonePlan.forRegion(.us)!
        engine.setSource(ToneSource(us.tones[.dial]!, kind: .dial))
        var longest = 0
        for _ in 0..<60 {
            s.run(until: s.now + .seconds(1))
            longest = max(longest, earpiece.samples.count)
        }
        // Never more than a second over the three kept; the last seconds still read back.
        #expect(longest <= 4 * 8000 && longest >= 3 * 8000)
        #expect(earpiece.tone(from: s.now - .seconds(3), to: s.now, plan: us) == .dial)
        #expect(earpiece.samples(from: s.now - .seconds(2), to: s.now).count == 16000)
    }
}

@Suite struct SimulatedPhoneCallerIDTests {
    @Test(arguments: [CallerIDScheme.bell202(.multiple), .etsiDTAS, .dtmf(.aToC)])
    func thePhoneDisplaysWhatThePortSent(scheme: CallerIDScheme) throws {
        let s = VirtualScheduler()
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
        let engine = AudioEngine()
        try board.audioPort(1).start(handler: engine)
        let info = CallerIDInfo(number: "5551234567", name: scheme.modem == nil ? nil : "ALICE", dateTime: scheme.modem == nil ? nil : CallerIDInfo.DateTime("11251930"))
        let audio = try #require(CallerIDSender.audio(.callerID(info), scheme: scheme))
        let from = s.now
        engine.setSource(SampleBufferSource(samples: audio))
        s.run(until: from + .milliseconds(Int64(audio.count / 8 + 200)))
        #expect(board.telephone(1).earpiece.callerID(from: from, to: s.now, scheme: scheme) == [.callerID(info)])
        // Message waiting lamp, too (FSK schemes).
        if scheme.modem != nil {
            let lamp = try #require(CallerIDSender.audio(.messageWaiting(true), scheme: scheme))
            let t = s.now
            engine.setSource(SampleBufferSource(samples: lamp))
            s.run(until: t + .milliseconds(Int64(lamp.count / 8 + 200)))
            #expect(board.telephone(1).earpiece.callerID(from: t, to: s.now, scheme: scheme) == [.messageWaiting(true)])
        }
    }
}
