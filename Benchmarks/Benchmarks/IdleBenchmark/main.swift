// What an idle port costs — a router's usual state. The daemon (`tipring run`, release build)
// with two ports registered with the simulated exchange (`tipring sim exchange`), both
// on-hook: its CPU per second and its threads' wake-ups per second (context switches, from
// /proc), over 30 s, on the simulated board and on the real audio path (alsa-lib's `null`
// device, the lines simulated); then a handset lifted and the time from the confirmed
// seizure to dial tone (`seizeToToneMs`). baresip, registered and idle, measured the same
// way in the same run. Targets: ≤ 0.5 ms/s on the real audio path, ≤ 1 ms/s simulated,
// ≤ 20 wake-ups/s, dial tone ≤ 10 ms.
// Run: `swift run -c release IdleBenchmark` (builds `tipring` in release first if needed).
import BenchmarkSupport
import Foundation  // benchmark only: processes, files

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
let tipring = repository + "/.build/release/tipring"

@discardableResult
func run(_ path: String, _ args: [String], quiet: Bool = true) -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = quiet ? FileHandle.nullDevice : FileHandle.standardError
    do { try p.run() } catch { return (-1, "\(error)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

func spawn(_ path: String, _ args: [String], log: String) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    p.standardOutput = handle
    p.standardError = handle
    p.standardInput = FileHandle.nullDevice
    try p.run()
    return p
}

/// Per thread of a process: nanoseconds on a CPU (schedstat, not the 10 ms ticks of
/// /proc/PID/stat) and context switches so far — each switch a wake-up or a preemption.
func threadUsage(_ pid: Int32) -> [String: (cpuNanoseconds: Double, switches: Int)] {
    var usage: [String: (Double, Int)] = [:]
    for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
        guard let sched = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
              let ns = sched.split(separator: " ").first.flatMap({ Double($0) }),
              let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
        var switches = 0
        for line in status.split(separator: "\n") where line.hasPrefix("voluntary_ctxt_switches") || line.hasPrefix("nonvoluntary_ctxt_switches") {
            switches += Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        }
        usage[task] = (ns, switches)
    }
    return usage
}

/// CPU milliseconds and wake-ups per second of `pid` over `seconds` (threads that started
/// meanwhile count from zero; those that ended are left out).
func measure(_ pid: Int32, seconds: Double) -> (cpuMs: Double, wakeups: Double, threads: Int)? {
    let a = threadUsage(pid)
    guard !a.isEmpty else { return nil }
    let start = Date()
    Thread.sleep(forTimeInterval: seconds)
    let b = threadUsage(pid)
    let wall = Date().timeIntervalSince(start)
    var cpu = 0.0, switches = 0
    for (tid, now) in b {
        cpu += now.cpuNanoseconds - (a[tid]?.cpuNanoseconds ?? 0)
        switches += now.switches - (a[tid]?.switches ?? 0)
    }
    return (cpu / 1e6 / wall, Double(switches) / wall, b.count)
}

func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return condition()
}

