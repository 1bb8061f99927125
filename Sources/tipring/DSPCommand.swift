import ArgumentParser
import TelephonyDSP
import TipRingCore

struct DSP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dsp",
        abstract: "Make and analyse telephone signals as WAV files (8 kHz, mono, 16-bit).",
        subcommands: [Tone.self, DTMFCommand.self, CallerID.self, Detect.self, DecodeCallerID.self])

    struct Tone: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a region's tone to a WAV file.")

        @Argument(help: "Region (ISO 3166 code, e.g. us, gb, de).")
        var region: String
        @Argument(help: "Tone: \(ToneKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        var tone: String
        @Option(help: "Length in seconds.")
        var seconds: Double = 5
        @Option(help: "Output WAV file.")
        var out: String

        func run() throws {
            guard let r = Region(region), let plan = RegionTonePlan.forRegion(r) else {
                printError("error: no tone plan for region '\(region)' (known: \(RegionTonePlan.all.keys.sorted().joined(separator: " ")))")
                throw Exit.badInput
            }
            guard let kind = ToneKind(rawValue: tone), let t = plan.tones[kind] else {
                printError("error: unknown tone '\(tone)' (tones: \(ToneKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                throw Exit.badInput
            }
            guard seconds > 0, seconds <= 3600 else {
                printError("error: --seconds \(seconds) is out of range (0–3600)")
                throw Exit.badInput
            }
            let samples = ToneSynthesizer.samples(of: t, count: Int(seconds * 8000))
            try writeWAV(samples, to: out)
            print("\(plan.name) \(kind) tone (\(t.pattern), \(t.level) dBm0 per frequency): \(seconds) s → \(out)")
        }
    }

    struct DTMFCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dtmf", abstract: "Write DTMF digits to a WAV file.")

        @Argument(help: "Digits: 0-9, *, #, A-D.")
        var digits: String
        @Option(help: "Output WAV file.")
        var out: String
        @Option(name: .customLong("on-ms"), help: "Tone length, ms.")
        var onMs: Int = 50
        @Option(name: .customLong("off-ms"), help: "Pause length, ms.")
        var offMs: Int = 50
        @Option(name: .customLong("level-dbm0"), parsing: .unconditional, help: "Level of each tone, dBm0.")
        var level: Double = -10

        func run() throws {
            guard !digits.isEmpty, digits.allSatisfy({ DTMF.frequencies(of: $0) != nil }) else {
                printError("error: '\(digits)' has characters that are not DTMF keys (0-9, *, #, A-D)")
                throw Exit.badInput
            }
            guard (10...2000).contains(onMs), (0...10000).contains(offMs), (-60...3).contains(level) else {
                printError("error: --on-ms must be 10–2000, --off-ms 0–10000, --level-dbm0 −60–3")
                throw Exit.badInput
            }
            let g = DTMFGenerator(lowLevel: level, highLevel: level, onMilliseconds: onMs, offMilliseconds: offMs)
            try writeWAV(g.render(digits), to: out)
            print("DTMF \(digits): \(onMs)/\(offMs) ms at \(level) dBm0 per tone → \(out)")
        }
    }

    struct Detect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the DTMF digits in a WAV file, on one line.")

        @Argument(help: "WAV file, 8 kHz mono 16-bit.")
        var file: String

        func run() throws {
            print(DTMFDetector.detect(try readWAV(file)))
        }
    }

    struct CallerID: PendingVerb { static let configuration = CommandConfiguration(commandName: "callerid", abstract: "Write a caller-ID spill to a WAV file.") }
    struct DecodeCallerID: PendingVerb { static let configuration = CommandConfiguration(commandName: "decode-callerid", abstract: "Decode caller ID from a WAV file.") }
}

func writeWAV(_ samples: [Int16], to path: String) throws {
    do {
        try FileIO.writeAll(path: path, bytes: WAV.encode(samples: samples))
    } catch {
        printError("error: \(error)")
        throw Exit.badInput
    }
}

func readWAV(_ path: String) throws -> [Int16] {
    do {
        return try WAV.decode(try FileIO.readAll(path: path))
    } catch let e as WAV.FormatError {
        printError("error: \(path): \(e)")
        throw Exit.badInput
    } catch {
        printError("error: \(error)")
        throw Exit.badInput
    }
}
