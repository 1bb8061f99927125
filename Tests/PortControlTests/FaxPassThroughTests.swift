import Foundation  // tests only: temporary files
import Testing
import TipRingCore
import TelephonyDSP
import BoardSimulator
import TestSupport

/// A fax machine on a port: its tones (spandsp's, not ours) switch the call to pass-through on
/// both ports — the one whose line sent them and the one that heard them from the network.
@Suite("Fax and modem pass-through (virtual time)", .serialized)
struct FaxPassThroughTests {
    @Test("a fax machine calling (spandsp's CNG) or a modem answering (ANS/PR) switches both ports' call to pass-through; the status says why", arguments: ["cng", "ans-pr"])
    func faxTonesSwitchTheCall(tone: String) throws {
        let rig = try ScenarioRig()
        rig.aliceCallsBob()
        #expect(rig.system.port(1).media.current?.passThrough == nil)
        rig.phone(1).mouthpiece.speak(try SpanDSP.connectTone(tone, milliseconds: 1500))
        rig.run(2)
        // A reversal (after the answer tone it is in) is what ends echo cancelling: it names the mode.
        let expected = tone == "cng" ? "\(ModemToneDetector.Event.faxCalling)" : "\(ModemToneDetector.Event.answerPhaseReversal)"
        #expect(rig.system.port(1).media.current?.passThrough == expected, "port 1 (its line)")
        #expect(rig.system.port(2).media.current?.passThrough == expected, "port 2 (from the network)")
    }

    /// Over a path as the field has it — both lines echoing 12 dB down (a two-wire line's
    /// hybrid), packets arriving up to 30 ms late — where a voice path's adaptive jitter buffer,
    /// echo canceller and gains would spoil the modem signals.
    @Test("spandsp's fax machines send two pages at V.29 9,600 bit/s with ECM through the simulated exchange, lines echoing and packets jittered: every row as sent — on a G.711 call, and on an Opus call the fax's tones switch to G.711 by re-INVITE", arguments: [false, true])
    func faxAtV29(opusFirst: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-fax-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sent = dir + "/sent.tif", received = dir + "/received.tif"
        try FaxMachine.writeDocument(sent, pages: 2)
        let sender = try FaxMachine(.send, document: sent, modem: "v29", ecm: true)
        let receiver = try FaxMachine(.receive, document: received, modem: "v29", ecm: true)
        defer { sender.close(); receiver.close() }
        let rig = try ScenarioRig { _, _, call in if opusFirst { call.media.codecs = [.opus, .pcmu] } }
        for p in 1...2 { rig.system.board.audioPort(p).hybridEcho = (returnLoss: 20, delay: 16) }
        rig.system.mediaNetwork.conditions.jitter = .milliseconds(30)
        rig.phone(1).liftHandset()
        rig.run(0.8)
        rig.dial(1, "1002")
        sender.plug(into: rig.phone(1))
        rig.run(1)
        rig.phone(2).liftHandset()
        rig.run(0.3)
        #expect(rig.system.port(1).media.current?.codec == (opusFirst ? "opus" : "PCMU"))
        let invitesBefore = rig.wire.filter { $0.method == .invite }.count
        receiver.plug(into: rig.phone(2))
        for _ in 0..<120 where sender.result == nil || receiver.result == nil { rig.run(1) }
        let tx = try #require(sender.result), rx = try #require(receiver.result)
        #expect(tx["status"] == "OK" && rx["status"] == "OK", "\(tx["status"] ?? "") / \(rx["status"] ?? "")")
        #expect(tx["pages_tx"] == "2" && rx["pages_rx"] == "2" && rx["bit_rate"] == "9600" && rx["ecm"] == "1")
        #expect(tx["ecm_retries"] == "0" && rx["bad_rows"] == "0")
        let comparison = try FaxMachine.compare(sent: sent, received: received)
        #expect(comparison.pages == 2 && comparison.differingRows == 0, "\(comparison)")
        #expect(rig.system.port(1).media.current?.passThrough != nil && rig.system.port(2).media.current?.passThrough != nil)
        // On the Opus call: one re-INVITE (each port hears the tones, the first to ask wins,
        // the other finds G.711 already) offering G.711 only, and G.711 since.
        let reinvites = rig.wire.filter { $0.method == .invite }.dropFirst(invitesBefore)
        if opusFirst {
            #expect(!reinvites.isEmpty && reinvites.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("opus") })
        } else {
            #expect(reinvites.isEmpty)
        }
        #expect(rig.system.port(1).media.current?.codec == "PCMU" && rig.system.port(2).media.current?.codec == "PCMU")
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
