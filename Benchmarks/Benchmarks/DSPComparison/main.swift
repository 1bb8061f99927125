import CSpanDSP
import TelephonyDSP
import TipRingCore
import BenchmarkSupport

#if canImport(Glibc)
import Glibc
#endif


/// Runs `body` (which processes `channelSeconds` of audio) until at least 1.5 CPU seconds
/// have passed; returns channel-seconds per CPU-second.
func rate(channelSeconds: Double, _ body: () -> Void) -> Double {
    body()  // warm up
    var runs = 0
    let start = cpuSeconds()
    repeat {
        body()
        runs += 1
    } while cpuSeconds() - start < 1.5
    return channelSeconds * Double(runs) / (cpuSeconds() - start)
}

struct Row { var name: String; var ours: Double; var peer: Double; var note: String }
var rows: [Row] = []


func fmt(_ x: Double) -> String {
    if x >= 1e6 { return fixed(x / 1e6, 2) + "M" }
    if x >= 1e3 { return fixed(x / 1e3, 1) + "k" }
    return fixed(x, 1)
}

// MARK: DTMF detectors, timed on the same audio

/// Our detector over `audio` in 20 ms blocks: its rate and the keys it heard.
func ourDTMF(_ audio: [Int16], seconds: Double) -> (rate: Double, heard: String) {
    var heard = ""
    let r = rate(channelSeconds: seconds) {
        var d = DTMFDetector()
        var keys = ""
        audio.withUnsafeBufferPointer { all in
            var i = 0
            while i < all.count {
                let n = min(160, all.count - i)
                d.process(UnsafeBufferPointer(rebasing: all[i..<(i + n)])) { k, _ in keys.append(k) }
                i += n
            }
        }
        heard = keys
    }
    return (r, heard)
}

final class Collected { var digits: [UInt8] = [] }

/// spandsp's detector over `audio` in 20 ms blocks: its rate and the keys it heard.
func spandspDTMF(_ audio: [Int16], seconds: Double) -> (rate: Double, heard: String) {
    let collected = Collected()
    let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32) -> Void = { user, digits, len in
        guard let user, let digits else { return }
        let box = Unmanaged<Collected>.fromOpaque(user).takeUnretainedValue()
        for i in 0..<Int(len) { box.digits.append(UInt8(bitPattern: digits[i])) }
    }
    var heard = ""
    let r = rate(channelSeconds: seconds) {
        collected.digits.removeAll(keepingCapacity: true)
        let rx = dtmf_rx_init(nil, callback, Unmanaged.passUnretained(collected).toOpaque())
        audio.withUnsafeBufferPointer { all in
            var i = 0
            while i < all.count {
                let n = min(160, all.count - i)
                _ = dtmf_rx(rx, all.baseAddress! + i, Int32(n))
                i += n
            }
        }
        heard = String(decoding: collected.digits, as: UTF8.self)
        dtmf_rx_free(rx)
    }
    return (r, heard)
}

// MARK: DTMF detection — the same 60 s of keys in noise for both.
do {
    var keys = ""
    var r = SeededRandom(seed: 42)
    for _ in 0..<600 { keys.append(DTMF.allKeys[Int(r.next() % 16)]) }
    var audio = DTMFGenerator(lowLevel: -10, highLevel: -10, onMilliseconds: 50, offMilliseconds: 50).render(keys)
    // White noise 30 dB below the tones.
    let sigma = Level.sineAmplitude(dBm0: -10) / pow(10, 30.0 / 20) / 2.squareRoot()
    for i in audio.indices {
        let u1 = max(r.unit(), 1e-12), u2 = r.unit()
        let g = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        audio[i] = Int16(max(-32768, min(32767, Double(audio[i]) + sigma * g)))
    }
    let seconds = Double(audio.count) / 8000

    let (ours, oursHeard) = ourDTMF(audio, seconds: seconds)
    let (peer, peerHeard) = spandspDTMF(audio, seconds: seconds)
    let oursRight = zip(oursHeard, keys).filter { $0 == $1 }.count
    let peerRight = zip(peerHeard, keys).filter { $0 == $1 }.count
    rows.append(Row(name: "DTMF detection (600 keys, 30 dB S/N)", ours: ours, peer: peer,
                    note: "keys right: ours \(oursRight)/600 (\(oursHeard.count) heard), spandsp \(peerRight)/600 (\(peerHeard.count) heard)"))
}

