import Foundation  // tests only: processes
import TestSupport

/// Headless Chromium kept open across steps (Tests/Fixtures/browser/drive.py speaks its
/// DevTools protocol): a page stays loaded while the test changes the world behind it, so
/// what the page shows later came from its own updates, not from a reload.
final class BrowserDriver {
    let process = Process()
    let input = Pipe(), output = Pipe()
    var buffered = Data()

    init(profile: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["120", "/usr/bin/python3", repositoryRoot + "/Tests/Fixtures/browser/drive.py", profile]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// One command, its one-line answer ("" when the driver has gone).
    @discardableResult
    func send(_ command: String) -> String {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered = Data(buffered[(newline + 1)...])
                return line
            }
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { return "" }
            buffered.append(more)
        }
    }

    func open(_ url: String) -> String { send("open \(url)") }
    func evaluate(_ expression: String) -> String { send("eval \(expression)") }
    func until(_ seconds: Int, _ expression: String) -> String { send("until \(seconds) \(expression)") }

    func close() {
        input.fileHandleForWriting.write(Data("quit\n".utf8))
        process.waitUntilExit()
    }
}
