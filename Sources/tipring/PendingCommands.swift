import ArgumentParser
import Logging
#if canImport(Glibc)
import Glibc
#endif
import LineHAL
import TelephonyDSP
import SIPCore
import TipRingDaemon
import BringupTool
import SimulatorApp
import TipRingCore
import SystemCalls
import PortStack

// Verbs of the CLI whose implementation lands with later work. Each one exists now so
// the command tree, help and exit codes are stable; each says it is not yet available
// and exits 1.

/// Where the daemon listens unless told otherwise; /var/run is /run on Debian and /tmp/run on
/// OpenWrt, and the packaged service files use this path too.
let defaultSocket = "/var/run/tipring/tipring.sock"

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: all ports of a board (SIGTERM/SIGINT: hang up, unregister, exit 0; SIGHUP: reload).")
    @Option(help: "The board file (JSON5).") var board: String
    @Option(help: "The configuration file (JSON5).") var config: String
    @Option(help: "The status and control socket.") var socket: String = defaultSocket
    @Option(help: "Log level: trace, debug, info, notice, warning, error (overrides the configuration).") var logLevel: String?
    @Option(help: "Where the instance ids are kept when the configuration does not say (default /var/lib/tipring; it must survive reboots).")
    var stateDirectory: String?
    @Option(help: "Where log lines go: stderr (a terminal, journald or a file: written for each), syslog (/dev/log, at each line's level: OpenWrt's logd) or syslog:PATH.")
    var logTo: String = "stderr"

    func run() async throws {
        let b: BoardDescription, c: Configuration
        do {
            b = try BoardFile.load(path: board)
            c = try Configuration.load(path: config)
            try c.check(against: b)
        } catch {
            printError("error: \(error)")
            throw Exit.badInput
        }
        let known = Logger.Level.allCases.map(\.rawValue)
        if let logLevel, !known.contains(logLevel) {
            printError("error: --log-level \(logLevel): not a level (\(known.joined(separator: ", ")))")
            throw Exit.badInput
        }
        let destination: LogDestination
        switch logTo {
        case "stderr": destination = .forStandardError(environment: Configuration.processEnvironment())
        case "syslog": destination = .syslog(path: "/dev/log")
        case let other where other.hasPrefix("syslog:/"): destination = .syslog(path: String(other.dropFirst("syslog:".count)))
        default:
            printError("error: --log-to \(logTo): stderr, syslog or syslog:/path/of/the/log/socket")
            throw Exit.badInput
        }
        let level = Logger.Level(rawValue: logLevel ?? c.logLevel) ?? .info
        // --log-level sets every module; otherwise the configuration's per-module levels.
        let modules = logLevel == nil ? c.moduleLogLevels : [:]
        LoggingSystem.bootstrap { label in
            var h = TipRingLogHandler(label: label, destination: destination)
            let module = label.split(separator: ".").dropFirst().first.map(String.init) ?? "daemon"
            h.logLevel = modules[module].flatMap { Logger.Level(rawValue: $0) } ?? level
            return h
        }
        let daemon = Daemon(board: b, configuration: c, configPath: config, log: Logger(label: "tipring"), stateDirectory: stateDirectory)
        let code = try await daemon.run(socketPath: socket)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Calls: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the last calls of a running daemon, newest last (the state directory's calls.jsonl).")
    @Option(help: "The daemon's socket.") var socket: String = defaultSocket
    @Option(help: "How many calls (1–2000).") var count: Int = 50
    @Flag(help: "The daemon's JSON as it is (one array).") var json = false

    func run() throws {
        guard (1...2000).contains(count) else {
            printError("error: --count \(count): 1 to 2000")
            throw Exit.badInput
        }
        let lines: [String]
        do { lines = try controlRequest(socket, "calls \(count)") } catch {
            printError("error: \(error)")
            throw Exit.checkFailed
        }
        if json { return print(lines.joined(separator: "\n")) }
        do { print(try CallTable.render(lines.joined()), terminator: "") } catch {
            printError("error: \(error)")
            throw Exit.checkFailed
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show ports, registrations and calls of a running daemon.")
    @Option(help: "The daemon's socket.") var socket: String = defaultSocket
    @Flag(help: "The daemon's JSON as it is.") var json = false
    @Flag(help: "Show it again every second until interrupted.") var watch = false

    func run() throws {
        repeat {
            let lines: [String]
            do { lines = try controlRequest(socket, "status") } catch {
                printError("error: \(error)")
                throw Exit.checkFailed
            }
            if json {
                print(lines.joined(separator: "\n"))
            } else {
                do { print(StatusTable.render(try DaemonStatus(parsing: lines.joined())), terminator: "") } catch {
                    printError("error: \(error)")
                    throw Exit.checkFailed
                }
            }
            if watch { sleep(1) }
        } while watch
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A scripted call between two simulated phones (exit 0 only if every step happened).")

    @Flag(help: "Run in virtual time (instant) instead of on the wall clock.")
    var virtual = false

    func run() throws {
        let ok: Bool
        if virtual {
            ok = DemoRunner.run(clock: VirtualControlPlane(VirtualScheduler(seed: 1))) { print($0) }
        } else {
            let scheduler = WallClockScheduler()
            try scheduler.start()
            defer { scheduler.shutdown() }
            ok = DemoRunner.run(clock: WallClockControlPlane(scheduler)) { print($0) }
        }
        if !ok { throw Exit.checkFailed }
    }
}

struct Bringup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring up a new board: find and test its lines, ringing and audio (exit 0 pass, 1 fail, 2 bad input).",
        discussion: "On boards/sim.json5 every check runs on the simulated board, the simulated telephone doing what you would.",
        subcommands: [Discover.self, Probe.self, Ring.self, Hook.self, Tone.self, DTMF.self, Loopback.self, LineTest.self])

    struct BoardOption: ParsableArguments {
        /// Always named: a default (the simulated board) would print PASS on a real device
        /// without touching it.
        @Option(help: "The board file (JSON5): boards/<yours>.json5, or boards/sim.json5 for the simulated board.")
        var board: String

        func tool() throws -> BringupTool {
            do {
                return try BringupTool(board: try BoardFile.load(path: board)) { print($0) }
            } catch {
                printError("error: \(error)")
                throw Exit.badInput
            }
        }
    }

    struct PortOptions: ParsableArguments {
        @OptionGroup var board: BoardOption
        @Option(help: "The port (1, 2, …).")
        var port: Int
    }

    /// Runs a check: exit 0 pass, 1 fail; hardware errors are printed and exit 1.
    static func check(_ body: () throws -> Bool) throws {
        let ok: Bool
        do { ok = try body() } catch let e as ExitCode { throw e } catch {
            printError("error: \(error)")
            throw Exit.checkFailed
        }
        if !ok { throw Exit.checkFailed }
    }

    struct Discover: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the kernel, GPIO chips and lines, sysfs GPIO, ALSA cards and PCMs, SPI devices.")
        func run() throws { BringupTool.discover { print($0) } }
    }
    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every line and audio device of a board file.")
        @OptionGroup var options: BoardOption
        func run() throws { try Bringup.check { try options.tool().probe() } }
    }
    struct Ring: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ring a port with a region's cadence.")
        @OptionGroup var options: PortOptions
        @Option(help: "Region (ISO 3166 code) of the cadence.") var region: String = "us"
        @Option(help: "How long to ring.") var seconds: Double = 6
        func run() throws {
            let r = try parseRegion(region)
            try Bringup.check { try options.board.tool().ring(port: options.port, region: r, seconds: seconds) }
        }
    }
    struct Hook: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Watch a port's hook switch: classified events and break/make histograms.")
        @OptionGroup var options: PortOptions
        @Option(help: "How long to watch.") var seconds: Double = 10
        func run() throws { try Bringup.check { try options.board.tool().hook(port: options.port, seconds: seconds) } }
    }
    struct Tone: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Play a tone on a port.")
        @OptionGroup var options: PortOptions
        @Argument(help: "dial, ringback, busy, congestion, callWaiting, stutterDial, howler, noService, …") var tone: String
        @Option(help: "Region of the tone.") var region: String = "us"
        @Option(help: "How long to play.") var seconds: Double = 3
        func run() throws {
            guard let kind = ToneKind(rawValue: tone) else {
                printError("error: unknown tone '\(tone)' (one of: \(ToneKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                throw Exit.badInput
            }
            let r = try parseRegion(region)
            try Bringup.check { try options.board.tool().tone(port: options.port, kind: kind, region: r, seconds: seconds) }
        }
    }
    struct DTMF: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dtmf", abstract: "Print digits dialled on a port's keypad.")
        @OptionGroup var options: PortOptions
        @Option(help: "How long to listen.") var seconds: Double = 5
        func run() throws { try Bringup.check { try options.board.tool().dtmf(port: options.port, seconds: seconds) } }
    }
    struct Loopback: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a burst out of a port and find it in the capture: round-trip latency.")
        @OptionGroup var options: PortOptions
        func run() throws { try Bringup.check { try options.board.tool().loopback(port: options.port) } }
    }
    struct LineTest: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "linetest", abstract: "Ring, off-hook, dial tone, digits, confirmation: a whole line test.")
        @OptionGroup var options: PortOptions
        @Option(help: "Region of the tones and cadence.") var region: String = "us"
        func run() throws {
            let r = try parseRegion(region)
            try Bringup.check { try options.board.tool().linetest(port: options.port, region: r) }
        }
    }
}

