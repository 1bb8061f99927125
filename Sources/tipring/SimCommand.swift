#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import LineHAL
import SimulatorApp
import TipRingDaemon
import TipRingCore

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The simulator: scripted boards, simulated phones, the simulated exchange.",
        subcommands: [Script.self, OffHook.self, OnHook.self, Flash.self, Dial.self, Say.self, Listen.self, Fault.self, Exchange.self])

    struct Script: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a scenario file on an in-process simulated board and print the decoded events.",
            discussion: """
            Commands, one per line: offhook N · onhook N · flash N [400ms] · \
            dial N DIGITS pulse [pps=10] [ratio=0.6] · dial N KEYS keypad · ring N REGION [6s] · \
            stopring N · feed N forward|reverse|power-down|on-hook-transmission · bounce N on|off · wait 2s
            """)

        @Argument(help: "The scenario file.")
        var file: String

        @Option(help: "The board file to simulate.")
        var board: String = "boards/sim.json5"

        @Option(help: "Seed for every random choice (contact bounce).")
        var seed: UInt64 = 1

        func run() throws {
            let description: BoardDescription
            let script: SimScript
            do {
                description = try BoardFile.load(path: board)
                let bytes = try FileIO.readAll(path: file)
                script = try SimScript.parse(String(decoding: bytes, as: UTF8.self), file: file)
            } catch let e as SystemError {
                printError("error: \(e)")
                throw Exit.badInput
            } catch {
                printError("error: \(error)")
                throw Exit.badInput
            }
            do {
                for line in try SimScriptRunner.run(script, board: description, seed: seed) { print(line) }
            } catch {
                printError("error: \(error)")
                throw Exit.badInput
            }
        }
    }

    struct SimPort: ParsableArguments {
        @Option(help: "The port.") var port: Int
        @Option(help: "The running daemon's socket.") var socket: String = defaultSocket
        func send(_ command: String) throws {
            let lines: [String]
            do { lines = try controlRequest(socket, command) } catch {
                printError("error: \(error)")
                throw Exit.checkFailed
            }
            for l in lines { print(l) }
            if lines.first?.hasPrefix("error") == true { throw Exit.checkFailed }
        }
    }
    struct OffHook: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "offhook", abstract: "Lift a simulated phone (running daemon).")
        @OptionGroup var options: SimPort
        func run() throws { try options.send("offhook \(options.port)") }
    }
    struct OnHook: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "onhook", abstract: "Hang up a simulated phone (running daemon).")
        @OptionGroup var options: SimPort
        func run() throws { try options.send("onhook \(options.port)") }
    }
    struct Flash: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Flash a simulated phone's hook (running daemon).")
        @OptionGroup var options: SimPort
        func run() throws { try options.send("flash \(options.port)") }
    }
    struct Dial: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dial digits on a simulated phone (running daemon).")
        @OptionGroup var options: SimPort
        @Argument(help: "The digits (keypad: 0-9 * # A-D).") var digits: String
        @Flag(help: "Dial with the rotary dial (pulses).") var pulse = false
        func run() throws { try options.send("dial \(options.port) \(digits)" + (pulse ? " pulse" : "")) }
    }
    struct Say: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Play a tone into a simulated phone's mouthpiece (0 Hz: silence).")
        @OptionGroup var options: SimPort
        @Option(help: "Frequency in Hz.") var tone: Double
        func run() throws { try options.send("say \(options.port) \(tone)") }
    }
    struct Listen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what a simulated phone's earpiece hears: tones, audio, DTMF, caller ID.")
        @OptionGroup var options: SimPort
        @Option(help: "How long to listen.") var seconds: Double = 2
        @Option(help: "Also the level of each of these frequencies (comma-separated Hz): several voices at once, as in a three-way call.")
        var levels: String?
        func run() throws { try options.send("listen \(options.port) \(seconds)" + (levels.map { " \($0)" } ?? "")) }
    }
    struct Fault: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a simulated port's hardware fail (running daemon): audio-fail (the sound device reports an error), audio-stall (its periods stop without one), gpio-lost (the GPIO chip hangs up).")
        @OptionGroup var options: SimPort
        @Argument(help: "audio-fail, audio-stall or gpio-lost.") var kind: String
        @Option(help: "How many times the device then refuses to open (its lines to be requested) again.") var refusals = 0
        func run() throws { try options.send("fault \(options.port) \(kind) \(refusals)") }
    }
    struct Exchange: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the simulated SIP exchange (registrar and proxy, digest, message waiting) over UDP until SIGTERM/SIGINT.")
        @Option(help: "Address and port to listen on.") var listen: String = "127.0.0.1:5060"
        @Option(help: "The SIP domain.") var domain: String = "127.0.0.1"
        @Option(help: "A user and password (user:password); repeat for more. Default: 1001…1004 with secret1…secret4.")
        var user: [String] = []

        func run() async throws {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                printError("error: --listen takes host:port (e.g. 127.0.0.1:5060)")
                throw Exit.badInput
            }
            var users: [String: String] = [:]
            for u in user {
                let kv = u.split(separator: ":", maxSplits: 1)
                guard kv.count == 2 else {
                    printError("error: --user takes user:password")
                    throw Exit.badInput
                }
                users[String(kv[0])] = String(kv[1])
            }
            if users.isEmpty { for i in 1...4 { users["100\(i)"] = "secret\(i)" } }
            do {
                _ = try await ExchangeServer.run(host: String(parts[0]), port: port, domain: domain, users: users) { line in
                    // A line at a time, also into a file or a pipe (someone is following it).
                    print(line)
                    fflush(nil)  // every output stream: stdout here
                }
            } catch {
                printError("error: cannot serve on \(listen): \(error)")
                throw Exit.checkFailed
            }
        }
    }
}
