/// An RTP packet (RFC 3550 §5.1): the fixed header, CSRCs and extension skipped on parse,
/// padding removed.
public struct RTPPacket: Sendable, Hashable {
    public var payloadType: UInt8
    public var marker: Bool
    public var sequence: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var payload: [UInt8]

    public init(payloadType: UInt8, marker: Bool, sequence: UInt16, timestamp: UInt32, ssrc: UInt32, payload: [UInt8]) {
        self.payloadType = payloadType
        self.marker = marker
        self.sequence = sequence
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload
    }

    /// The fixed header's fields and where the payload lies in the datagram, without copying
    /// anything (the receive path of a call runs in the audio period).
    public struct Header: Sendable, Hashable {
        public var payloadType: UInt8
        public var marker: Bool
        public var sequence: UInt16
        public var timestamp: UInt32
        public var ssrc: UInt32
        public var payload: Range<Int>
    }

    /// Reads a datagram's header; errors say what is wrong (RTCP on the RTP port, a short
    /// packet, …).
    public static func header(_ b: UnsafeRawBufferPointer) throws(RTPError) -> Header {
        guard b.count >= 12 else { throw .tooShort(b.count) }
        guard b[0] >> 6 == 2 else { throw .version(b[0] >> 6) }
        let pt = b[1] & 0x7F
        // 72–76 with the marker bit are RTCP packet types (RFC 5761 §4).
        guard !(72...76).contains(pt) else { throw .rtcp }
        var offset = 12 + Int(b[0] & 0x0F) * 4
        var end = b.count
        if b[0] & 0x10 != 0 {
            guard b.count >= offset + 4 else { throw .tooShort(b.count) }
            let words = Int(b[offset + 2]) << 8 | Int(b[offset + 3])
            offset += 4 + words * 4
        }
        if b[0] & 0x20 != 0 {
            let pad = Int(b[b.count - 1])
            guard pad > 0, pad <= b.count - offset else { throw .padding }
            end -= pad
        }
        guard offset <= end else { throw .tooShort(b.count) }
        return Header(
            payloadType: pt, marker: b[1] & 0x80 != 0,
            sequence: UInt16(b[2]) << 8 | UInt16(b[3]),
            timestamp: UInt32(b[4]) << 24 | UInt32(b[5]) << 16 | UInt32(b[6]) << 8 | UInt32(b[7]),
            ssrc: UInt32(b[8]) << 24 | UInt32(b[9]) << 16 | UInt32(b[10]) << 8 | UInt32(b[11]),
            payload: offset..<end)
    }

    /// Parses a datagram into a packet with its payload copied out.
    public static func parse(_ b: UnsafeRawBufferPointer) throws(RTPError) -> RTPPacket {
        let h = try header(b)
        return RTPPacket(payloadType: h.payloadType, marker: h.marker, sequence: h.sequence, timestamp: h.timestamp,
                         ssrc: h.ssrc, payload: Array(b[h.payload]))
    }

    public static func parse(_ bytes: [UInt8]) throws(RTPError) -> RTPPacket {
        let r: Result<RTPPacket, RTPError> = bytes.withUnsafeBytes { raw in
            do throws(RTPError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// The wire form.
    public func serialized() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 12 + payload.count)
        out.withUnsafeMutableBytes { Self.writeHeader(into: $0, payloadType: payloadType, marker: marker, sequence: sequence, timestamp: timestamp, ssrc: ssrc) }
        out.replaceSubrange(12..., with: payload)
        return out
    }

    /// Writes the 12-byte header (no allocation).
    public static func writeHeader(into b: UnsafeMutableRawBufferPointer, payloadType: UInt8, marker: Bool, sequence: UInt16, timestamp: UInt32, ssrc: UInt32) {
        b[0] = 0x80
        b[1] = (marker ? 0x80 : 0) | (payloadType & 0x7F)
        b[2] = UInt8(truncatingIfNeeded: sequence >> 8); b[3] = UInt8(truncatingIfNeeded: sequence & 0xFF)
        b[4] = UInt8(truncatingIfNeeded: timestamp >> 24); b[5] = UInt8(truncatingIfNeeded: (timestamp >> 16) & 0xFF); b[6] = UInt8(truncatingIfNeeded: (timestamp >> 8) & 0xFF); b[7] = UInt8(truncatingIfNeeded: timestamp & 0xFF)
        b[8] = UInt8(truncatingIfNeeded: ssrc >> 24); b[9] = UInt8(truncatingIfNeeded: (ssrc >> 16) & 0xFF); b[10] = UInt8(truncatingIfNeeded: (ssrc >> 8) & 0xFF); b[11] = UInt8(truncatingIfNeeded: ssrc & 0xFF)
    }
}

public enum RTPError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooShort(Int)
    case version(UInt8)
    case padding
    case rtcp

    public var description: String {
        switch self {
        case .tooShort(let n): "RTP packet of \(n) bytes is too short"
        case .version(let v): "RTP version \(v) (only 2 exists)"
        case .padding: "RTP padding longer than the packet"
        case .rtcp: "an RTCP packet on the RTP port"
        }
    }
}
