import Foundation  // tests only: files, processes
import Testing
import TipRingCore
import TestSupport

/// The simulated board's hardware failing on command while the daemon runs.
@Suite("tipring run: hardware that fails is noticed, shown and brought back", .serialized)
struct DaemonHardwareTests {
    @Test("a sound device failing in a call: the call ends with BYE, the port shows the fault and leaves service, the device is reopened with back-off, the port comes back; the other port never stops")
    func audioFailureInACall() throws {
        let rig = try SimDaemonRig(name: "audiofault")
        try rig.writeConfig(registrar1: "127.0.0.1:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)")
        try rig.start()
        #expect(waitForPeer(10) { rig.status().components(separatedBy: "\"registration\": {\"state\": \"registered\"").count == 3 }, "\(rig.status())\n\(rig.log())")
        try rig.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { rig.port(1).contains("\"line\": {\"state\": \"dial-tone\"}") })
        try rig.sim(["dial", "--port", "1", "1002"])
        #expect(waitForPeer(10) { rig.port(2).contains("\"line\": {\"state\": \"ringing\"}") }, "\(rig.status())")
        try rig.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(10) { rig.status().components(separatedBy: "\"line\": {\"state\": \"connected\"").count == 3 }, "\(rig.status())")

        // Port 1's sound device fails, and refuses to open the next two times.
        try rig.sim(["fault", "--port", "1", "audio-fail", "--refusals", "2"])
        // (The fault lasts three seconds at least — two refused reopens, 1 s then 2 s apart — so
        // a status read that takes its time still finds it; the log keeps the first reason.)
        #expect(waitForPeer(10) { rig.port(1).contains("\"fault\": \"audio: sim") }, "\(rig.port(1))")
        #expect(waitForPeer(10) { rig.table().contains("out of service (audio: ") }, "\(rig.table())")
        #expect(rig.log().contains("port 1: audio: sim") && rig.log().contains("input/output error (simulated)"), "\(rig.log())")
        // The far end hears the call end (BYE), not silence; port 2 stays registered.
        #expect(waitForPeer(10) { rig.port(2).contains("\"line\": {\"state\": \"disconnected\"") }, "\(rig.port(2))")
        #expect(rig.log().contains("audio: ") && rig.log().contains("its call ended, out of service until the sound device works again"), "\(rig.log())")
        #expect(rig.port(2).contains("\"registration\": {\"state\": \"registered\""))
        // Port 1 out of service: unregistered, so a caller is told it is unavailable.
        // (Read in the log: the port is back within seconds, a slow status read can miss it.)
        #expect(waitForPeer(10) {
            rig.log().split(separator: "\n").contains { $0.contains("port.id=1") && $0.contains("registration: unregistered") }
        }, "\(rig.log())")
        try rig.sim(["onhook", "--port", "2"])

        // Opened again after 1 s, 2 s (refused twice, with the reason), then it runs: back in service.
        #expect(waitForPeer(15) { rig.log().contains("the sound device runs again after 3 attempt(s); back in service") }, "\(rig.log())")
        #expect(rig.log().components(separatedBy: "the sound device did not open again").count == 3, "\(rig.log())")
        #expect(waitForPeer(10) { rig.port(1).contains("\"registration\": {\"state\": \"registered\"") && !rig.port(1).contains("\"fault\"") }, "\(rig.port(1))")
        // And it works: lifting it gives dial tone (its audio runs: the phone hears it).
        try rig.sim(["onhook", "--port", "1"])
        try rig.sim(["offhook", "--port", "1"])
        #expect(waitForPeer(5) { rig.port(1).contains("\"line\": {\"state\": \"dial-tone\"}") })
        let heard = try rig.sim(["listen", "--port", "1", "--seconds", "2"])
        #expect(heard.contains("tone dial"), "\(heard)")

        #expect(rig.terminate(within: 6) == 0, "\(rig.log())")
    }

    @Test("the GPIO chip hanging up (POLLHUP): both its ports show the fault and leave service, their lines are requested again with back-off, and they come back reading the hook afresh")
    func gpioChipLost() throws {
        let rig = try SimDaemonRig(name: "gpiofault")
        try rig.writeConfig(registrar1: "127.0.0.1:\(rig.exchangePort)", registrar2: "127.0.0.1:\(rig.exchangePort)")
        try rig.start()
        #expect(waitForPeer(10) { rig.status().components(separatedBy: "\"registration\": {\"state\": \"registered\"").count == 3 }, "\(rig.status())\n\(rig.log())")
        // The simulated board's two ports share one chip: it goes, and refuses two requests.
        try rig.sim(["fault", "--port", "1", "gpio-lost", "--refusals", "2"])
        #expect(waitForPeer(10) { rig.status().components(separatedBy: "\"fault\": \"gpio: sim0 line ").count == 3 }, "\(rig.status())")
        #expect(rig.log().contains("the device hung up (simulated)"), "\(rig.log())")
        #expect(rig.log().contains("out of service until its GPIO lines work again"), "\(rig.log())")
        // Requested again: refused twice (with the reason), then the lines work; both back in service.
        #expect(waitForPeer(15) { rig.log().components(separatedBy: "its GPIO lines work again after").count == 3 }, "\(rig.log())")
        #expect(rig.log().components(separatedBy: "its GPIO lines could not be requested again").count == 3, "\(rig.log())")
        #expect(waitForPeer(10) { rig.status().components(separatedBy: "\"registration\": {\"state\": \"registered\"").count == 3 && !rig.status().contains("\"fault\"") },
                "\(rig.status())")
        // The hook is seen again: a lifted phone gets dial tone.
        try rig.sim(["offhook", "--port", "2"])
        #expect(waitForPeer(5) { rig.port(2).contains("\"line\": {\"state\": \"dial-tone\"}") }, "\(rig.port(2))")
        #expect(rig.terminate(within: 6) == 0, "\(rig.log())")
    }
}
