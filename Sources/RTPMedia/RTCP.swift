/// RTCP reports (RFC 3550 §6.4): a sender report (or receiver report) with one reception
/// report block, and the CNAME, as one compound packet.
public enum RTCP {
    public struct ReportBlock: Sendable, Hashable {
        public var ssrc: UInt32
        /// Fraction lost since the last report, in 1/256.
        public var fractionLost: UInt8
        public var cumulativeLost: Int32
        public var highestSequence: UInt32
        /// Interarrival jitter, timestamp units.
        public var jitter: UInt32
        public var lastSR: UInt32 = 0
        public var delaySinceLastSR: UInt32 = 0

        public init(ssrc: UInt32, fractionLost: UInt8, cumulativeLost: Int32, highestSequence: UInt32, jitter: UInt32) {
            self.ssrc = ssrc
            self.fractionLost = fractionLost
            self.cumulativeLost = cumulativeLost
            self.highestSequence = highestSequence
            self.jitter = jitter
        }
    }

    public struct SenderInfo: Sendable, Hashable {
        public var ntp: UInt64
        public var rtpTimestamp: UInt32
        public var packets: UInt32
        public var octets: UInt32
        public init(ntp: UInt64, rtpTimestamp: UInt32, packets: UInt32, octets: UInt32) {
            self.ntp = ntp
            self.rtpTimestamp = rtpTimestamp
            self.packets = packets
            self.octets = octets
        }
    }

    public struct Report: Sendable, Hashable {
        public var ssrc: UInt32
        public var sender: SenderInfo?
        public var blocks: [ReportBlock]
        public var cname: String?
    }

    static func be32(_ v: UInt32, _ out: inout [UInt8]) { out += [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: (v >> 16) & 0xFF), UInt8(truncatingIfNeeded: (v >> 8) & 0xFF), UInt8(truncatingIfNeeded: v & 0xFF)] }

    /// SR (with `sender`) or RR, one block (or none), then SDES CNAME.
    public static func compound(ssrc: UInt32, sender: SenderInfo?, block: ReportBlock?, cname: String) -> [UInt8] {
        var out: [UInt8] = []
        let count = block == nil ? 0 : 1
        let words = 1 + (sender == nil ? 0 : 5) + 6 * count
        out += [0x80 | UInt8(truncatingIfNeeded: count), sender == nil ? 201 : 200, UInt8(truncatingIfNeeded: words >> 8), UInt8(truncatingIfNeeded: words & 0xFF)]
        be32(ssrc, &out)
        if let s = sender {
            be32(UInt32(truncatingIfNeeded: s.ntp >> 32), &out); be32(UInt32(truncatingIfNeeded: s.ntp), &out)
            be32(s.rtpTimestamp, &out); be32(s.packets, &out); be32(s.octets, &out)
        }
        if let b = block {
            be32(b.ssrc, &out)
            let lost = UInt32(bitPattern: max(-0x80_0000, min(0x7F_FFFF, b.cumulativeLost))) & 0xFF_FFFF
            be32(UInt32(truncatingIfNeeded: b.fractionLost) << 24 | lost, &out)
            be32(b.highestSequence, &out); be32(b.jitter, &out); be32(b.lastSR, &out); be32(b.delaySinceLastSR, &out)
        }
        // SDES: one chunk, CNAME item, null-terminated and padded to 32 bits.
        let name = Array(cname.utf8.prefix(255))
        var chunk: [UInt8] = []
        be32(ssrc, &chunk)
        chunk += [1, UInt8(truncatingIfNeeded: name.count)] + name + [0]  // ≤ 255 (the prefix above)
        while chunk.count % 4 != 0 { chunk.append(0) }
        let sdesWords = chunk.count / 4
        out += [0x81, 202, UInt8(truncatingIfNeeded: sdesWords >> 8), UInt8(truncatingIfNeeded: sdesWords & 0xFF)] + chunk
        return out
    }

    /// Parses a compound packet's SR/RR and CNAME; nil when it is not RTCP.
    public static func parse(_ b: [UInt8]) -> Report? {
        var i = 0
        var report: Report?
        while i + 4 <= b.count {
            guard b[i] >> 6 == 2 else { return report }
            let count = Int(b[i] & 0x1F), pt = b[i + 1]
            let length = (Int(b[i + 2]) << 8 | Int(b[i + 3]) + 1) * 4
            guard i + length <= b.count else { return report }
            func u32(_ o: Int) -> UInt32 { UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3]) }
            switch pt {
            case 200, 201:
                guard length >= 8 else { return nil }
                var o = i + 8
                var sender: SenderInfo?
                if pt == 200 {
                    guard length >= 28 else { return nil }
                    sender = SenderInfo(ntp: UInt64(u32(o)) << 32 | UInt64(u32(o + 4)), rtpTimestamp: u32(o + 8), packets: u32(o + 12), octets: u32(o + 16))
                    o += 20
                }
                var blocks: [ReportBlock] = []
                for _ in 0..<count where o + 24 <= i + length {
                    let lostField = u32(o + 4) & 0xFF_FFFF
                    let lost = lostField & 0x80_0000 != 0 ? Int32(bitPattern: lostField | 0xFF00_0000) : Int32(bitPattern: lostField)
                    var blk = ReportBlock(ssrc: u32(o), fractionLost: b[o + 4], cumulativeLost: lost, highestSequence: u32(o + 8), jitter: u32(o + 12))
                    blk.lastSR = u32(o + 16)
                    blk.delaySinceLastSR = u32(o + 20)
                    blocks.append(blk)
                    o += 24
                }
                report = Report(ssrc: u32(i + 4), sender: sender, blocks: blocks, cname: report?.cname)
            case 202:
                if length >= 10, b[i + 8] == 1 {
                    let n = Int(b[i + 9])
                    if i + 10 + n <= b.count { report?.cname = String(decoding: b[(i + 10)..<(i + 10 + n)], as: UTF8.self) }
                }
            default:
                break
            }
            i += length
        }
        return report
    }
}