/// The daemon on `audioDevice` ("sim": the simulated codec; an ALSA name: the real path).
func idleDaemon(audioDevice: String, exchangePort: Int, directory: String) throws -> String {
    let board = try String(contentsOfFile: repository + "/boards/sim.json5", encoding: .utf8)
        .replacingOccurrences(of: "device: \"sim\"", with: "device: \"\(audioDevice)\"")
    try board.write(toFile: directory + "/board.json5", atomically: true, encoding: .utf8)
    let sip = freeLoopbackUDPPort()
    try """
    {
      accounts: [
        { port: 1, user: "1001", password: "secret1", domain: "127.0.0.1", registrar: "127.0.0.1:\(exchangePort)", sipPorts: [\(sip + 100), \(sip + 109)] },
        { port: 2, user: "1002", password: "secret2", domain: "127.0.0.1", registrar: "127.0.0.1:\(exchangePort)", sipPorts: [\(sip + 110), \(sip + 119)] },
      ],
      rtpPorts: [\(sip + 200), \(sip + 299)],
      stateDirectory: "\(directory)",
    }
    """.write(toFile: directory + "/tipring.json5", atomically: true, encoding: .utf8)
    let socket = directory + "/tipring.sock"
    let daemon = try spawn(tipring, ["run", "--board", directory + "/board.json5", "--config", directory + "/tipring.json5", "--socket", socket],
                           log: directory + "/daemon.log")
    defer { daemon.terminate(); daemon.waitUntilExit() }
    func status() -> String { run(tipring, ["status", "--json", "--socket", socket]).out }
    guard waitUntil(20, { status().components(separatedBy: "\"state\" : \"registered\"").count == 3 || status().components(separatedBy: "\"state\": \"registered\"").count == 3 }) else {
        return "did not register: \(status().prefix(400))"
    }
    Thread.sleep(forTimeInterval: 3)  // past the grace time after the last activity
    guard let idle = measure(daemon.processIdentifier, seconds: 30) else { return "no /proc figures" }
    run(tipring, ["sim", "offhook", "--port", "1", "--socket", socket])
    Thread.sleep(forTimeInterval: 1.5)
    let text = status()
    run(tipring, ["sim", "onhook", "--port", "1", "--socket", socket])
    let seize = text.range(of: "\"seizeToToneMs\"").map { r -> String in
        String(text[r.upperBound...].drop { $0 == " " || $0 == ":" }.prefix { "0123456789.".contains($0) })
    } ?? "?"
    return "\(String(format: "%.2f", idle.cpuMs)) ms CPU per second, \(String(format: "%.1f", idle.wakeups)) wake-ups per second (\(idle.threads) threads); dial tone \(seize) ms after the seizure"
}

func idleBaresip(exchangePort: Int, directory: String) throws -> String {
    let port = freeLoopbackUDPPort()
    try """
    poll_method epoll
    sip_listen 127.0.0.1:\(port)
    net_interface 127.0.0.1
    audio_player aubridge,nil
    audio_source aubridge,nil
    audio_alert aubridge,nil
    module_path /usr/lib/baresip/modules
    module g711.so
    module aubridge.so
    module_tmp uuid.so
    module_tmp account.so
    module_app menu.so

    """.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
    try "<sip:1003@127.0.0.1>;auth_pass=secret3;outbound=\"sip:127.0.0.1:\(exchangePort)\";regint=600\n"
        .write(toFile: directory + "/accounts", atomically: true, encoding: .utf8)
    let baresip = try spawn("/usr/bin/baresip", ["-4", "-f", directory], log: directory + "/baresip.log")
    defer { baresip.terminate(); baresip.waitUntilExit() }
    Thread.sleep(forTimeInterval: 4)
    guard let idle = measure(baresip.processIdentifier, seconds: 30) else { return "no /proc figures" }
    return "\(String(format: "%.2f", idle.cpuMs)) ms CPU per second, \(String(format: "%.1f", idle.wakeups)) wake-ups per second (\(idle.threads) threads)"
}

if !FileManager.default.fileExists(atPath: tipring) {
    print("building tipring (release) …")
    guard run("/usr/bin/env", ["swift", "build", "-c", "release", "--product", "tipring", "--package-path", repository], quiet: false).status == 0 else {
        fatalError("could not build tipring")
    }
}
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-idle-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
let exchangePort = freeLoopbackUDPPort()
let exchange = try spawn(tipring, ["sim", "exchange", "--listen", "127.0.0.1:\(exchangePort)"], log: directory + "/exchange.log")
defer { exchange.terminate(); exchange.waitUntilExit() }
Thread.sleep(forTimeInterval: 1)
print("Idle: two ports registered, on-hook, no call (30 s each, after a 3 s settle)")
for (label, device) in [("simulated board", "sim"), ("real audio path (ALSA null device, lines simulated)", "null")] {
    let dir = directory + "/\(device)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    print("  TipRing daemon, \(label): \(try idleDaemon(audioDevice: device, exchangePort: exchangePort, directory: dir))")
}
let bsDir = directory + "/baresip"
try FileManager.default.createDirectory(atPath: bsDir, withIntermediateDirectories: true)
print("  baresip, one account registered, idle: \(try idleBaresip(exchangePort: exchangePort, directory: bsDir))")
