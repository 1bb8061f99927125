/// ITU-T G.711 companding, bit-exact with the ITU-T G.191 Software Tool Library
/// (`g711.c`: `alaw_compress`, `alaw_expand`, `ulaw_compress`, `ulaw_expand`).
///
/// Encoders take 16-bit linear samples (G.191 drops the low 3 bits for A-law and the low
/// 2 for mu-law); mu-law rounds negative values as G.191 does, which differs from the
/// widespread Sun `g711.c` at 508 decision boundaries. A-law codes include the even-bit
/// inversion (XOR 0x55) and go on the wire as they are.
///
/// Encoding and decoding go through tables built once (16 KiB + 8 KiB + 2 × 512 B), so a
/// sample costs one shift and one load.
public enum G711 {
    /// mu-law code for a linear sample.
    @inlinable
    public static func ulawEncode(_ sample: Int16) -> UInt8 {
        Tables.shared.ulawEncode[Int(UInt16(bitPattern: sample) >> 2)]
    }

    /// A-law code (with the 0x55 inversion) for a linear sample.
    @inlinable
    public static func alawEncode(_ sample: Int16) -> UInt8 {
        Tables.shared.alawEncode[Int(UInt16(bitPattern: sample) >> 3)]
    }

    @inlinable
    public static func ulawDecode(_ code: UInt8) -> Int16 { Tables.shared.ulawDecode[Int(code)] }

    @inlinable
    public static func alawDecode(_ code: UInt8) -> Int16 { Tables.shared.alawDecode[Int(code)] }

    /// Encodes a buffer; `output` must hold `input.count` codes.
    public static func encode(_ law: Law, _ input: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(output.count >= input.count)
        let t = Tables.shared
        switch law {
        case .ulaw:
            t.ulawEncode.withUnsafeBufferPointer { table in
                for i in 0..<input.count { output[i] = table[Int(UInt16(bitPattern: input[i]) >> 2)] }
            }
        case .alaw:
            t.alawEncode.withUnsafeBufferPointer { table in
                for i in 0..<input.count { output[i] = table[Int(UInt16(bitPattern: input[i]) >> 3)] }
            }
        }
    }

    /// Decodes a buffer; `output` must hold `input.count` samples.
    public static func decode(_ law: Law, _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Int16>) {
        precondition(output.count >= input.count)
        let table = law == .ulaw ? Tables.shared.ulawDecode : Tables.shared.alawDecode
        table.withUnsafeBufferPointer { t in
            for i in 0..<input.count { output[i] = t[Int(input[i])] }
        }
    }

    /// The two companding laws. mu-law is RTP payload type 0 (PCMU), A-law 8 (PCMA).
    public enum Law: Sendable, Hashable {
        case ulaw, alaw
    }

    /// The code tables, computed from G.191's reference algorithms.
    public final class Tables: Sendable {
        public static let shared = Tables()
        /// Indexed by the unsigned 14-bit top of the sample (`bits >> 2`).
        public let ulawEncode: [UInt8]
        /// Indexed by the unsigned 13-bit top of the sample (`bits >> 3`).
        public let alawEncode: [UInt8]
        public let ulawDecode: [Int16]
        public let alawDecode: [Int16]

        init() {
            ulawEncode = (0..<16384).map { i in
                G711.referenceUlawCompress(Int16(bitPattern: UInt16(i << 2)))
            }
            alawEncode = (0..<8192).map { i in
                G711.referenceAlawCompress(Int16(bitPattern: UInt16(i << 3)))
            }
            ulawDecode = (0..<256).map { G711.referenceUlawExpand(UInt8($0)) }
            alawDecode = (0..<256).map { G711.referenceAlawExpand(UInt8($0)) }
        }
    }

    /// G.191 `alaw_compress` for one sample (the table builder's source of truth).
    public static func referenceAlawCompress(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        var ix = x < 0 ? (~x) >> 4 : x >> 4
        if ix > 15 {
            var exponent: Int32 = 1
            while ix > 16 + 15 {
                ix >>= 1
                exponent += 1
            }
            ix -= 16
            ix += exponent << 4
        }
        if x >= 0 { ix |= 0x80 }
        return UInt8(truncatingIfNeeded: ix ^ 0x55)
    }

    /// G.191 `alaw_expand` for one code.
    public static func referenceAlawExpand(_ code: UInt8) -> Int16 {
        let ix = Int32(code ^ 0x55) & 0x7F
        let exponent = ix >> 4
        var mantissa = ix & 0x0F
        if exponent > 0 { mantissa += 16 }
        mantissa = (mantissa << 4) + 0x08
        if exponent > 1 { mantissa <<= (exponent - 1) }
        return Int16(code > 127 ? mantissa : -mantissa)
    }

    /// G.191 `ulaw_compress` for one sample.
    public static func referenceUlawCompress(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        var absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33
        if absno > 0x1FFF { absno = 0x1FFF }
        var i = absno >> 6
        var segment: Int32 = 1
        while i != 0 {
            segment += 1
            i >>= 1
        }
        let high = 0x08 - segment
        let low = 0x0F - ((absno >> segment) & 0x0F)
        var out = (high << 4) | low
        if x >= 0 { out |= 0x80 }
        return UInt8(truncatingIfNeeded: out)
    }

    /// G.191 `ulaw_expand` for one code.
    public static func referenceUlawExpand(_ code: UInt8) -> Int16 {
        let sign: Int32 = code < 0x80 ? -1 : 1
        var mantissa = Int32(~code)
        let exponent = (mantissa >> 4) & 0x07
        let segment = exponent + 1
        mantissa &= 0x0F
        let step: Int32 = 4 << segment
        return Int16(sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33))
    }
}
