/// RFC 4733 telephone events: DTMF digits as RTP payloads.
public enum TelephoneEvent {
    /// Event codes 0–15 for 0–9 * # A–D (RFC 4733 §3.2).
    public static func code(for digit: Character) -> UInt8? {
        switch digit {
        case "0"..."9": digit.asciiValue.map { $0 - UInt8(ascii: "0") }
        case "*": 10
        case "#": 11
        case "A", "a": 12
        case "B", "b": 13
        case "C", "c": 14
        case "D", "d": 15
        default: nil
        }
    }

    public static func digit(for code: UInt8) -> Character? {
        switch code {
        case 0...9: Character(String(code))
        case 10: "*"
        case 11: "#"
        case 12...15: Character(UnicodeScalar(UInt8(ascii: "A") + code - 12))
        default: nil
        }
    }

    /// The 4-byte payload: event, E bit and volume (dBm0 below zero), duration in samples.
    public static func payload(code: UInt8, end: Bool, volume: UInt8 = 10, duration: UInt16) -> [UInt8] {
        [code, (end ? 0x80 : 0) | (volume & 0x3F), UInt8(truncatingIfNeeded: duration >> 8), UInt8(truncatingIfNeeded: duration & 0xFF)]
    }

    public struct Parsed: Sendable, Hashable {
        public var code: UInt8
        public var end: Bool
        public var volume: UInt8
        public var duration: UInt16
    }

    public static func parse(_ p: [UInt8]) -> Parsed? {
        guard p.count >= 4 else { return nil }
        return Parsed(code: p[0], end: p[1] & 0x80 != 0, volume: p[1] & 0x3F, duration: UInt16(p[2]) << 8 | UInt16(p[3]))
    }
}

/// Sends one digit as RFC 4733 packets: the first with the marker bit, an update every
/// 20 ms with the growing duration (all with the event's start timestamp), and the end
/// packet three times.
public struct TelephoneEventSender: Sendable {
    public let code: UInt8
    public let timestamp: UInt32
    let totalSamples: Int
    var sentSamples = 0
    var endsSent = 0

    /// Timestamp units a packet's 20 ms add to the duration.
    let step: Int

    /// `clockRate`: the telephone-event format's (8000, or 48000 beside Opus); durations are
    /// in its units (RFC 4733 §2.5.1.3).
    public init(digit: Character, milliseconds: Int, timestamp: UInt32, clockRate: Int = 8000) {
        code = TelephoneEvent.code(for: digit) ?? 0
        self.timestamp = timestamp
        let perMillisecond = max(1, min(clockRate, 48000) / 1000)
        // A 16-bit duration reaches 1.36 s at 48 kHz; longer keys end there.
        totalSamples = min(max(40, min(milliseconds, 8000)) * perMillisecond, Int(UInt16.max))
        step = 20 * perMillisecond
    }

    public var isFinished: Bool { endsSent >= 3 }

    /// The payload for the next 20 ms and whether it is the first (marker).
    public mutating func next() -> (payload: [UInt8], marker: Bool)? {
        guard !isFinished else { return nil }
        let first = sentSamples == 0
        sentSamples = min(totalSamples, sentSamples + step)
        let end = sentSamples >= totalSamples
        if end { endsSent += 1 }
        return (TelephoneEvent.payload(code: code, end: end, duration: UInt16(clamping: sentSamples)), first)
    }
}

/// Reports each received event once (by its start timestamp), however many updates and end
/// retransmissions arrive.
public struct TelephoneEventReceiver: Sendable {
    var lastTimestamp: UInt32?
    public init() {}

    /// The digit to report for this packet, if it starts a new event.
    public mutating func receive(timestamp: UInt32, payload: [UInt8]) -> Character? {
        guard let e = TelephoneEvent.parse(payload), let d = TelephoneEvent.digit(for: e.code) else { return nil }
        guard lastTimestamp != timestamp else { return nil }
        lastTimestamp = timestamp
        return d
    }
}
