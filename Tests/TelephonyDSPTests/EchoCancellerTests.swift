#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TipRingCore
@testable import TelephonyDSP

/// A simulated hybrid: the echo is the far-end signal delayed, filtered by a short
/// decaying response and attenuated (ERL).
struct Hybrid {
    var response: [Double]
    init(delayMilliseconds: Int, erl: Double, seed: UInt64) {
        var r = SeededRandom(seed: seed)
        let delay = delayMilliseconds * 8
        let g = pow(10, -erl / 20)
        var resp = [Double](repeating: 0, count: delay + 64)
        var norm = 0.0
        for k in 0..<64 {
            let v = (r.unit() - 0.5) * exp(-Double(k) / 12)
            resp[delay + k] = v
            norm += v * v
        }
        response = resp.map { $0 * g / norm.squareRoot() }
    }

    func echo(_ x: [Int16]) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        let nz = response.enumerated().filter { $0.element != 0 }
        for n in 0..<x.count {
            var acc = 0.0
            for (k, c) in nz where n >= k { acc += c * Double(x[n - k]) }
            out[n] = acc
        }
        return out
    }
}

/// Speech-like far-end signal: noise shaped by a slowly varying envelope.
func farEndSignal(seconds: Int, seed: UInt64, level: Double = -15) -> [Int16] {
    var r = SeededRandom(seed: seed)
    let a = Level.sineAmplitude(dBm0: level)
    var lp = 0.0
    return (0..<(seconds * 8000)).map { n in
        let env = 0.6 + 0.4 * sin(2 * Double.pi * Double(n) / 2400)
        let white = (r.unit() - 0.5) * 3.46
        lp = 0.6 * lp + 0.4 * white  // a little low-pass colouring
        return Int16(max(-32767, min(32767, (a * env * lp).rounded())))
    }
}

func erle(_ echo: ArraySlice<Double>, _ residual: ArraySlice<Int16>) -> Double {
    let pe = echo.reduce(0) { $0 + $1 * $1 }
    let pr = residual.reduce(0.0) { $0 + Double($1) * Double($1) }
    return 10 * log10(pe / max(pr, 1))
}

@Suite struct EchoCancellerTests {
    @Test(arguments: [(16, 5, 6.0), (32, 12, 10.0), (64, 40, 14.0)])
    func convergesOnASimulatedHybrid(tail: Int, delay: Int, erl: Double) {
        let far = farEndSignal(seconds: 6, seed: 7)
        let hybrid = Hybrid(delayMilliseconds: delay, erl: erl, seed: UInt64(tail))
        let echo = hybrid.echo(far)
        var ec = EchoCanceller(tailMilliseconds: tail)
        var out = [Int16](repeating: 0, count: far.count)
        for n in 0..<far.count {
            out[n] = ec.process(farEnd: far[n], nearEnd: Int16(echo[n].rounded()))
        }
        let last = (far.count - 8000)..<far.count
        let e = erle(echo[last], out[last])
        print("echo canceller: tail \(tail) ms, echo delay \(delay) ms, ERL \(erl) dB → ERLE \(String(format: "%.1f", e)) dB after 5 s")
        #expect(e >= 25)
        #expect(!ec.isBypassed)
    }

    /// A sound device that keeps 40 ms queued (ALSA's two primed periods) puts the echo of a
    /// 5 ms hybrid 45 ms after the canceller saw the far end — past a 32 ms filter. With the
    /// device's delay as bulk delay the same filter cancels it; without, it barely does.
    @Test func theSoundDevicesDelayIsTakenAsBulkDelay() {
        let far = farEndSignal(seconds: 6, seed: 23)
        let echo = Hybrid(delayMilliseconds: 45, erl: 12, seed: 5).echo(far)
        func run(_ ec: inout EchoCanceller) -> Double {
            var out = [Int16](repeating: 0, count: far.count)
            for n in 0..<far.count { out[n] = ec.process(farEnd: far[n], nearEnd: Int16(echo[n].rounded())) }
            let last = (far.count - 8000)..<far.count
            return erle(echo[last], out[last])
        }
        var withBulk = EchoCanceller(tailMilliseconds: 32, bulkDelaySamples: 40 * 8)
        var without = EchoCanceller(tailMilliseconds: 32)
        let e = run(&withBulk), e0 = run(&without)
        print("echo 45 ms after the far end, 32 ms filter: ERLE \(Int(e)) dB with 40 ms bulk delay, \(Int(e0)) dB without")
        #expect(e >= 25)
        #expect(e0 < 6)
    }

