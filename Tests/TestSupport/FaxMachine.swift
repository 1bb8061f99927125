import Foundation  // tests only: Process and pipes
package import TipRingCore
package import BoardSimulator

/// A fax machine plugged into a simulated telephone's place: spandsp's T.30 terminal (in a
/// child process, Tests/Fixtures/spandsp/spandsp_fax.c) hears what the port plays to the
/// line and sends into the line what it says, period by period, in lockstep with the port.
package final class FaxMachine: @unchecked Sendable {
    package enum Role: String { case send, receive }

    private let process: Process
    private let input: FileHandle
    private let output: FileHandle
    private let resultPath: String
    /// Earpiece samples already passed on.
    private var heardUpTo = 0

    /// `document`: the TIFF to send, or where the received one is written. `modem`: "v17",
    /// "v29" or "v27ter" (the only one offered); `ecm`: T.30 error correction.
    package init(_ role: Role, document: String, modem: String, ecm: Bool) throws {
        resultPath = document + ".result"
        try? FileManager.default.removeItem(atPath: resultPath)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try FaxMachine.tool.get())
        process.arguments = [role.rawValue, document, modem, ecm ? "1" : "0", resultPath]
        let inPipe = Pipe(), outPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        input = inPipe.fileHandleForWriting
        output = outPipe.fileHandleForReading
    }

    /// Plugs the machine into `phone`: from now on it hears the earpiece and speaks into the
    /// mouthpiece (call on the phone's scheduler).
    package func plug(into phone: SimulatedTelephone) {
        heardUpTo = phone.earpiece.samples.count
        phone.mouthpiece.generator = { [self, earpiece = phone.earpiece] frame, _ in
            let heard = earpiece.samples[min(heardUpTo, earpiece.samples.count)...]
            heardUpTo = earpiece.samples.count
            exchange(heard: heard, into: frame)
        }
    }

    /// One lockstep exchange: the machine hears `heard`, then fills `frame`.
    package func exchange(heard: ArraySlice<Int16>, into frame: UnsafeMutableBufferPointer<Int16>) {
        let heard = heard.suffix(8000)
        var message = [UInt8]()
        message.reserveCapacity(8 + heard.count * 2)
        withUnsafeBytes(of: UInt32(heard.count)) { message.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(frame.count)) { message.append(contentsOf: $0) }
        Array(heard).withUnsafeBytes { message.append(contentsOf: $0) }
        guard (try? input.write(contentsOf: message)) != nil else { return frame.update(repeating: 0) }
        var reply = [UInt8]()
        while reply.count < frame.count * 2, let more = try? output.read(upToCount: frame.count * 2 - reply.count), !more.isEmpty {
            reply.append(contentsOf: more)
        }
        guard reply.count == frame.count * 2 else { return frame.update(repeating: 0) }
        reply.withUnsafeBytes { raw in
            for i in 0..<frame.count { frame[i] = raw.load(fromByteOffset: 2 * i, as: Int16.self) }
        }
    }

    /// spandsp's figures once the call is over (T.30 phase E): pages_tx, pages_rx, bit_rate,
    /// ecm, bad_rows, status, …; nil before.
    package var result: [String: String]? {
        guard let text = try? String(contentsOfFile: resultPath, encoding: .utf8) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        return fields
    }

    /// Stops the machine (closing its line ends it).
    package func close() {
        try? input.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            try? input.close()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: resultPath)
    }
}

extension FaxMachine {
    static let tool = compileSpanDSPBridge("spandsp_fax", packages: "spandsp libtiff-4", needs: "libspandsp-dev and libtiff-dev")

    /// Writes the `pages`-page test document (1728 × 1100, standard resolution).
    package static func writeDocument(_ path: String, pages: Int) throws {
        let r = try runProcess(try tool.get(), ["image", path, "\(pages)"])
        guard r.status == 0 else { throw ToolFailure(description: "writing the fax document failed: \(r.err)") }
    }

    /// Pixel by pixel: the pages both documents have and the rows of them that differ.
    package static func compare(sent: String, received: String) throws -> (pages: Int, differingRows: Int) {
        let r = try runProcess(try tool.get(), ["compare", sent, received])
        let words = String(decoding: r.out, as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard r.status == 0, words.count == 4, let pages = Int(words[1]), let rows = Int(words[3]) else {
            throw ToolFailure(description: "comparing the fax documents failed: \(String(decoding: r.out, as: UTF8.self)) \(r.err)")
        }
        return (pages, rows)
    }
}
