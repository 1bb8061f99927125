import Testing
import TipRingCore
import LineHAL
import BoardSimulator

final class EdgeLog: @unchecked Sendable {
    var events: [GPIOEdgeEvent] = []
}

@Suite struct SimulatedGPIOChipTests {
    @Test func requestsAreCheckedAsTheKernelChecksThem() throws {
        let s = VirtualScheduler()
        let chip = SimulatedGPIOChip(name: "sim0", lineCount: 8, scheduler: s)
        let out = try chip.requestOutput(offset: 1, consumer: "tipring", initial: .high)
        #expect(chip.level(1) == .high)
        #expect(throws: HALError.lineBusy(chip: "sim0", offset: 1, consumer: "tipring")) {
            _ = try chip.requestInput(offset: 1, consumer: "other", onEdge: nil)
        }
        #expect(throws: HALError.noSuchLine(chip: "sim0", offset: 8, lineCount: 8)) {
            _ = try chip.requestOutput(offset: 8, consumer: "tipring", initial: .low)
        }
        #expect(try chip.lineInfo(offset: 1).consumer == "tipring")
        out.release()
        #expect(throws: HALError.released("line 1")) { try out.set(.low) }
        #expect(try chip.lineInfo(offset: 1).isUsed == false)
    }

    @Test func inputEdgesCarryTheSchedulerTimeAndOutputsReachTheObserver() throws {
        let s = VirtualScheduler()
        let chip = SimulatedGPIOChip(name: "sim0", lineCount: 4, scheduler: s)
        let log = EdgeLog()
        let input = try chip.requestInput(offset: 0, consumer: "tipring") { log.events.append($0) }
        var seen: [(UInt32, GPIOLevel)] = []
        chip.outputObserver = { seen.append(($0, $1)) }
        let out = try chip.requestOutput(offset: 2, consumer: "tipring", initial: .low)
        s.schedule(at: .milliseconds(5)) { chip.drive(0, to: .high) }
        s.schedule(at: .milliseconds(9)) { chip.drive(0, to: .high) }  // no change, no edge
        s.schedule(at: .milliseconds(12)) { chip.drive(0, to: .low) }
        s.schedule(at: .milliseconds(15)) { try? out.set(.high) }
        s.runUntilIdle()
        #expect(log.events == [
            GPIOEdgeEvent(offset: 0, edge: .rising, timestamp: .milliseconds(5)),
            GPIOEdgeEvent(offset: 0, edge: .falling, timestamp: .milliseconds(12)),
        ])
        #expect(try input.read() == .low)
        // Requesting the output starts driving the pin (low), then it goes high.
        #expect(seen.map(\.0) == [2, 2] && seen.map(\.1) == [.low, .high])
    }
}
