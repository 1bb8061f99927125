import Foundation  // tests only: temporary files
import NIOPosix
import SIPCore
import SIPTransport
import PortControl
import Testing
import SimulatorApp
import TipRingCore
import PortStack
import SystemCalls
import SIPAgent
import TestSupport

/// A fax sent from one port to the other through TipRing's whole path — line audio, the
/// audio engine, G.711, RTP on real UDP, the jitter buffer, Kamailio — by spandsp's T.30
/// fax machines in the telephones' places. The fax matrix (V.29, ECM, RTP loss) is in the
/// benchmark package.
@Suite("A fax through two TipRing ports and Kamailio (wall clock, real UDP)", .serialized)
struct FaxInteropTests {
    @Test("two pages at V.17 14,400 bit/s: spandsp receives every page, every row as sent; both ports in pass-through")
    func twoPagesAtV17() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-fax-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sent = dir + "/sent.tif", received = dir + "/received.tif"
        try FaxMachine.writeDocument(sent, pages: 2)

        let k = try Kamailio()
        defer { k.stop() }
        let live = try await LivePorts(kamailio: k, sipPorts: 37000...37499, rtpPorts: 37500...37699)
        let (clock, system) = (live.clock, live.system)
        defer { live.scheduler.shutdown() }
        func line(_ p: Int) -> PortStateMachine.Line { clock.sync { system.port(p).controller.machine.line } }
        clock.sync { system.powerOn() }
        #expect(clock.wait(upTo: 10) { system.ports.values.allSatisfy { $0.controller.machine.registration == .registered } })

        // The sending machine dials (as a fax machine's own keypad would) and starts its CNG;
        // the receiving one answers when its port rings.
        let sender = try FaxMachine(.send, document: sent, modem: "v17", ecm: false)
        let receiver = try FaxMachine(.receive, document: received, modem: "v17", ecm: false)
        defer { sender.close(); receiver.close() }
        clock.sync { system.port(1).phone.liftHandset() }
        clock.advance(by: .milliseconds(800))
        _ = clock.sync { system.port(1).phone.press("1002") }
        #expect(clock.wait(upTo: 10) { if case .ringing = system.port(2).controller.machine.line { true } else { false } }, "\(line(2))")
        clock.sync { sender.plug(into: system.port(1).phone) }
        clock.sync { system.port(2).phone.liftHandset() }
        #expect(clock.wait(upTo: 10) { if case .connected = system.port(2).controller.machine.line { true } else { false } })
        clock.sync { receiver.plug(into: system.port(2).phone) }

        let finished = clock.wait(upTo: 120) { sender.result != nil && receiver.result != nil }
        let sentResult = sender.result ?? [:], receivedResult = receiver.result ?? [:]
        print("fax at V.17 through Kamailio — sender: \(sentResult.sorted { $0.key < $1.key }); receiver: \(receivedResult.sorted { $0.key < $1.key })")
        #expect(finished, "the fax did not finish within 120 s")
        let modes = clock.sync { (system.port(1).media.current?.passThrough, system.port(2).media.current?.passThrough) }
        #expect(modes.0 != nil && modes.1 != nil, "pass-through: port 1 \(String(describing: modes.0)), port 2 \(String(describing: modes.1))")

        #expect(sentResult["status"] == "OK" && receivedResult["status"] == "OK")
        #expect(sentResult["pages_tx"] == "2" && receivedResult["pages_rx"] == "2")
        #expect(receivedResult["bit_rate"] == "14400", "trained down: \(receivedResult["bit_rate"] ?? "?")")
        #expect(receivedResult["bad_rows"] == "0" && sentResult["rtn"] == "0" && sentResult["rtp"] == "0")
        let comparison = try FaxMachine.compare(sent: sent, received: received)
        #expect(comparison.pages == 2 && comparison.differingRows == 0, "\(comparison)")

        clock.sync { system.port(1).phone.hangUp() }
        clock.sync { system.port(2).phone.hangUp() }
        _ = clock.wait(upTo: 5) { system.ports.values.allSatisfy { $0.controller.machine.line == .idle } }
        clock.sync { system.powerOff() }
        _ = clock.wait(upTo: 3) { system.ports.values.allSatisfy { $0.agent.status == .unregistered } }
        await system.close()
    }
}
