import Testing
import TipRingCore
import SIPCore
import PortControl
import RTPMedia
import TipRingDaemon
import TestSupport
import SIPCore

@Suite("The call history file and its table")
struct CallHistoryTests {
    static func folder() throws -> String {
        let dir = "/tmp/tipring-history-\(SecureRandom.token())"
        try FileIO.makeDirectories(dir)
        return dir
    }

    static func record(_ n: Int, answered: Bool = true) -> CallRecord {
        CallRecord(handle: CallHandle(id: UInt64(n)), startedAt: 1_764_716_400 + Int64(n), direction: n % 2 == 0 ? .incoming : .outgoing,
                   peer: "\(1000 + n)", peerName: n % 2 == 0 ? "Caller \(n)" : nil, answered: answered, ringSeconds: 2.04, talkSeconds: 65.0,
                   end: answered ? "hung up here" : "missed")
    }

    @Test("one JSON line per call, with its quality; at 1,000 lines the file rotates (one generation kept); the newest come back last")
    func rotates() throws {
        let dir = try Self.folder()
        let history = CallHistory(directory: dir)
        var quality = CallStatistics(codec: "PCMU")
        quality.packetsReceived = 995
        quality.packetsLost = 5
        quality.jitterMilliseconds = 4.26
        try history.append(CallHistory.line(Self.record(0), port: 2, quality: quality))
        #expect(history.recent(1) == [#"{"time": 1764716400, "port": 2, "direction": "incoming", "peer": "1000", "name": "Caller 0", "answered": true, "ringSeconds": 2.0, "talkSeconds": 65.0, "end": "hung up here", "codec": "PCMU", "received": 995, "lost": 5, "jitterMs": 4.3}"#])
        for n in 1...(CallHistory.linesPerFile + 4) { try history.append(CallHistory.line(Self.record(n), port: 1, quality: nil)) }
        let all = history.recent(5000)
        #expect(all.count == CallHistory.linesPerFile + 5)
        #expect(all.last?.contains("\"peer\": \"\(1000 + CallHistory.linesPerFile + 4)\"") == true)
        let files = try FileIO.readAll(path: dir + "/calls.jsonl").filter { $0 == 0x0A }.count
        #expect(files == 5)  // the rest went to calls.jsonl.1
        #expect(history.recent(3).count == 3)
        // A second history over the same folder (the daemon restarted) counts what is there.
        #expect(CallHistory(directory: dir).recent(5000) == all)
    }

    @Test("a line torn by a power cut is left out, and the next call starts a line of its own")
    func tornLine() throws {
        let dir = try Self.folder()
        try FileIO.writeAll(path: dir + "/calls.jsonl", bytes: Array(("{\"time\": 1, \"port\": 1}\n{\"time\": 2, \"po").utf8))
        let history = CallHistory(directory: dir)
        #expect(history.recent(10) == [#"{"time": 1, "port": 1}"#])
        try history.append(CallHistory.line(Self.record(3, answered: false), port: 1, quality: nil))
        #expect(history.recent(10).count == 2 && history.recent(10).last?.contains("\"end\": \"missed\"") == true)
    }

    @Test("the table: local time, in/out, who (name and number), talk time or a dash, the end in words, the quality")
    func table() throws {
        let json = "[" + [CallHistory.line(Self.record(2), port: 1, quality: nil).rendered,
                          CallHistory.line(Self.record(3, answered: false), port: 2, quality: nil).rendered].joined(separator: ", ") + "]"
        let text = try CallTable.render(json)
        #expect(text.contains("1     in   Caller 2 <1002>  1:05    hung up here"), "\(text)")
        #expect(text.contains("2     out  1003             —       missed"), "\(text)")
        #expect(try CallTable.render("[]") == "no calls yet\n")
        #expect(CallTable.duration(3723) == "1:02:03" && CallTable.duration(59.6) == "1:00")
    }
}

@Suite("What the phone set is kept across restarts")
struct PortFeatureStoreTests {
    @Test("saved and read back by a new store; the configuration changed since wins, keeping redial and call return; a torn or foreign file is ignored")
    func keeps() throws {
        let dir = try CallHistoryTests.folder()
        var configured = PortFeatures()
        configured.speedDials = ["01": "5550001"]
        var dialled = configured
        dialled.forwards = [.always: "2001", .noAnswer: "sip:vm@example.com"]
        dialled.doNotDisturb = true
        dialled.speedDials["12"] = "5550012"
        dialled.lastDialled = "5550100"
        dialled.lastCaller = "5550200"
        try PortFeatureStore(directory: dir).save(port: 2, configured: configured, current: dialled)
        #expect(PortFeatureStore(directory: dir).features(port: 2, configured: configured) == dialled)
        #expect(PortFeatureStore(directory: dir).features(port: 1, configured: configured) == configured)
        var edited = configured
        edited.forwards = [.busy: "3001"]
        let after = PortFeatureStore(directory: dir).features(port: 2, configured: edited)
        #expect(after.forwards == [.busy: "3001"] && !after.doNotDisturb && after.lastDialled == "5550100" && after.lastCaller == "5550200")
        for junk in ["{ ports: [", "[1, 2]", #"{ "ports": [{ "port": 2, "configured": 7, "current": {} }] }"#] {
            try FileIO.replace(path: dir + "/features.json", bytes: Array(junk.utf8))
            #expect(PortFeatureStore(directory: dir).features(port: 2, configured: configured) == configured, "\(junk)")
        }
    }
}
