// The fax matrix: spandsp's T.30 fax machines on the two ports of the simulated board, a
// two-page document sent from port 1 to port 2 through the ports' whole media path (line
// audio, G.711, RTP, jitter buffer) and the simulated exchange's network, in virtual time —
// at V.17 14,400 and V.29 9,600 bit/s, without and with ECM, with 0, 0.5 and 2 % of the RTP
// packets lost, each condition over several calls (seeds). Prints spandsp's own figures and a
// pixel comparison of what arrived; asserts nothing.
// Run: `swift run -c release FaxMatrix` (needs libspandsp-dev and libtiff-dev).
import BenchmarkSupport
import CFaxTerminal
import Foundation  // benchmark only: temporary files, CPU time
import BoardSimulator
import PortControl
import SimulatorApp
import TipRingCore

/// A fax machine in a telephone's place: hears the earpiece, speaks into the mouthpiece.
final class FaxMachine {
    let terminal: OpaquePointer
    private var heardUpTo = 0
    private var heard: [Int16] = []

    init(sending: Bool, document: String, modem: String, ecm: Bool) {
        terminal = fax_terminal_new(sending ? 1 : 0, document, modem, ecm ? 1 : 0)!
    }

    deinit { fax_terminal_free(terminal) }

    func plug(into phone: SimulatedTelephone) {
        heardUpTo = phone.earpiece.samples.count
        phone.mouthpiece.generator = { [self, earpiece = phone.earpiece] frame, _ in
            heard.removeAll(keepingCapacity: true)
            heard.append(contentsOf: earpiece.samples[min(heardUpTo, earpiece.samples.count)...])
            heardUpTo = earpiece.samples.count
            heard.withUnsafeMutableBufferPointer { h in
                fax_terminal_exchange(terminal, h.baseAddress, Int32(h.count), frame.baseAddress, Int32(frame.count))
            }
        }
    }

    var done: Bool { fax_terminal_done(terminal) != 0 }

    var report: [String: String] {
        var text = [CChar](repeating: 0, count: 1024)
        _ = fax_terminal_report(terminal, &text, text.count)
        var fields: [String: String] = [:]
        for line in String(cString: text).split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        return fields
    }
}

struct Run {
    var modem: String, ecm: Bool, loss: Double
}

/// One fax call's figures.
struct Outcome {
    var bothOK: Bool, pagesSent: Int, pagesReceived: Int, identical: Bool, badRows: Int, ecmRetries: Int
    var bitRate: Int, seconds: Double, cpu: Double, lost: Int, passThrough: Bool, status: String
}

func send(_ run: Run, seed: UInt64, directory: String) throws -> Outcome {
    let document = directory + "/sent.tif", received = directory + "/received.tif"
    try? FileManager.default.removeItem(atPath: received)
    let s = VirtualScheduler(seed: seed)
    let system = try SimulatedSystem(scheduler: s, region: .us, ports: 2, seed: seed)
    func advance(_ seconds: Double) { s.run(until: s.now + .milliseconds(Int64(seconds * 1000))) }
    system.powerOn()
    advance(2)
    system.mediaNetwork.conditions.loss = run.loss / 100
    let sender = FaxMachine(sending: true, document: document, modem: run.modem, ecm: run.ecm)
    let receiver = FaxMachine(sending: false, document: received, modem: run.modem, ecm: run.ecm)
    system.port(1).phone.liftHandset()
    advance(0.8)
    s.run(until: system.port(1).phone.press("1002"))
    sender.plug(into: system.port(1).phone)
    advance(1)
    system.port(2).phone.liftHandset()
    advance(0.3)
    receiver.plug(into: system.port(2).phone)
    let start = s.now, cpu = cpuSeconds()
    while !(sender.done && receiver.done) && s.now - start < .seconds(240) { advance(1) }
    let seconds = Double((s.now - start).milliseconds) / 1000, used = cpuSeconds() - cpu
    let tx = sender.report, rx = receiver.report
    var pages: Int32 = 0, differing: Int32 = 0
    let compared = FileManager.default.fileExists(atPath: received) && fax_image_compare(document, received, &pages, &differing) == 0
    let outcome = Outcome(
        bothOK: tx["status"] == "OK" && rx["status"] == "OK", pagesSent: Int(tx["pages_tx"] ?? "") ?? 0,
        pagesReceived: Int(rx["pages_rx"] ?? "") ?? 0, identical: compared && pages == 2 && differing == 0,
        badRows: Int(rx["bad_rows"] ?? "") ?? 0, ecmRetries: Int(tx["ecm_retries"] ?? "") ?? 0, bitRate: Int(rx["bit_rate"] ?? "") ?? 0,
        seconds: seconds, cpu: used, lost: system.mediaNetwork.dropped,
        passThrough: system.port(1).media.current?.passThrough != nil && system.port(2).media.current?.passThrough != nil,
        status: tx["status"] == "OK" ? rx["status"] ?? "?" : tx["status"] ?? "?")
    system.port(1).phone.hangUp()
    system.port(2).phone.hangUp()
    advance(1)
    return outcome
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-fax-matrix-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
guard fax_image_write(directory + "/sent.tif", 2) == 0 else { fatalError("cannot write the test document") }
let calls = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 10
print("A two-page fax from port 1 to port 2: spandsp's T.30 machines on the simulated board, the simulated exchange's")
print("network losing RTP at random; \(calls) calls per row (seeds 1…\(calls)). \"identical\": the received document equals")
print("the sent one pixel for pixel; bad rows and ECM retries are spandsp's own counts (sums over the calls).")
print("modem  ECM  loss   lost pkts  calls OK  pages sent/rcvd  identical  bad rows  ECM retries  bit/s  mean time  pass-through  a failure")
for modem in ["v17", "v29"] {
    for ecm in [false, true] {
        for loss in [0.0, 0.5, 2.0] {
            let run = Run(modem: modem, ecm: ecm, loss: loss)
            let outcomes = try (1...calls).map { try send(run, seed: UInt64($0), directory: directory) }
            let ok = outcomes.filter(\.bothOK).count
            let rates = Set(outcomes.filter(\.bothOK).map(\.bitRate)).sorted().map(String.init).joined(separator: "/")
            print([pad(modem, 6), pad(ecm ? "on" : "off", 4), pad("\(loss) %", 6), pad("\(outcomes.map(\.lost).reduce(0, +))", 10),
                   pad("\(ok)/\(calls)", 9), pad("\(outcomes.map(\.pagesSent).reduce(0, +))/\(outcomes.map(\.pagesReceived).reduce(0, +))", 16),
                   pad("\(outcomes.filter(\.identical).count)/\(calls)", 10), pad("\(outcomes.map(\.badRows).reduce(0, +))", 9),
                   pad("\(outcomes.map(\.ecmRetries).reduce(0, +))", 12), pad(rates.isEmpty ? "—" : rates, 6),
                   pad("\(Int(outcomes.map(\.seconds).reduce(0, +) / Double(calls))) s", 10),
                   pad("\(outcomes.filter(\.passThrough).count)/\(calls)", 13),
                   outcomes.first { !$0.bothOK }?.status ?? "—"].joined(separator: " "))
        }
    }
}
