import Benchmark
import LineHAL
import PortAudio
import RTPMedia
import SIPCore
import TipRingCore

#if canImport(Glibc)
import Glibc
#endif

/// A capture consumer doing a little real work per sample (an energy meter), as the DTMF
/// detector and the media encoder will.
final class EnergyMeter: AudioCaptureConsumer {
    var energy: Int64 = 0
    func consume(_ frame: UnsafeBufferPointer<Int16>, at time: Instant) {
        var e: Int64 = 0
        for s in frame { e &+= Int64(s) * Int64(s) }
        energy &+= e
    }
}

func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

final class Flag: @unchecked Sendable { var value = false }
let printed = Flag(), printedMixer = Flag()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .cpuTotal, .wallClock, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    // The harness's own cost: the same loop with nothing in it. Subtract its mallocs.
    Benchmark("Empty loop (harness baseline, 1000 iterations)") { benchmark in
        var t = Instant.zero
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { t += .milliseconds(20) }
        benchmark.stopMeasurement()
        blackHole(t)
    }

    // One iteration = one 20 ms audio period of one port (160 samples at 8 kHz): capture to
    // two consumers, playback from a looping source. Each sample runs 1000 periods:
    // mallocs per sample / 1000 (less the baseline) = allocations per audio period (goal 0).
    Benchmark("Audio engine, 1000 periods (160 frames, 2 consumers, 1 source)") { benchmark in
        let engine = AudioEngine()
        let m1 = EnergyMeter(), m2 = EnergyMeter()
        engine.addConsumer(m1)
        engine.addConsumer(m2)
        engine.setSource(SampleBufferSource(samples: (0..<1000).map { Int16(truncatingIfNeeded: $0 * 37) }, loops: true))
        let capture = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        let playback = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        capture.initialize(repeating: 123)
        playback.initialize(repeating: 0)
        defer { capture.deallocate(); playback.deallocate() }
        var t = Instant.zero
        let cpu0 = cpuSeconds()
        var periods = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            engine.processPeriod(capture: UnsafeBufferPointer(capture), playback: playback, at: t)
            t += .milliseconds(20)
            periods += 1
        }
        benchmark.stopMeasurement()
        blackHole(m1.energy &+ m2.energy)
        let cpu = cpuSeconds() - cpu0
        if cpu > 0.05 && !printed.value {
            printed.value = true
            let frames = Double(periods * 160) / cpu
            print("audio engine: \(periods) periods, \(Int(frames)) frames per CPU-second (\(String(Int(frames / 8000))) real-time ports per core)")
        }
    }

    // The same with a source switch every period (the control plane's hand-off).
    Benchmark("Audio engine, 1000 periods with a source switch each") { benchmark in
        let engine = AudioEngine()
        let a = SampleBufferSource(samples: [1, 2, 3], loops: true)
        let b = SampleBufferSource(samples: [4, 5], loops: true)
        let capture = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        let playback = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        capture.initialize(repeating: 0)
        playback.initialize(repeating: 0)
        defer { capture.deallocate(); playback.deallocate() }
        var t = Instant.zero
        var flip = false
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            flip.toggle()
            engine.setSource(flip ? a : b)
            engine.processPeriod(capture: UnsafeBufferPointer(capture), playback: playback, at: t)
            t += .milliseconds(20)
        }
        benchmark.stopMeasurement()
    }

    // Three-way calling: two calls and the line mixed, each call's packets arriving every
    // period (one 20 ms PCMU frame each), echo cancelled once, both calls sent their mix.
    // mallocs per sample / 1000 (less the baseline) = allocations per period (goal 0).
    Benchmark("Three-way mixer, 1000 periods (2 calls + the line, 160 frames)") { benchmark in
        let local = SessionDescription(address: "127.0.0.1", port: 4000, formats: [.pcmu])
        let session = MediaSession(local: local, remote: local, codec: .pcmu, telephoneEvent: nil, sending: true, receiving: true)
        var sent = 0
        let first = MediaBridge(session: session, ssrc: 1, at: .zero) { sent &+= $0.count }
        let second = MediaBridge(session: session, ssrc: 2, at: .zero) { sent &+= $0.count }
        let mixer = ConferenceMixer(first, second, echoCanceller: true)
        let engine = AudioEngine()
        engine.addConsumer(mixer)
        engine.setSource(mixer)
        let capture = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        let playback = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: 172, alignment: 4)
        for i in 0..<160 { capture[i] = Int16(truncatingIfNeeded: (i * 97) % 2000 - 1000) }
        playback.initialize(repeating: 0)
        for i in 12..<172 { packet[i] = UInt8(truncatingIfNeeded: i &* 31) }
        defer { capture.deallocate(); playback.deallocate(); packet.deallocate() }
        var t = Instant.zero
        var seq: UInt16 = 0, ts: UInt32 = 0
        let cpu0 = cpuSeconds()
        var periods = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            RTPPacket.writeHeader(into: packet, payloadType: 0, marker: false, sequence: seq, timestamp: ts, ssrc: 7)
            first.receive(UnsafeRawBufferPointer(packet), at: t)
            second.receive(UnsafeRawBufferPointer(packet), at: t)
            engine.processPeriod(capture: UnsafeBufferPointer(capture), playback: playback, at: t)
            seq &+= 1
            ts &+= 160
            t += .milliseconds(20)
            periods += 1
        }
        benchmark.stopMeasurement()
        blackHole(sent)
        let cpu = cpuSeconds() - cpu0
        if cpu > 0.05 && !printedMixer.value {
            printedMixer.value = true
            print("three-way mixer: \(periods) periods, \((cpu / Double(periods) * 50 * 1000 * 1000).rounded() / 1000) ms of CPU per call-second")
        }
    }
}
