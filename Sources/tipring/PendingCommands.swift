import ArgumentParser
import SIPCore
import TipRingApp
import TipRingCore

// Verbs of the CLI whose implementation lands with later work. Each one exists now so
// the command tree, help and exit codes are stable; each says it is not yet available
// and exits 1.

struct Run: PendingVerb {
    static let configuration = CommandConfiguration(abstract: "Run the daemon: all ports of a board.")
}

struct Status: PendingVerb {
    static let configuration = CommandConfiguration(abstract: "Show ports, registrations and calls of a running daemon.")
}

struct Demo: PendingVerb {
    static let configuration = CommandConfiguration(abstract: "A scripted call between two simulated phones.")
}

struct Bringup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring up a new board: find and test its lines, ringing and audio.",
        subcommands: [Discover.self, Probe.self, Ring.self, Hook.self, Tone.self, DTMF.self, Loopback.self, LineTest.self])
    struct Discover: PendingVerb { static let configuration = CommandConfiguration(abstract: "List GPIO chips, ALSA devices and SPI devices.") }
    struct Probe: PendingVerb { static let configuration = CommandConfiguration(abstract: "Check every line and device of a board file.") }
    struct Ring: PendingVerb { static let configuration = CommandConfiguration(abstract: "Ring a port.") }
    struct Hook: PendingVerb { static let configuration = CommandConfiguration(abstract: "Watch a port's hook switch.") }
    struct Tone: PendingVerb { static let configuration = CommandConfiguration(abstract: "Play a tone on a port.") }
    struct DTMF: PendingVerb { static let configuration = CommandConfiguration(commandName: "dtmf", abstract: "Print digits dialled on a port.") }
    struct Loopback: PendingVerb { static let configuration = CommandConfiguration(abstract: "Loop a port's audio back and measure latency.") }
    struct LineTest: PendingVerb { static let configuration = CommandConfiguration(commandName: "linetest", abstract: "Ring, off-hook, dial tone, digits: a whole line test.") }
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
    struct Register: PendingVerb { static let configuration = CommandConfiguration(abstract: "Register once with a registrar and unregister.") }
}