    @Test func doubleTalkDoesNotDiverge() {
        let far = farEndSignal(seconds: 8, seed: 11)
        let near = farEndSignal(seconds: 8, seed: 99, level: -12)  // the local talker, louder than the echo
        let echo = Hybrid(delayMilliseconds: 8, erl: 10, seed: 5).echo(far)
        var ec = EchoCanceller(tailMilliseconds: 32)
        var out = [Int16](repeating: 0, count: far.count)
        var frozen = 0
        for n in 0..<far.count {
            // Seconds 4–6: both talk at once.
            let local = (32000..<48000).contains(n) ? Double(near[n]) : 0
            out[n] = ec.process(farEnd: far[n], nearEnd: Int16(max(-32767, min(32767, (echo[n] + local).rounded()))))
            if ec.doubleTalk && (32000..<48000).contains(n) { frozen += 1 }
        }
        let before = erle(echo[24000..<32000], out[24000..<32000])
        let after = erle(echo[56000..<64000], out[56000..<64000])
        // During double talk the local voice passes: the output is the near end less the echo.
        var diff = 0.0, ref = 0.0
        for n in 40000..<48000 {
            diff += pow(Double(out[n]) - Double(near[n]), 2)
            ref += Double(near[n]) * Double(near[n])
        }
        print("echo canceller double talk: ERLE \(String(format: "%.1f", before)) dB before, \(String(format: "%.1f", after)) dB after; adaptation frozen \(frozen * 100 / 16000) % of the double-talk time; near-end passes with \(String(format: "%.1f", 10 * log10(ref / diff))) dB S/(echo+distortion)")
        #expect(before >= 25)
        #expect(after >= 25)
        #expect(frozen > 12000)
        #expect(10 * log10(ref / diff) >= 20)
    }

    @Test func a2100HzAnswerToneSwitchesItOffAndSilenceBackOn() {
        var ec = EchoCanceller(tailMilliseconds: 32)
        let a = Level.sineAmplitude(dBm0: -12)
        var bypassedAt: Int?
        var backAt: Int?
        for n in 0..<(8000 * 2) {
            let tone = n < 8000 ? Int16((a * sin(2 * Double.pi * 2100 * Double(n) / 8000)).rounded()) : 0
            let near = Int16(n % 7)  // tiny near-end signal, passed as is when bypassed
            let out = ec.process(farEnd: tone, nearEnd: near)
            if ec.isBypassed && bypassedAt == nil { bypassedAt = n; #expect(out == near) }
            if bypassedAt != nil && !ec.isBypassed && backAt == nil { backAt = n }
        }
        let on = try! #require(bypassedAt), off = try! #require(backAt)
        #expect((3199...4000).contains(on))            // 400 ms of tone (+ one block)
        #expect((8000 + 1600...8000 + 3200).contains(off))  // 200–400 ms after the tone ends
        // Speech at 2100 Hz for a moment does not disable it.
        var ec2 = EchoCanceller(tailMilliseconds: 32)
        for n in 0..<(8000 * 2) {
            let burst = (n / 800) % 2 == 0 ? Int16((a * sin(2 * Double.pi * 2100 * Double(n) / 8000)).rounded()) : 0
            _ = ec2.process(farEnd: burst, nearEnd: 0)
        }
        #expect(!ec2.isBypassed)
    }
}
