#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import PortControl
import TipRingCore
import TelephonyDSP
import BoardSimulator

/// The line's echo end to end: Bob talks, Alice's line returns part of what it plays (its
/// hybrid), and what Bob hears back of himself is what Alice's port failed to cancel. The
/// echo comes back after the sound device's playback delay plus the hybrid's few samples.
/// (A port that cannot cancel its line's echo is heard by the far end as its own voice a
/// moment late — G.131's "talker echo".)
@Suite("Line echo through the sound device's delay (virtual time)")
struct EchoScenarioTests {
    /// Speech-like noise (a slowly varying envelope on coloured noise) at about −15 dBm0.
    final class Talker: @unchecked Sendable {
        var random = SeededRandom(seed: 41)
        var n = 0
        var lowPass = 0.0
        var said: [Int16] = []
        func fill(_ frame: UnsafeMutableBufferPointer<Int16>) {
            let a = Level.sineAmplitude(dBm0: -15)
            for i in 0..<frame.count {
                let envelope = 0.6 + 0.4 * sin(2 * Double.pi * Double(n) / 2400)
                lowPass = 0.6 * lowPass + 0.4 * (random.unit() - 0.5) * 3.46
                frame[i] = Int16(max(-32767, min(32767, (a * envelope * lowPass).rounded())))
                said.append(frame[i])
                n += 1
            }
        }
    }

    /// What Bob hears of his own voice, in dB relative to what he says, with Alice's line
    /// echoing 12 dB down 2 ms after it plays and her port told (or not) of the device delay.
    static func echoHeardByBob(portKnowsTheDelay: Bool) throws -> (returned: Double, delay: Duration) {
        let rig = try ScenarioRig()
        let alice = rig.system.board.audioPort(1)
        // Alice's audio kept running from here: started again for the call, her device would
        // tell the port its delay anew.
        try #require(rig.system.port(1).controller.hardware as? LinePortHardware).onAudioNeeded = nil
        try? alice.start(handler: rig.system.port(1).engine)
        alice.hybridEcho = (returnLoss: 12, delay: 16)
        // A device that keeps four periods queued (what snd_pcm_set_params gave: 60–80 ms):
        // the echo comes back ~80 ms after it is played, past a 32 ms filter.
        alice.playbackDelay = .milliseconds(80)
        // A port that believes its device plays at once (as TipRing did).
        if !portKnowsTheDelay { rig.system.port(1).engine.playbackDelayChanged(.zero) }
        rig.aliceCallsBob()
        let talker = Talker()
        rig.phone(2).mouthpiece.generator = { frame, _ in talker.fill(frame) }
        rig.run(6)  // the canceller converges
        let t0 = rig.s.now
        rig.run(2)
        let said = Level.dBm0(of: talker.said.suffix(16000))
        let heard = Level.dBm0(of: rig.phone(2).earpiece.samples(from: t0, to: rig.s.now))
        return (max(heard - said, -99), alice.playbackDelay)  // silence itself: -99
    }

    @Test("Bob's voice comes back cancelled when Alice's port takes its sound device's delay as the echo's bulk delay — and barely cancelled when it does not")
    func echoIsCancelledAcrossTheDeviceDelay() throws {
        let cancelled = try Self.echoHeardByBob(portKnowsTheDelay: true)
        let uncancelled = try Self.echoHeardByBob(portKnowsTheDelay: false)
        print("line echo 12 dB down after a \(cancelled.delay) device delay: Bob hears himself \(Int(cancelled.returned)) dB with the bulk delay, \(Int(uncancelled.returned)) dB without")
        #expect(cancelled.delay == .milliseconds(80))
        #expect(cancelled.returned < -40)
        #expect(uncancelled.returned > -20)
    }
}
