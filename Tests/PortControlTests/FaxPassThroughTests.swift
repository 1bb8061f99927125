import Testing
import TipRingCore
import TelephonyDSP
import BoardSimulator
import TestSupport

/// A fax machine on a port: its tones (spandsp's, not ours) switch the call to pass-through on
/// both ports — the one whose line sent them and the one that heard them from the network.
@Suite("Fax and modem pass-through (virtual time)", .serialized)
struct FaxPassThroughTests {
    @Test("a fax machine calling (spandsp's CNG) switches both ports' call to pass-through; the status says why", arguments: ["cng", "ans-pr"])
    func faxTonesSwitchTheCall(tone: String) throws {
        let rig = try ScenarioRig()
        rig.aliceCallsBob()
        #expect(rig.system.port(1).media.current?.passThrough == nil)
        rig.phone(1).mouthpiece.speak(try SpanDSP.connectTone(tone, milliseconds: 1500))
        rig.run(2)
        let expected = tone == "cng" ? "\(ModemToneDetector.Event.faxCalling)" : "\(ModemToneDetector.Event.answerTone)"
        #expect(rig.system.port(1).media.current?.passThrough == expected, "port 1 (its line)")
        #expect(rig.system.port(2).media.current?.passThrough == expected, "port 2 (from the network)")
    }

    @Test("a voice call stays a voice call: speech, keys and the 1004 Hz test tone switch nothing")
    func voiceStaysVoice() throws {
        let rig = try ScenarioRig()
        rig.aliceCallsBob()
        rig.phone(1).mouthpiece.play(try Tone("1004", level: -10))
        rig.dial(2, "123#")
        rig.run(3)
        rig.phone(1).mouthpiece.generator = nil
        #expect(rig.system.port(1).media.current?.passThrough == nil)
        #expect(rig.system.port(2).media.current?.passThrough == nil)
    }
}