// MARK: DTMF detection on continuous speech — the fair row: no silence anywhere, so an
// energy gate cannot skip a block; both detectors work every block, and talk-off (keys heard
// in the speech) is counted.
do {
    var r = SeededRandom(seed: 43)
    let seconds = 60.0
    let count = Int(seconds * 8000)
    // Speech-like: a voiced source (f0 gliding 90–220 Hz, 12 harmonics falling 6 dB per
    // octave) in syllables of 120–300 ms that never fall silent, at about −18 dBm0, plus noise
    // 35 dB below.
    var audio = [Int16](repeating: 0, count: count)
    var phase = 0.0, f0 = 140.0, target = 140.0, syllableLeft = 0, envelope = 0.5
    let amplitude = Level.sineAmplitude(dBm0: -18)
    for i in 0..<count {
        if syllableLeft == 0 {
            syllableLeft = 960 + Int(r.next() % 1440)
            target = 90 + Double(r.next() % 130)
            envelope = 0.35 + r.unit() * 0.65
        }
        syllableLeft -= 1
        f0 += (target - f0) * 0.0005
        phase += 2 * Double.pi * f0 / 8000
        var x = 0.0
        for h in 1...12 { x += sin(Double(h) * phase) / Double(h) }
        let u1 = max(r.unit(), 1e-12), u2 = r.unit()
        let noise = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2) * amplitude / pow(10, 35.0 / 20)
        audio[i] = Int16(max(-32768, min(32767, amplitude * envelope * x / 2 + noise)))
    }
    // 60 keys over the speech (50 ms on, −10 dBm0), one a second.
    var keys = ""
    for k in 0..<60 {
        let key = DTMF.allKeys[Int(r.next() % 16)]
        keys.append(key)
        let tone = DTMFGenerator(lowLevel: -10, highLevel: -10, onMilliseconds: 50, offMilliseconds: 0).render(String(key))
        for (j, v) in tone.enumerated() where k * 8000 + 4000 + j < count {
            let at = k * 8000 + 4000 + j
            audio[at] = Int16(max(-32768, min(32767, Int(audio[at]) + Int(v))))
        }
    }
    let (ours, oursHeard) = ourDTMF(audio, seconds: seconds)
    let (peer, peerHeard) = spandspDTMF(audio, seconds: seconds)
    rows.append(Row(name: "DTMF detection on continuous speech (60 keys over 60 s of voice, no silence)", ours: ours, peer: peer,
                    note: "heard: ours \(oursHeard.count) (\(oursHeard == keys ? "all 60 right" : "sent \(keys), heard \(oursHeard)")), "
                        + "spandsp \(peerHeard.count) (\(peerHeard == keys ? "all 60 right" : "heard \(peerHeard)"))"))
}

// MARK: Tone synthesis — a cadenced two-frequency tone (busy 480+620 Hz, 500/500 ms, −16 dBm0).
do {
    let seconds = 60.0
    let count = Int(seconds * 8000)
    var frame = [Int16](repeating: 0, count: 160)
    var oursLevel = 0.0, peerLevel = 0.0
    let busy = try! Tone("480+620/500,0/500", level: -16)
    let ours = rate(channelSeconds: seconds) {
        var synth = ToneSynthesizer(busy)
        var acc = 0.0
        var done = 0
        frame.withUnsafeMutableBufferPointer { f in
            while done < count {
                synth.render(into: f)
                acc += Double(f[done % 160 == 0 ? 37 : 0])
                done += 160
            }
        }
        oursLevel = acc
    }
    let peer = rate(channelSeconds: seconds) {
        let desc = tone_gen_descriptor_init(nil, 480, -16, 620, -16, 500, 500, 0, 0, 1)
        let state = tone_gen_init(nil, desc)
        var acc = 0.0
        var done = 0
        frame.withUnsafeMutableBufferPointer { f in
            while done < count {
                let n = tone_gen(state, f.baseAddress!, 160)
                acc += Double(f[n > 37 ? 37 : 0])
                done += 160
            }
        }
        peerLevel = acc
        tone_gen_free(state)
        tone_gen_descriptor_free(desc)
    }
    // Levels compared once, outside the timed loops.
    let oursSamples = ToneSynthesizer.samples(of: busy, count: 8000)
    let peerDesc = tone_gen_descriptor_init(nil, 480, -16, 620, -16, 500, 500, 0, 0, 1)
    let peerState = tone_gen_init(nil, peerDesc)
    var peerSamples = [Int16](repeating: 0, count: 8000)
    _ = tone_gen(peerState, &peerSamples, 8000)
    tone_gen_free(peerState)
    tone_gen_descriptor_free(peerDesc)
    oursLevel = oursSamples.reduce(0.0) { $0 + Double($1) * Double($1) }
    peerLevel = peerSamples.reduce(0.0) { $0 + Double($1) * Double($1) }
    rows.append(Row(name: "Tone synthesis (busy 480+620 Hz cadenced)", ours: ours, peer: peer,
                    note: "level ours vs spandsp " + fixed(10 * log10(oursLevel / peerLevel), 2) + " dB"))
}

// MARK: G.711 — encode and decode 10 s of audio, mu-law.
do {
    let seconds = 10.0
    var r = SeededRandom(seed: 7)
    let input = (0..<Int(seconds * 8000)).map { _ in Int16(truncatingIfNeeded: Int(r.next() % 65536) - 32768) }
    var codes = [UInt8](repeating: 0, count: input.count)
    var back = [Int16](repeating: 0, count: input.count)
    let ours = rate(channelSeconds: seconds) {
        input.withUnsafeBufferPointer { i in codes.withUnsafeMutableBufferPointer { G711.encode(.ulaw, i, into: $0) } }
        codes.withUnsafeBufferPointer { c in back.withUnsafeMutableBufferPointer { G711.decode(.ulaw, c, into: $0) } }
    }
    var peerCodes = [UInt8](repeating: 0, count: input.count)
    let state = g711_init(nil, Int32(G711_ULAW))
    let peer = rate(channelSeconds: seconds) {
        _ = g711_encode(state, &peerCodes, input, Int32(input.count))
        _ = g711_decode(state, &back, peerCodes, Int32(input.count))
    }
    let differ = zip(codes, peerCodes).filter { $0 != $1 }.count
    rows.append(Row(name: "G.711 mu-law encode+decode", ours: ours, peer: peer,
                    note: "codes differing from spandsp: \(differ) of \(input.count) (ours is bit-exact with G.191)"))
}

print("TipRing DSP vs spandsp 0.0.6, same input, one run (channel-seconds per CPU-second)")
print("")
for row in rows {
    print("\(row.name)")
    print("  TipRing \(fmt(row.ours))   spandsp \(fmt(row.peer))   ratio \(fixed(row.ours / row.peer, 2))×")
    print("  \(row.note)")
}
