import Testing
import TelephonyDSP

/// CRC-32 (IEEE 802.3, as zlib computes it).
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var table = [UInt32](repeating: 0, count: 256)
    for i in 0..<256 {
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        table[i] = c
    }
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    return ~crc
}

/// Writes 16-bit little-endian words, as the G.191 test files store them.
func littleEndianWords<S: Sequence>(_ words: S) -> [UInt8] where S.Element == UInt16 {
    var out: [UInt8] = []
    for w in words { out.append(UInt8(w & 0xFF)); out.append(UInt8(w >> 8)) }
    return out
}

/// The G.191 STL sweep: every 16-bit value from -32768 to 32767.
let sweep: [Int16] = (Int32(Int16.min)...Int32(Int16.max)).map { Int16($0) }

@Suite struct G711Tests {
    // CRC-32s published with ITU-T G.191's src/g711/test_data (sweep.src = C8BA7682).
    @Test func theSweepItselfMatchesG191() {
        #expect(crc32(littleEndianWords(sweep.map { UInt16(bitPattern: $0) })) == 0xC8BA_7682)
    }

    @Test func alawEncodeMatchesG191() {
        let codes = sweep.map { G711.alawEncode($0) }
        #expect(crc32(littleEndianWords(codes.map { UInt16($0) })) == 0x7471_9FE4)
        #expect(codes.prefix(2) == [0x2A, 0x2A])
    }

    @Test func ulawEncodeMatchesG191() {
        let codes = sweep.map { G711.ulawEncode($0) }
        #expect(crc32(littleEndianWords(codes.map { UInt16($0) })) == 0xCD17_0E15)
    }

    @Test func alawDecodeMatchesG191() {
        let decoded = sweep.map { G711.alawDecode(G711.alawEncode($0)) }
        #expect(crc32(littleEndianWords(decoded.map { UInt16(bitPattern: $0) })) == 0xABCE_AA69)
    }

    @Test func ulawDecodeMatchesG191() {
        let decoded = sweep.map { G711.ulawDecode(G711.ulawEncode($0)) }
        #expect(crc32(littleEndianWords(decoded.map { UInt16(bitPattern: $0) })) == 0x6364_1C01)
    }

    @Test func tablesAgreeWithTheReferenceAlgorithmsAndBuffersWithScalars() {
        for s in sweep where s % 7 == 0 {
            #expect(G711.ulawEncode(s) == G711.referenceUlawCompress(s))
            #expect(G711.alawEncode(s) == G711.referenceAlawCompress(s))
        }
        let input: [Int16] = [0, 1, -1, 1000, -1000, 32767, -32768, 12345]
        var codes = [UInt8](repeating: 0, count: input.count)
        var back = [Int16](repeating: 0, count: input.count)
        for law in [G711.Law.ulaw, .alaw] {
            input.withUnsafeBufferPointer { i in codes.withUnsafeMutableBufferPointer { G711.encode(law, i, into: $0) } }
            codes.withUnsafeBufferPointer { c in back.withUnsafeMutableBufferPointer { G711.decode(law, c, into: $0) } }
            let scalar = input.map { law == .ulaw ? G711.ulawDecode(G711.ulawEncode($0)) : G711.alawDecode(G711.alawEncode($0)) }
            #expect(back == scalar)
        }
    }
}
