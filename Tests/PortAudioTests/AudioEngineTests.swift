import Testing
import TipRingCore
import LineHAL
import PortAudio
import BoardSimulator
import TestSupport

final class ConstantSource: AudioSource {
    let value: Int16
    init(_ value: Int16) { self.value = value }
    func render(into frame: UnsafeMutableBufferPointer<Int16>, at time: Instant) { frame.update(repeating: value) }
}

final class CaptureRecorder: AudioCaptureConsumer {
    var samples: [Int16] = []
    var times: [Instant] = []
    func consume(_ frame: UnsafeBufferPointer<Int16>, at time: Instant) {
        samples.append(contentsOf: frame)
        times.append(time)
    }
}

@Suite struct AudioEngineTests {
    @Test func sourcesSwitchAtPeriodBoundariesAndNeverMix() throws {
        let s = VirtualScheduler()
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
        let engine = AudioEngine()
        let port = board.audioPort(1)
        try port.start(handler: engine)
        let a = ConstantSource(1000), b = ConstantSource(-1000)
        s.run(until: .milliseconds(40))             // two periods of silence
        engine.setSource(a)
        s.run(until: .milliseconds(95))             // mid-period switch request…
        engine.setSource(b)
        s.run(until: .milliseconds(140))
        engine.setSource(nil)
        s.run(until: .milliseconds(200))
        port.stop()
        s.run(until: .milliseconds(300))
        let heard = board.telephone(1).earpiece.samples
        #expect(heard.count == 10 * 160)
        // Every period is all one source.
        let periods = stride(from: 0, to: heard.count, by: 160).map { Set(heard[$0..<$0 + 160]) }
        #expect(periods.allSatisfy { $0.count == 1 })
        // A switch takes effect at the next period boundary after it was asked for, and the
        // earpiece hears each period the device's two periods later (the last two were still
        // queued when the port stopped).
        #expect(port.playbackDelay == .milliseconds(40))
        #expect(periods.map { $0.first! } == [0, 0] + [0, 0, 1000, 1000, -1000, -1000, -1000, 0])
        #expect(engine.periods == 10)
    }

    @Test func everyConsumerGetsTheCapturedFrames() throws {
        let s = VirtualScheduler()
        let board = SimulatedBoard(board: LineRig.description(ports: 1), scheduler: s)
        let engine = AudioEngine()
        let r1 = CaptureRecorder(), r2 = CaptureRecorder()
        engine.addConsumer(r1)
        engine.addConsumer(r2)
        engine.addConsumer(r1)  // once only
        let speech = (0..<400).map { Int16($0 - 200) }
        board.telephone(1).mouthpiece.speak(speech)
        try board.audioPort(1).start(handler: engine)
        s.run(until: .milliseconds(60))
        engine.removeConsumer(r2)
        s.run(until: .milliseconds(100))
        #expect(r1.samples.count == 5 * 160)
        #expect(Array(r1.samples.prefix(400)) == speech)
        #expect(r1.samples.dropFirst(400).allSatisfy { $0 == 0 })
        #expect(r2.samples.count == 3 * 160)
        #expect(r1.times == [20, 40, 60, 80, 100].map { Instant.milliseconds($0) })
    }

    @Test func aSampleBufferPlaysOnceThenSilence() {
        let src = SampleBufferSource(samples: [1, 2, 3])
        var frame = [Int16](repeating: 9, count: 5)
        frame.withUnsafeMutableBufferPointer { src.render(into: $0, at: .zero) }
        #expect(frame == [1, 2, 3, 0, 0])
        #expect(src.isFinished)
        let loop = SampleBufferSource(samples: [1, 2], loops: true)
        frame.withUnsafeMutableBufferPointer { loop.render(into: $0, at: .zero) }
        #expect(frame == [1, 2, 1, 2, 1])
    }
}
