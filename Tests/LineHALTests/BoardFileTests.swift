import Testing
import TipRingCore
@testable import LineHAL
import TestSupport

@Suite struct ShippedBoardTests {
    @Test func simBoardHasTwoAg1171Ports() throws {
        let b = try BoardFile.load(path: repositoryRoot + "/boards/sim.json5")
        #expect(b.name == "sim")
        #expect(b.driver == .ag1171)
        #expect(b.verified)
        #expect(b.timingProfile == .b222s)
        #expect(b.ports.map(\.id) == [1, 2])
        #expect(b.port(2)?.signals[.hookSense] == SignalLine(offset: 4))
        #expect(b.port(1)?.signals[.forwardReverse] == SignalLine(offset: 2, activeLow: true))
        #expect(b.port(1)?.audio.format.framesPerPeriod == 160)
        #expect(b.port(1)?.ring.defaultFrequency == 25)
    }

    @Test func b222sIsUnverified() throws {
        let b = try BoardFile.load(path: repositoryRoot + "/boards/b222s.json5")
        #expect(!b.verified)
        #expect(b.driver == .gpioRing)
        #expect(b.ports.count == 1)
        #expect(b.port(1)?.signals[.ringEnable] != nil)
    }

    @Test func raspberryPiReferenceWiring() throws {
        let b = try BoardFile.load(path: repositoryRoot + "/boards/rpi-ag1171.json5")
        #expect(b.driver == .ag1171)
        let p = try #require(b.port(1))
        #expect(p.signals[.ringMode]?.offset == 17)
        #expect(p.signals[.forwardReverse]?.offset == 27)
        #expect(p.signals[.hookSense] == SignalLine(offset: 22, bias: .disabled))
        #expect(p.signals[.powerDown] == .ag1171PowerDown(23))
        #expect(b.timingProfile == .permissive)
    }
}

@Suite struct BoardFileErrorTests {
    static let good = """
    {
      name: "t", driver: "ag1171", verified: true, timingProfile: "b222s",
      ports: [{
        id: 1, gpioChip: "c0",
        signals: { hookSense: { line: 0 }, ringMode: { line: 1 }, forwardReverse: { line: 2, activeLow: true }, powerDown: { line: 3, activeLow: true, drive: 'open-drain' } },
        audio: { device: "sim", sampleRate: 8000, periodMs: 20 },
        ring: { frequencyHz: 25, minHz: 16, maxHz: 50 },
      }],
    }
    """

    func error(_ text: String) -> DocumentError? {
        do {
            _ = try BoardFile.parse(text, file: "t.json5")
            return nil
        } catch {
            return error
        }
    }

    func replacing(_ a: String, _ b: String) -> String {
        precondition(Self.good.contains(a), a)
        return Self.good.replacing(a, with: b)
    }

    @Test func theBaseFileIsValid() throws {
        #expect(error(Self.good) == nil)
        let b = try BoardFile.parse(Self.good, file: "t.json5")
        #expect(b.ports[0].signals.count == 4)
    }

    @Test func unknownKeyWithSuggestion() {
        let e = error(replacing("hookSense:", "hookSence:"))
        #expect(e?.path == "ports[0].signals.hookSence")
        #expect(e?.message == "unknown key 'hookSence' (did you mean 'hookSense'?)")
        #expect(e?.position?.line == 5)
        let top = error(replacing("verified: true", "verified: true, colour: 'red'"))
        #expect(top?.message.hasPrefix("unknown key 'colour' (valid keys: name, description") == true)
    }

    @Test func missingSignalForTheDriver() {
        let e = error(replacing("powerDown: { line: 3, activeLow: true, drive: 'open-drain' } ", ""))
        #expect(e?.path == "ports[0].signals")
        #expect(e?.message == "missing signal 'powerDown', which the ag1171 driver needs")
        let foreign = error(replacing("drive: 'open-drain' }", "drive: 'open-drain' }, ringEnable: { line: 4 }"))
        #expect(foreign?.message.hasPrefix("signal 'ringEnable' is not used by the ag1171 driver") == true)
    }

    /// Ag1171 datasheet pin 14: "A logic (L) on this pin powers down the Ag1171. DO NOT put
    /// logic (H) on this pin." A board that would drive it high is refused before it runs.
    @Test(arguments: [
        ("powerDown: { line: 3, activeLow: true, drive: 'open-drain' }", "powerDown: { line: 3 }"),
        ("powerDown: { line: 3, activeLow: true, drive: 'open-drain' }", "powerDown: { line: 3, activeLow: true }"),
        ("powerDown: { line: 3, activeLow: true, drive: 'open-drain' }", "powerDown: { line: 3, drive: 'open-drain' }"),
    ])
    func ag1171PowerDownThatCouldBeDrivenHighIsRefused(from: String, to: String) {
        let e = error(replacing(from, to))
        #expect(e?.path == "ports[0].signals.powerDown")
        #expect(e?.message.hasPrefix("the Ag1171's PD is active-low and must never be driven high (datasheet pin 14)") == true)
    }

