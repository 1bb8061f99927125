/// What a caller-ID spill carries, in the forms of Telcordia GR-30 (Bell 202 SDMF/MDMF)
/// and ETSI EN 300 659-3 (the same multiple-data-message layout).
public struct CallerIDInfo: Sendable, Hashable {
    /// Why a number or name is missing: 'O' out of area (unavailable), 'P' private.
    public enum Absence: Character, Sendable, Hashable {
        case outOfArea = "O"
        case `private` = "P"

        /// The letter as the message carries it.
        var byte: UInt8 { self == .outOfArea ? UInt8(ascii: "O") : UInt8(ascii: "P") }
    }

    /// Month, day, hour, minute (local time of the network).
    public struct DateTime: Sendable, Hashable, CustomStringConvertible {
        public var month: Int, day: Int, hour: Int, minute: Int
        public init(month: Int, day: Int, hour: Int, minute: Int) {
            self.month = month; self.day = day; self.hour = hour; self.minute = minute
        }
        /// From `MMDDHHMM`.
        public init?(_ text: String) {
            let d = Array(text.utf8)
            guard d.count == 8, d.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            func two(_ i: Int) -> Int { Int(d[i] - 48) * 10 + Int(d[i + 1] - 48) }
            month = two(0); day = two(2); hour = two(4); minute = two(6)
            guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        }
        /// `MMDDHHMM`.
        public var description: String {
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            return two(month) + two(day) + two(hour) + two(minute)
        }
    }

    public var number: String?
    public var name: String?
    public var dateTime: DateTime?
    public var numberAbsence: Absence?
    public var nameAbsence: Absence?

    public init(number: String? = nil, name: String? = nil, dateTime: DateTime? = nil, numberAbsence: Absence? = nil, nameAbsence: Absence? = nil) {
        self.number = number
        self.name = name
        self.dateTime = dateTime
        self.numberAbsence = numberAbsence
        self.nameAbsence = nameAbsence
    }
}

/// A caller-ID or message-waiting message as bytes: type, length, body, checksum
/// (the two's complement of the sum of all other bytes, so everything adds up to zero).
public enum CallerIDMessage: Sendable, Hashable {
    case callerID(CallerIDInfo)
    /// Visual message-waiting indication: lamp on (messages waiting) or off.
    case messageWaiting(Bool)

    public enum Format: Sendable, Hashable {
        /// Single data message (Bell 202 only): 0x04 caller ID, 0x06 message waiting.
        case single
        /// Multiple data message: 0x80 caller ID (call set-up), 0x82 message waiting.
        case multiple
    }

    /// Message types.
    public static let sdmfCallerID: UInt8 = 0x04, sdmfMessageWaiting: UInt8 = 0x06
    public static let mdmfCallerID: UInt8 = 0x80, mdmfMessageWaiting: UInt8 = 0x82
    /// MDMF parameter types (GR-30 and EN 300 659-3 agree on these).
    public static let dateTimeParameter: UInt8 = 0x01, numberParameter: UInt8 = 0x02
    public static let numberAbsenceParameter: UInt8 = 0x04, nameParameter: UInt8 = 0x07
    public static let nameAbsenceParameter: UInt8 = 0x08, visualIndicatorParameter: UInt8 = 0x0B

