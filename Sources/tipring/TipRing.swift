import ArgumentParser
import SystemCalls
import TipRingCore

/// `tipring`: the daemon, the bring-up tool and the simulator in one binary.
///
/// Exit codes everywhere: 0 success / check passed; 1 check failed; 2 bad input
/// (unreadable or malformed file, bad value); 64 usage error.
@main
struct TipRing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tipring",
        abstract: "Analog phone ports (FXS) on a small Linux box, connected to SIP.",
        version: "tipring \(BuildInfo.version) (\(BuildInfo.revision))",
        subcommands: [
            Run.self, Status.self, Calls.self, Demo.self, Config.self, Board.self, Bringup.self, DSP.self, SIP.self, Sim.self,
        ]
    )
}

/// Exit codes shared by every verb.
enum Exit {
    static let checkFailed = ExitCode(1)
    static let badInput = ExitCode(2)
}

/// Writes to standard error.
func printError(_ message: String) {
    var err = StandardError()
    print(message, to: &err)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { buf in
            var offset = 0
            while offset < buf.count {
                let n = writeStderr(buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}



/// What `tipring --version` says.
enum BuildInfo {
    static let version = TipRingVersion.number
    /// The git revision of a release build (scripts/release-build.sh), or "development build".
    static var revision: String { BuildRevision.text }
}