    @Test func driveMustBeAKnownMode() {
        let e = error(replacing("drive: 'open-drain'", "drive: 'open-collector'"))
        #expect(e?.path == "ports[0].signals.powerDown.drive")
        #expect(e?.message.hasPrefix("'open-collector' is not one of: push-pull, open-drain") == true)
    }

    @Test func biasMustBeAKnownPull() throws {
        let e = error(replacing("hookSense: { line: 0 }", "hookSense: { line: 0, bias: 'up' }"))
        #expect(e?.path == "ports[0].signals.hookSense.bias")
        #expect(e?.message.hasPrefix("'up' is not one of: as-is, disabled, pull-up, pull-down") == true)
        let b = try BoardFile.parse(replacing("hookSense: { line: 0 }", "hookSense: { line: 0, bias: 'pull-up' }"), file: "t.json5")
        #expect(b.ports[0].signals[.hookSense]?.bias == .pullUp)
        #expect(b.ports[0].signals[.ringMode]?.bias == .asIs)
    }

    @Test func duplicateOffset() {
        let e = error(replacing("ringMode: { line: 1 }", "ringMode: { line: 0 }"))
        #expect(e?.path == "ports[0].signals.ringMode.line")
        #expect(e?.message == "line 0 of c0 is already used by ports[0].signals.hookSense")
    }

    @Test func duplicateOffsetAcrossPorts() {
        let twoPorts = Self.good.replacing("}],", with: "}, { id: 2, gpioChip: 'c0', signals: { hookSense: { line: 9 }, ringMode: { line: 3 }, forwardReverse: { line: 10 }, powerDown: { line: 11, activeLow: true, drive: 'open-drain' } }, audio: { device: 'sim' }, ring: { frequencyHz: 25 } }],")
        let e = error(twoPorts)
        #expect(e?.path == "ports[1].signals.ringMode.line")
        #expect(e?.message == "line 3 of c0 is already used by ports[0].signals.powerDown")
        let sameID = twoPorts.replacing("id: 2", with: "id: 1")
        #expect(error(sameID)?.message.hasPrefix("port id 1 is used twice") == true)
    }

    @Test(arguments: [
        ("line: 3,", "line: 70000,", "ports[0].signals.powerDown.line", "70000 is out of range 0…65535"),
        ("sampleRate: 8000", "sampleRate: 11025", "ports[0].audio.sampleRate", "sample rate 11025 is not supported (use 8000, or 16000 for codecs that insist)"),
        ("periodMs: 20", "periodMs: 15", "ports[0].audio.periodMs", "period 15 ms is not supported (use 10 or 20)"),
        ("frequencyHz: 25", "frequencyHz: 200", "ports[0].ring.frequencyHz", "200 is out of range 10…100"),
        ("frequencyHz: 25", "frequencyHz: 60", "ports[0].ring.frequencyHz", "60.0 Hz is outside this port's limits 16.0…50.0 Hz"),
        ("id: 1", "id: 0", "ports[0].id", "0 is out of range 1…64"),
    ])
    func outOfRangeValues(from: String, to: String, path: String, message: String) {
        let e = error(replacing(from, to))
        #expect(e?.path == path)
        #expect(e?.message == message)
    }

    @Test(arguments: [
        ("verified: true", "verified: 'yes'", "verified", "expected true or false, found a string"),
        ("line: 1 }", "line: '1' }", "ports[0].signals.ringMode.line", "expected a whole number, found a string"),
        ("ports: [{", "ports: {x: [{", "ports", "expected an array, found an object"),
        ("name: \"t\"", "name: 5", "name", "expected a string, found a number"),
        ("driver: \"ag1171\"", "driver: \"si3228x\"", "driver", "'si3228x' is not one of: ag1171, gpio-ring"),
    ])
    func wrongTypes(from: String, to: String, path: String, message: String) {
        var text = replacing(from, to)
        if to.hasPrefix("ports: {x") { text = text.replacing("}],\n}", with: "}]},\n}") }
        let e = error(text)
        #expect(e?.path == path)
        #expect(e?.message == message)
    }

    @Test func timingProfileNamesAndOverrides() throws {
        #expect(error(replacing("\"b222s\"", "\"fr\""))?.message == "'fr' is not one of: b222s, us, gb, de, default")
        let adjusted = try BoardFile.parse(replacing("\"b222s\"", "{ base: 'us', flashMs: [200, 800], hangUpMs: 900 }"), file: "t.json5")
        #expect(adjusted.timingProfile.flash == .milliseconds(200) ... .milliseconds(800))
        #expect(adjusted.timingProfile.hangUpMinimum == .milliseconds(900))
        let overlap = error(replacing("\"b222s\"", "{ base: 'b222s', flashMs: [80, 600] }"))
        #expect(overlap?.path == "timingProfile")
        #expect(overlap?.message == "inconsistent timing profile: flash window 80 ms–600 ms overlaps the pulse window 15 ms–90 ms")
    }

    @Test func syntaxErrorsCarryTheirPosition() {
        let e = error("{\n  name: 't',\n  ports: [,\n}")
        #expect(e?.description == "t.json5:3:11: unexpected ','; expected a value")
    }

    @Test func everyNamedProfileIsConsistent() {
        for p in HookTimingProfile.named { #expect(p.inconsistency == nil, "\(p.name)") }
    }
}
