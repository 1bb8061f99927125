import Testing
@testable import TelephonyDSP

@Suite struct WAVTests {
    @Test func roundTrip() throws {
        let x: [Int16] = [0, 1, -1, 32767, -32768, 1234]
        let bytes = WAV.encode(samples: x)
        #expect(bytes.count == 44 + 12)
        #expect(try WAV.decode(bytes) == x)
    }

    @Test func reportsWhatWasFound() {
        var stereo = WAV.encode(samples: [1, 2, 3, 4])
        stereo[22] = 2
        #expect(throws: WAV.FormatError(description: "2 channels; need mono")) { try WAV.decode(stereo) }
        var eightBit = WAV.encode(samples: [1, 2])
        eightBit[34] = 8
        #expect(throws: WAV.FormatError(description: "8-bit samples; need 16-bit")) { try WAV.decode(eightBit) }
        var float = WAV.encode(samples: [1, 2])
        float[20] = 3
        #expect(throws: WAV.FormatError(description: "format code 3 is not PCM (need 16-bit PCM)")) { try WAV.decode(float) }
        #expect(throws: WAV.FormatError.self) { try WAV.decode(Array(WAV.encode(samples: [1]).prefix(30))) }
        #expect(throws: WAV.FormatError.self) { try WAV.decode([]) }
        // Every truncation is an error or a shorter signal, never a crash.
        let full = WAV.encode(samples: (0..<50).map { Int16($0) })
        for n in 0..<full.count { _ = try? WAV.decode(Array(full.prefix(n))) }
    }
}
