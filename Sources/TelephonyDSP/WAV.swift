/// 16-bit PCM WAV files, what `tipring dsp` reads and writes (8 kHz mono).
public enum WAV {
    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// A RIFF/WAVE file of 16-bit mono samples.
    public static func encode(samples: [Int16], sampleRate: Int = 8000) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(44 + samples.count * 2)
        func u32(_ v: UInt32) { for i in 0..<4 { out.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
        func u16(_ v: UInt16) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) }
        let dataBytes = UInt32(samples.count * 2)
        out += Array("RIFF".utf8); u32(36 + dataBytes); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); u32(16); u16(1); u16(1); u32(UInt32(sampleRate)); u32(UInt32(sampleRate * 2)); u16(2); u16(16)
        out += Array("data".utf8); u32(dataBytes)
        for s in samples { u16(UInt16(bitPattern: s)) }
        return out
    }

    /// Decodes a WAV file; anything but 16-bit PCM mono at `requiredRate` is an error that
    /// says what was found.
    public static func decode(_ bytes: [UInt8], requiredRate: Int = 8000) throws(FormatError) -> [Int16] {
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) } }
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 }
        func tag(_ i: Int) -> String { String(decoding: bytes[i..<i + 4], as: UTF8.self) }
        guard bytes.count >= 12, tag(0) == "RIFF", tag(8) == "WAVE" else {
            throw FormatError(description: "not a WAV file (no RIFF/WAVE header)")
        }
        var i = 12
        var format: (codec: UInt16, channels: UInt16, rate: UInt32, bits: UInt16)?
        while i + 8 <= bytes.count {
            let id = tag(i)
            let size = Int(u32(i + 4))
            let body = i + 8
            guard body + size <= bytes.count || id == "data" else {
                throw FormatError(description: "chunk '\(id)' runs past the end of the file")
            }
            if id == "fmt " {
                guard size >= 16 else { throw FormatError(description: "fmt chunk too short") }
                format = (u16(body), u16(body + 2), u32(body + 4), u16(body + 14))
            } else if id == "data" {
                guard let f = format else { throw FormatError(description: "data before fmt chunk") }
                guard f.codec == 1 || f.codec == 0xFFFE else {
                    throw FormatError(description: "format code \(f.codec) is not PCM (need 16-bit PCM)")
                }
                guard f.bits == 16 else { throw FormatError(description: "\(f.bits)-bit samples; need 16-bit") }
                guard f.channels == 1 else { throw FormatError(description: "\(f.channels) channels; need mono") }
                guard Int(f.rate) == requiredRate else {
                    throw FormatError(description: "sample rate \(f.rate) Hz; need \(requiredRate) Hz")
                }
                let end = min(body + size, bytes.count) & ~1
                var out: [Int16] = []
                out.reserveCapacity((end - body) / 2)
                var j = body
                while j + 1 < end {
                    out.append(Int16(bitPattern: u16(j)))
                    j += 2
                }
                return out
            }
            i = body + size + (size & 1)
        }
        throw FormatError(description: "no data chunk")
    }
}
