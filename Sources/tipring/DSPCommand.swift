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

    enum Standard: String, ExpressibleByArgument, CaseIterable {
        case bell202, etsi, dtmf
        var scheme: CallerIDScheme {
            switch self {
            case .bell202: .bell202(.multiple)
            case .etsi: .etsiAfterRing
            case .dtmf: .dtmf(.aToC)
            }
        }
    }

    struct CallerID: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "callerid",
            abstract: "Write an on-hook caller-ID spill to a WAV file (FSK: seizure, mark, MDMF message; DTMF: A…C).")
        @Option(help: "bell202, etsi (V.23) or dtmf.")
        var standard: Standard
        @Option(help: "The calling number.")
        var number: String
        @Option(help: "The calling name (FSK only).")
        var name: String?
        @Option(help: "Date and time, MMDDHHMM.")
        var datetime: String?
        @Option(help: "Output WAV file.")
        var out: String

        func run() throws {
            var dt: CallerIDInfo.DateTime?
            if let datetime {
                guard let d = CallerIDInfo.DateTime(datetime) else {
                    printError("error: --datetime '\(datetime)' is not MMDDHHMM (month 01–12, day 01–31, hour 00–23, minute 00–59)")
                    throw Exit.badInput
                }
                dt = d
            }
            guard !number.isEmpty, number.count <= 20, number.allSatisfy({ "0123456789+*#".contains($0) }) else {
                printError("error: --number '\(number)' must be 1–20 digits")
                throw Exit.badInput
            }
            if standard == .dtmf && !number.allSatisfy(\.isNumber) {
                printError("error: DTMF caller ID carries digits 0-9 only")
                throw Exit.badInput
            }
            let info = CallerIDInfo(number: number, name: name, dateTime: dt)
            guard let audio = CallerIDSender.audio(.callerID(info), scheme: standard.scheme) else {
                printError("error: nothing to send for this number")
                throw Exit.badInput
            }
            try writeWAV([Int16](repeating: 0, count: 800) + audio + [Int16](repeating: 0, count: 800), to: out)
            print("caller ID (\(standard.scheme)): \(Double(audio.count) / 8000) s → \(out)")
        }
    }

    struct DecodeCallerID: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode-callerid",
            abstract: "Decode caller ID from a WAV file: one key=value line per field (exit 1 when none is found).")
        @Option(help: "bell202, etsi (V.23) or dtmf.")
        var standard: Standard
        @Argument(help: "WAV file, 8 kHz mono 16-bit.")
        var file: String

        func run() throws {
            let messages = CallerIDReceiver.decode(try readWAV(file), scheme: standard.scheme)
            guard !messages.isEmpty else {
                printError("no caller ID found in \(file)")
                throw Exit.checkFailed
            }
            for m in messages {
                switch m {
                case .callerID(let info):
                    if let v = info.number { print("number=\(v)") }
                    if let v = info.numberAbsence { print("number-absence=\(v == .private ? "private" : "unavailable")") }
                    if let v = info.name { print("name=\(v)") }
                    if let v = info.nameAbsence { print("name-absence=\(v == .private ? "private" : "unavailable")") }
                    if let v = info.dateTime { print("datetime=\(v)") }
                case .messageWaiting(let on):
                    print("message-waiting=\(on ? "on" : "off")")
                }
            }
        }
    }
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
