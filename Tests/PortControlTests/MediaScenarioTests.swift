import Testing
import TipRingCore
import TelephonyDSP
import LineHAL
import SIPCore
import PortControl
import RTPMedia
import BoardSimulator
import SimulatorApp

@Suite("Media between two simulated ports (virtual time)")
struct MediaScenarioTests {
    func connectedRig(_ conditions: SimulatedSIPNetwork.Conditions? = nil) throws -> ScenarioRig {
        let rig = try ScenarioRig()
        if let conditions { rig.system.mediaNetwork.conditions = conditions }
        rig.phone(1).liftHandset()
        rig.run(1)
        rig.dial(1, "1002")
        rig.run(1)
        rig.phone(2).liftHandset()
        rig.run(1)
        return rig
    }

    @Test("1004 Hz into port 1 arrives at port 2 (frequency ±1 %, level ±1 dB), 1804 Hz the other way")
    func tonesBothWays() throws {
        let rig = try connectedRig()
        guard case .connected(let h1, _) = rig.line(1), case .connected(let h2, _) = rig.line(2) else {
            Issue.record("not connected"); return
        }
        rig.phone(1).mouthpiece.play(try Tone("1004", level: -10))
        rig.phone(2).mouthpiece.play(try Tone("1804", level: -16))
        rig.run(1)
        let t0 = rig.s.now
        rig.run(2)
        let at2 = rig.phone(2).earpiece.sine(from: t0, to: rig.s.now)
        let at1 = rig.phone(1).earpiece.sine(from: t0, to: rig.s.now)
        print("1004 Hz at -10 dBm0 → port 2 hears \(at2.frequency) Hz at \(at2.level) dBm0; 1804 Hz at -16 dBm0 → port 1 hears \(at1.frequency) Hz at \(at1.level) dBm0")
        #expect(abs(at2.frequency - 1004) < 10.04)
        #expect(abs(at2.level - -10) < 1)
        #expect(abs(at1.frequency - 1804) < 18.04)
        #expect(abs(at1.level - -16) < 1)
        let s1 = try #require(rig.system.port(1).media.current)
        #expect(s1.codec == "PCMU" && s1.packetsSent > 100 && s1.packetsReceived > 100 && s1.packetsLost == 0)
        _ = (h1, h2)
    }

    /// Pressed `periods` audio periods later, the key starts at another point of the keypad
    /// receiver's 102-sample blocks: however it falls, the far end hears none of it in-band.
    @Test("a key pressed mid-call travels as RFC 4733 events and not in the audio", arguments: 0..<6)
    func dtmfMidCall(periods: Int) throws {
        let rig = try connectedRig()
        rig.run(Double(periods) * 0.02)
        let t0 = rig.s.now
        rig.dial(1, "5")
        rig.run(1)
        #expect(rig.system.port(2).digitsReceived == ["5"])
        // Port 2's earpiece must not hear the digit in-band.
        var detector = DTMFDetector()
        var heard: [Character] = []
        let audio = Array(rig.phone(2).earpiece.samples(from: t0, to: rig.s.now))
        audio.withUnsafeBufferPointer { detector.process($0) { k, _ in heard.append(k) } }
        #expect(heard.isEmpty)
        #expect(rig.system.mediaNetwork.sent.contains { $0.bytes.count == 16 && $0.bytes[1] & 0x7F == 101 })
    }

    @Test("hang-up: no RTP after the BYE; the call's statistics are kept")
    func noRTPAfterBye() throws {
        let rig = try connectedRig()
        rig.run(2)
        rig.phone(1).hangUp()
        rig.run(2)
        let bye = try #require(rig.system.network.sent.last { (try? SIPParser.parse($0.bytes))?.method == .bye })
        let late = rig.system.mediaNetwork.sent.filter { $0.sentAt > bye.sentAt + .milliseconds(20) && $0.bytes.count > 12 && $0.bytes[1] & 0x7F < 72 }
        #expect(late.isEmpty)
        #expect(rig.system.port(1).media.statistics.values.first?.packetsSent ?? 0 > 100)
    }

    @Test("hold: the held side sends nothing, music on hold plays one way; resume restores both")
    func holdStopsMedia() throws {
        let rig = try connectedRig()
        guard case .connected(let h, _) = rig.line(1) else { Issue.record("not connected"); return }
        rig.system.port(1).userAgent.execute(.hold(h))
        rig.run(1)
        let mark = rig.system.mediaNetwork.sent.count
        rig.run(1)
        let sentByPort2 = rig.system.mediaNetwork.sent.dropFirst(mark).filter { $0.from.host == "192.0.2.20" && $0.bytes.count > 12 && $0.bytes[1] & 0x7F < 72 }
        #expect(sentByPort2.isEmpty)
        rig.system.port(1).userAgent.execute(.resume(h))
        rig.run(1)
        let mark2 = rig.system.mediaNetwork.sent.count
        rig.run(1)
        #expect(rig.system.mediaNetwork.sent.dropFirst(mark2).contains { $0.from.host == "192.0.2.20" })
    }

    @Test("a lossy, jittery media path: the call still carries the tone; loss and jitter are counted")
    func lossyPath() throws {
        let rig = try connectedRig(.init(loss: 0.02, delay: .milliseconds(20), jitter: .milliseconds(30)))
        rig.phone(1).mouthpiece.play(try Tone("1004", level: -10))
        rig.run(10)
        let s2 = try #require(rig.system.port(2).media.current)
        print("lossy path: \(s2.packetsReceived) received, \(s2.packetsLost) lost, jitter \(s2.jitterMilliseconds) ms, concealed \(s2.concealedFrames) of \(s2.playedFrames)")
        #expect(s2.packetsLost > 0)
        #expect(s2.jitterMilliseconds > 1)
        let heard = rig.phone(2).earpiece.sine(from: rig.s.now - .seconds(2), to: rig.s.now)
        #expect(abs(heard.frequency - 1004) < 20)
    }
}