    /// The message's bytes, checksum included.
    public func encode(_ format: Format) -> [UInt8] {
        var body: [UInt8] = []
        let type: UInt8
        switch (self, format) {
        case (.callerID(let info), .single):
            type = Self.sdmfCallerID
            body += Array((info.dateTime?.description ?? "01010000").utf8)
            if let n = info.number, !n.isEmpty {
                body += Array(n.utf8.prefix(10))
            } else {
                body.append((info.numberAbsence ?? .outOfArea).byte)
            }
        case (.callerID(let info), .multiple):
            type = Self.mdmfCallerID
            func parameter(_ t: UInt8, _ bytes: [UInt8]) { body += [t, UInt8(clamping: bytes.count)] + bytes }
            if let d = info.dateTime { parameter(Self.dateTimeParameter, Array(d.description.utf8)) }
            if let n = info.number, !n.isEmpty {
                parameter(Self.numberParameter, Array(n.utf8.prefix(20)))
            } else {
                parameter(Self.numberAbsenceParameter, [(info.numberAbsence ?? .outOfArea).byte])
            }
            if let n = info.name, !n.isEmpty {
                parameter(Self.nameParameter, Array(n.utf8.prefix(50)))
            } else if let a = info.nameAbsence {
                parameter(Self.nameAbsenceParameter, [a.byte])
            }
        case (.messageWaiting(let on), .single):
            type = Self.sdmfMessageWaiting
            body = on ? [0x42, 0x42, 0x42] : [0x6F, 0x6F, 0x6F]
        case (.messageWaiting(let on), .multiple):
            type = Self.mdmfMessageWaiting
            body = [Self.visualIndicatorParameter, 1, on ? 0xFF : 0x00]
        }
        var out = [type, UInt8(clamping: body.count)] + body  // ≤ 90 bytes: every field is cut above
        out.append(Self.checksum(out))
        return out
    }

    static func checksum(_ bytes: [UInt8]) -> UInt8 {
        var sum: UInt8 = 0
        for b in bytes { sum &+= b }
        return 0 &- sum
    }

    public struct DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a whole message (type, length, body, checksum).
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> CallerIDMessage {
        guard bytes.count >= 3 else { throw DecodeError(description: "message too short (\(bytes.count) bytes)") }
        let length = Int(bytes[1])
        guard bytes.count >= length + 3 else { throw DecodeError(description: "message declares \(length) bytes, has \(bytes.count - 3)") }
        let message = Array(bytes[0..<(length + 3)])
        var sum: UInt8 = 0
        for b in message { sum &+= b }
        guard sum == 0 else { throw DecodeError(description: "checksum mismatch") }
        let body = Array(message[2..<(2 + length)])
        func text(_ b: ArraySlice<UInt8>) -> String { String(decoding: b, as: UTF8.self) }
        switch bytes[0] {
        case sdmfCallerID:
            guard body.count >= 9 else { throw DecodeError(description: "SDMF caller ID too short") }
            var info = CallerIDInfo(dateTime: CallerIDInfo.DateTime(text(body[0..<8])))
            let rest = text(body[8...])
            if rest.count == 1, let c = rest.first, let a = CallerIDInfo.Absence(rawValue: c) { info.numberAbsence = a } else { info.number = rest }
            return .callerID(info)
        case sdmfMessageWaiting:
            guard body.count == 3 else { throw DecodeError(description: "SDMF message waiting must be 3 bytes") }
            if body == [0x42, 0x42, 0x42] { return .messageWaiting(true) }
            if body == [0x6F, 0x6F, 0x6F] { return .messageWaiting(false) }
            throw DecodeError(description: "unknown message-waiting code")
        case mdmfCallerID, mdmfMessageWaiting:
            var info = CallerIDInfo()
            var indicator: Bool?
            var i = 0
            while i + 2 <= body.count {
                let t = body[i], n = Int(body[i + 1])
                guard i + 2 + n <= body.count else { throw DecodeError(description: "parameter 0x\(String(t, radix: 16)) runs past the message") }
                let v = body[(i + 2)..<(i + 2 + n)]
                switch t {
                case dateTimeParameter: info.dateTime = CallerIDInfo.DateTime(text(v))
                case numberParameter: info.number = text(v)
                case numberAbsenceParameter: info.numberAbsence = v.first.flatMap { CallerIDInfo.Absence(rawValue: Character(Unicode.Scalar($0))) }
                case nameParameter: info.name = text(v)
                case nameAbsenceParameter: info.nameAbsence = v.first.flatMap { CallerIDInfo.Absence(rawValue: Character(Unicode.Scalar($0))) }
                case visualIndicatorParameter: indicator = v.first.map { $0 != 0 }
                default: break  // parameters we do not show are skipped
                }
                i += 2 + n
            }
            if bytes[0] == mdmfMessageWaiting {
                guard let indicator else { throw DecodeError(description: "message waiting without indicator") }
                return .messageWaiting(indicator)
            }
            return .callerID(info)
        default:
            throw DecodeError(description: "unknown message type 0x\(String(bytes[0], radix: 16))")
        }
    }
}