func parseRegion(_ code: String) throws -> Region {
    guard let r = Region(code), RegionTonePlan.forRegion(r) != nil else {
        printError("error: no tone plan for region '\(code)' (known: \(RegionTonePlan.all.keys.sorted().joined(separator: ", ")))")
        throw Exit.badInput
    }
    return r
}

struct SIP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip",
        abstract: "SIP tools.",
        subcommands: [Lint.self, Register.self])
    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse a SIP message from a file and print its structure (exit 0 valid, 1 invalid, 2 unreadable).")

        @Argument(help: "A file holding one SIP message (CRLF or LF line ends).")
        var file: String

        func run() throws {
            let bytes: [UInt8]
            do {
                bytes = try FileIO.readAll(path: file, limit: 1 << 20)
            } catch {
                printError("error: \(error)")
                throw Exit.badInput
            }
            do {
                let m = try SIPParser.parse(bytes)
                print(SIPLintReport.render(m), terminator: "")
            } catch {
                printError("invalid: \(file): \(error)")
                throw Exit.checkFailed
            }
        }
    }
    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register once with a registrar, print each step, then unregister (exit 0 registered, 1 refused or no answer, 2 bad input).")

        @Option(help: "The registrar, HOST[:PORT] (default port 5060).")
        var registrar: String
        @Option(help: "The SIP user.")
        var user: String
        @Option(help: "A file holding the password (its first line).")
        var passwordFile: String
        @Option(help: "The SIP domain (default: the registrar's host).")
        var domain: String?
        @Option(help: "udp or tcp.")
        var transport: String = "udp"
        @Option(help: "Binding lifetime to ask for, seconds.")
        var expires: Int = 3600

        func run() throws {
            guard transport == "udp" || transport == "tcp" else {
                printError("error: --transport \(transport): use udp or tcp")
                throw Exit.badInput
            }
            let password: String
            do {
                let bytes = try FileIO.readAll(path: passwordFile, limit: 4096)
                password = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            } catch {
                printError("error: \(error)")
                throw Exit.badInput
            }
            guard !password.isEmpty else {
                printError("error: \(passwordFile) holds no password")
                throw Exit.badInput
            }
            let parts = registrar.split(separator: ":", maxSplits: 1).map(String.init)
            guard let host = parts.first, !host.isEmpty, parts.count == 1 || Int(parts[1]) != nil else {
                printError("error: --registrar '\(registrar)' is not HOST[:PORT]")
                throw Exit.badInput
            }
            let port = parts.count > 1 ? Int(parts[1])! : 5060
            guard (1...65535).contains(port), (60...86400).contains(expires) else {
                printError("error: port must be 1–65535 and --expires 60–86400")
                throw Exit.badInput
            }
            let outcome = SIPRegisterTool.run(host: host, port: port, user: user, password: password,
                                              domain: domain ?? host, expires: expires, tcp: transport == "tcp", print: { print($0) })
            if !outcome { throw Exit.checkFailed }
        }
    }
}
