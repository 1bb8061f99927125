import Foundation  // tests only: Process and temporary files

package struct ToolFailure: Error, CustomStringConvertible {
    package var description: String
    package init(description: String) { self.description = description }
}

/// Runs a program, feeding `input` on stdin; returns (status, stdout bytes, stderr text).
@discardableResult
package func runProcess(_ path: String, _ args: [String], input: [UInt8] = []) throws -> (status: Int32, out: [UInt8], err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    let writer = Thread {
        inPipe.fileHandleForWriting.write(Data(input))
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    let errBox = DataBox()
    let errDone = DispatchSemaphore(value: 0)
    let errReader = Thread {
        errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile()
        errDone.signal()
    }
    errReader.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    errDone.wait()
    return (p.terminationStatus, [UInt8](out), String(decoding: errBox.data ?? Data(), as: UTF8.self))
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _data: Data?
    var data: Data? {
        get { lock.withLock { _data } }
        set { lock.withLock { _data = newValue } }
    }
}

/// Compiles a C bridge from Tests/Fixtures/spandsp into a per-run temporary folder against
/// the pkg-config `packages` (test dependencies `make test` installs); a failure names what
/// to install.
func compileSpanDSPBridge(_ name: String, packages: String, needs: String) -> Result<String, ToolFailure> {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-\(name)-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let exe = dir.appendingPathComponent(name).path
    let src = repositoryRoot + "/Tests/Fixtures/spandsp/\(name).c"
    do {
        let r = try runProcess("/bin/sh", ["-c", "cc -O2 -o '\(exe)' '\(src)' $(pkg-config --cflags --libs \(packages)) -lm"])
        guard r.status == 0 else { return .failure(ToolFailure(description: "building \(name) failed (needs \(needs); make test installs it): \(r.err)")) }
        return .success(exe)
    } catch {
        return .failure(ToolFailure(description: "cannot run cc: \(error)"))
    }
}

/// The spandsp bridge, compiled once per test run from Tests/Fixtures/spandsp. spandsp is a
/// test dependency that `make test` installs; if it cannot be built, the tests fail.
package enum SpanDSP {
    static let tool = compileSpanDSPBridge("spandsp_tool", packages: "spandsp", needs: "libspandsp-dev")

    package static func path() throws -> String { try tool.get() }

    package static func generateDTMF(_ digits: String, level: Int = -10, twist: Int = 0, on: Int = 50, off: Int = 50) throws -> [Int16] {
        let r = try runProcess(try path(), ["dtmf-gen", digits, "\(level)", "\(twist)", "\(on)", "\(off)"])
        guard r.status == 0 else { throw ToolFailure(description: r.err) }
        return samples(r.out)
    }

    /// The level of `samples` in dBm0 by spandsp's power meter.
    package static func levelDBm0(_ samples: [Int16]) throws -> Double {
        let r = try runProcess(try path(), ["power"], input: bytes(samples))
        guard r.status == 0, let v = Double(String(decoding: r.out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ToolFailure(description: r.err)
        }
        return v
    }

    package static func detectDTMF(_ samples: [Int16]) throws -> String {
        let r = try runProcess(try path(), ["dtmf-detect"], input: bytes(samples))
        guard r.status == 0 else { throw ToolFailure(description: r.err) }
        return String(decoding: r.out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension SpanDSP {
    /// spandsp's on-hook MDMF spill: "class" (Bell 202) or "clip" (ETSI V.23).
    package static func generateCallerID(standard: String, number: String, name: String, dateTime: String) throws -> [Int16] {
        let r = try runProcess(try path(), ["adsi-gen", standard, number, name, dateTime])
        guard r.status == 0 else { throw ToolFailure(description: r.err) }
        return samples(r.out)
    }

    /// What spandsp's receiver found: key=value lines.
    package static func decodeCallerID(standard: String, _ samples: [Int16]) throws -> [String] {
        let r = try runProcess(try path(), ["adsi-decode", standard], input: bytes(samples))
        guard r.status == 0 else { throw ToolFailure(description: r.err) }
        return String(decoding: r.out, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

extension SpanDSP {
    package static func samples(_ bytes: [UInt8]) -> [Int16] {
        stride(from: 0, to: bytes.count - 1, by: 2).map { Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) }
    }

    package static func bytes(_ samples: [Int16]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(samples.count * 2)
        for s in samples { let u = UInt16(bitPattern: s); out.append(UInt8(u & 0xFF)); out.append(UInt8(u >> 8)) }
        return out
    }

    /// `milliseconds` of spandsp's fax or modem connect tone: "cng", "ans", "ans-pr", "ansam", "ansam-pr".
    package static func connectTone(_ kind: String, milliseconds: Int) throws -> [Int16] {
        let r = try runProcess(try path(), ["connect-tone", kind, "\(milliseconds)"])
        guard r.status == 0 else { throw ToolFailure(description: "connect-tone \(kind): \(r.err)") }
        return samples(r.out)
    }

    /// `milliseconds` of HDLC flags on V.21 channel 2 (a fax machine's preamble), by spandsp.
    package static func v21Flags(milliseconds: Int) throws -> [Int16] {
        let r = try runProcess(try path(), ["v21-flags", "\(milliseconds)"])
        guard r.status == 0 else { throw ToolFailure(description: "v21-flags: \(r.err)") }
        return samples(r.out)
    }

    /// What spandsp's supervisory tone receiver makes of `samples`, told of one tone (the
    /// ETSI dual-tone alert): its segments (two frequencies or 0, milliseconds at its 16 ms
    /// resolution) and how often it recognised the alert.
    package static func alertSegments(_ samples: [Int16]) throws -> (segments: [(f1: Int, f2: Int, ms: Int)], alerts: Int) {
        let r = try runProcess(try path(), ["alert"], input: bytes(samples))
        guard r.status == 0 else { throw ToolFailure(description: r.err) }
        var segments: [(Int, Int, Int)] = [], alerts = 0
        for line in String(decoding: r.out, as: UTF8.self).split(separator: "\n") {
            let w = line.split(separator: " ")
            if w.first == "alert" { alerts += 1 }
            if w.first == "segment", w.count == 4, let a = Int(w[1]), let b = Int(w[2]), let ms = Int(w[3]) { segments.append((a, b, ms)) }
        }
        return (segments, alerts)
    }
}
