import Foundation  // tests only: processes
import Testing
import TipRingCore
import TestSupport
import SIPCore
@testable import RTPMedia

func hexBytes(_ s: String) -> [UInt8] {
    let digits = Array(s.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

func hexString(_ b: some Sequence<UInt8>) -> String { b.map { String(format: "%02X", $0) }.joined() }

/// libsrtp2 (Debian's, the library pjsip and Asterisk use) as the independent implementation:
/// Tests/Fixtures/libsrtp/srtp_tool.c, built once per run. `make test` installs libsrtp2-dev;
/// without it these tests fail.
enum LibSRTP {
    static let tool: Result<String, SRTPToolError> = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-libsrtp-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let exe = dir.appendingPathComponent("srtp_tool").path
        let src = repositoryRoot + "/Tests/Fixtures/libsrtp/srtp_tool.c"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cc -O2 -o '\(exe)' '\(src)' $(pkg-config --cflags --libs libsrtp2) 2>&1"]
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { return .failure(SRTPToolError(description: "cannot run cc: \(error)")) }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return .failure(SRTPToolError(description: "building the libsrtp2 bridge failed (make test installs libsrtp2-dev): \(text)")) }
        return .success(exe)
    }()

    /// Each packet through libsrtp2 in `mode`; per packet its status (0: accepted) and result.
    static func run(_ mode: String, _ key: SRTPMasterKey, _ packets: [[UInt8]]) throws -> [(status: Int, packet: [UInt8])] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try tool.get())
        p.arguments = [mode, key.suite.rawValue, hexString(key.bytes)]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        var records: [UInt8] = []
        for packet in packets { records += [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet }
        input.fileHandleForWriting.write(Data(records))
        input.fileHandleForWriting.closeFile()
        let out = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        p.waitUntilExit()
        var results: [(Int, [UInt8])] = []
        var i = 0
        while i + 3 <= out.count {
            let n = Int(out[i + 1]) << 8 | Int(out[i + 2])
            results.append((Int(out[i]), Array(out[(i + 3)..<(i + 3 + n)])))
            i += 3 + n
        }
        guard results.count == packets.count else { throw SRTPToolError(description: "libsrtp2 answered \(results.count) of \(packets.count) packets") }
        return results
    }
}

/// An RTP packet: PCMU, 160 bytes of a pattern that is not all one value.
func rtpPacket(sequence: UInt16, timestamp: UInt32 = 0, ssrc: UInt32 = 0xDEAD_BEEF, payload: Int = 160, extensionWords: Int = 0) -> [UInt8] {
    var p: [UInt8] = [extensionWords > 0 ? 0x90 : 0x80, 0, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
    p += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: timestamp >> UInt32($0)) }
    p += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: ssrc >> UInt32($0)) }
    if extensionWords > 0 { p += [0xBE, 0xDE, 0, UInt8(extensionWords)] + [UInt8](repeating: 0x11, count: 4 * extensionWords) }
    p += (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(sequence)) }
    return p
}

/// An RTCP receiver report with SDES, as a compound packet's bytes.
func rtcpPacket(ssrc: UInt32 = 0xDEAD_BEEF) -> [UInt8] {
    var p: [UInt8] = [0x80, 201, 0, 1] + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: ssrc >> UInt32($0)) }
    p += [0x81, 202, 0, 3] + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: ssrc >> UInt32($0)) } + [1, 5] + Array("tip@r".utf8) + [0]
    return p
}

extension SRTPSender {
    mutating func protect(_ p: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: p.count + rtpOverhead)
        let n = p.withUnsafeBytes { src in out.withUnsafeMutableBytes { protect(src, into: $0) } }
        return n.map { Array(out[0..<$0]) }
    }
    mutating func protectControl(_ p: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: p.count + rtcpOverhead)
        let n = p.withUnsafeBytes { src in out.withUnsafeMutableBytes { protectControl(src, into: $0) } }
        return n.map { Array(out[0..<$0]) }
    }
}

extension SRTPReceiver {
    mutating func unprotect(_ p: [UInt8]) -> Result<[UInt8], SRTPDrop> {
        var b = p
        return b.withUnsafeMutableBytes { unprotect($0) }.map { Array(b[0..<$0]) }
    }
    func unprotectControlResult(_ p: [UInt8]) -> Result<[UInt8], SRTPDrop> {
        var copy = self
        return copy.unprotectControl(p)
    }
    mutating func unprotectControl(_ p: [UInt8]) -> Result<[UInt8], SRTPDrop> {
        var b = p
        return b.withUnsafeMutableBytes { unprotectControl($0) }.map { Array(b[0..<$0]) }
    }
}

@Suite("SRTP: RFC 3711's test vectors, and libsrtp2 on the other end")
struct SRTPTests {
    @Test("RFC 3711 B.3: the session keys derived from its master key and salt")
    func keyDerivation() throws {
        let master = try #require(SRTPMasterKey(suite: .aesCM128HMACSHA1_80, bytes: hexBytes("E1F97A0D3E018BE0D64FA32C06DE4139" + "0EC675AD498AFEEBB6960B3AABE6")))
        #expect(hexString(SRTPCrypto.derive(master, .rtpCipher, length: 16)) == "C61E7A93744F39EE10734AFE3FF7A087")
        #expect(hexString(SRTPCrypto.derive(master, .rtpSalt, length: 14)) == "30CBBC08863D8C85D49DB34A9AE1")
        #expect(hexString(SRTPCrypto.derive(master, .rtpAuth, length: 20)) == "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")
    }

    @Test("RFC 2202's HMAC-SHA1 vectors 1 and 2, a tag cut to 80 bits, and the ROC hashed after the packet")
    func hmacVectors() {
        func tag(_ key: [UInt8], _ data: [UInt8], _ length: Int = 20) -> String {
            var out = [UInt8](repeating: 0, count: length)
            data.withUnsafeBytes { d in out.withUnsafeMutableBytes { SRTPAuthenticator(key: key).tag(d, rollover: nil, length: length, into: $0) } }
            return hexString(out)
        }
        #expect(tag([UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8)) == "B617318655057264E28BC0B6FB378C8EF146BE00")
        #expect(tag(Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)) == "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79")
        #expect(tag(Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), 10) == "EFFCDF6AE5EB2FA2D274")
        // The ROC goes after the packet: the same as hashing the four bytes with it.
        var withROC = [UInt8](repeating: 0, count: 20), appended = [UInt8](repeating: 0, count: 20)
        let mac = SRTPAuthenticator(key: Array("Jefe".utf8))
        Array("abc".utf8).withUnsafeBytes { d in withROC.withUnsafeMutableBytes { mac.tag(d, rollover: 0x0102_0304, length: 20, into: $0) } }
        Array("abc".utf8 + [1, 2, 3, 4]).withUnsafeBytes { d in appended.withUnsafeMutableBytes { mac.tag(d, rollover: nil, length: 20, into: $0) } }
        #expect(withROC == appended)
    }

    @Test("RFC 3711 B.2: the AES-CM keystream's first blocks and block 0xFEFF")
    func keystream() {
        let cipher = SRTPCipher(key: hexBytes("2B7E151628AED2A6ABF7158809CF4F3C"))
        let counter = SRTPCrypto.counter(salt: SRTPCrypto.counterBase(hexBytes("F0F1F2F3F4F5F6F7F8F9FAFBFCFD")), ssrc: 0, index: 0)
        #expect(hexString((0..<16).map { counter[$0] }) == "F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
        var stream = [UInt8](repeating: 0, count: 16 * 0xFF00)
        stream.withUnsafeMutableBytes { cipher.xorKeystream(from: counter, into: $0) }
        #expect(hexString(stream[0..<16]) == "E03EAD0935C95E80E166B16DD92B4EB4")
        #expect(hexString(stream[16..<32]) == "D23513162B02D0F72A43A2FE4A5F97AB")
        #expect(hexString(stream[32..<48]) == "41E95B3BB0A2E8DD477901E4FCA894C0")
        #expect(hexString(stream[(16 * 0xFEFF)..<(16 * 0xFF00)]) == "EC8CDF7398607CB0F2D21675EA9EA1E4")
    }

    @Test("ours protected, libsrtp2 takes them back unchanged; libsrtp2's protected, ours take them back — every suite (GCM too), across a sequence-number wrap, with a header extension", arguments: SRTPSuite.allCases)
    func withLibSRTP(suite: SRTPSuite) throws {
        let key = SRTPMasterKey.random(suite)
        let packets = (0..<40).map { rtpPacket(sequence: UInt16(truncatingIfNeeded: 65_520 + $0), timestamp: UInt32($0) * 160, extensionWords: $0 % 5 == 0 ? 2 : 0) }
        var sender = SRTPSender(key)
        let ours = packets.map { sender.protect($0)! }
        #expect(ours.allSatisfy { $0.count == 172 + suite.rtpTagLength || $0.count == 184 + suite.rtpTagLength })
        #expect(zip(ours, packets).allSatisfy { Array($0.0[12..<$0.1.count]) != Array($0.1[12...]) }, "a payload left in clear")
        let back = try LibSRTP.run("unprotect", key, ours)
        #expect(back.map(\.status) == Array(repeating: 0, count: packets.count), "\(back.map(\.status))")
        #expect(back.map(\.packet) == packets)

        let theirs = try LibSRTP.run("protect", key, packets)
        #expect(theirs.allSatisfy { $0.status == 0 })
        // Byte for byte what libsrtp2 makes of the same packets with the same key.
        #expect(theirs.map(\.packet) == ours)
        var receiver = SRTPReceiver(key)
        let taken = theirs.map { receiver.unprotect($0.packet) }
        #expect(taken.map { (try? $0.get()) ?? [] } == packets)
    }

    @Test("SRTCP both ways with libsrtp2; a compound report encrypted after its first eight bytes, with E-flag and index; authenticated-only SRTCP (E = 0) taken", arguments: SRTPSuite.allCases)
    func controlWithLibSRTP(suite: SRTPSuite) throws {
        let key = SRTPMasterKey.random(suite)
        let reports = (0..<5).map { _ in rtcpPacket() }
        var sender = SRTPSender(key)
        let ours = reports.map { sender.protectControl($0)! }
        #expect(ours.allSatisfy { $0.count == reports[0].count + (suite.isAEAD ? 20 : 14) && $0[0..<8] == reports[0][0..<8] })
        let back = try LibSRTP.run("unprotect-rtcp", key, ours)
        #expect(back.map(\.status) == [0, 0, 0, 0, 0] && back.map(\.packet) == reports)
        // libsrtp2 counts its SRTCP index from 1; RFC 3711 §3.4 starts at 0, as ours does: its
        // n-th packet is byte for byte our (n+1)-th.
        let theirs = try LibSRTP.run("protect-rtcp", key, reports)
        #expect(Array(theirs.map(\.packet)[0..<4]) == Array(ours[1..<5]))
        // E-flag and index: before the HMAC tag, after the GCM one.
        let word = suite.isAEAD ? ours[0].count - 4 : reports[0].count
        #expect(ours[0][word..<(word + 4)] == [0x80, 0, 0, 0])
        var receiver = SRTPReceiver(key)
        #expect(theirs.map { (try? receiver.unprotectControl($0.packet).get()) ?? [] } == reports)
        // Authenticated only (E = 0): the report in clear, taken once its tag checks; changed, refused.
        let clear = try LibSRTP.run("protect-rtcp-unencrypted", key, reports)
        #expect(clear.allSatisfy { $0.status == 0 && $0.packet[0..<reports[0].count] == reports[0][...] })
        var checker = SRTPReceiver(key)
        #expect(clear.map { (try? checker.unprotectControl($0.packet).get()) ?? [] } == reports)
        var forged = clear[0].packet
        forged[12] ^= 1
        #expect(SRTPReceiver(key).unprotectControlResult(forged) == .failure(.authentication))
    }

    @Test("a replay, a packet older than the window, a changed byte, a wrong key, a stub: each refused and named; the stream goes on", arguments: SRTPSuite.allCases)
    func refusals(suite: SRTPSuite) throws {
        let key = SRTPMasterKey.random(suite)
        var sender = SRTPSender(key)
        let sent = (0..<200).map { sender.protect(rtpPacket(sequence: UInt16($0)))! }
        var receiver = SRTPReceiver(key)
        #expect((try? receiver.unprotect(sent[0]).get()) == rtpPacket(sequence: 0))
        #expect(receiver.unprotect(sent[0]) == .failure(.replay))
        for p in sent[1..<200] { _ = receiver.unprotect(p) }
        #expect(receiver.unprotect(sent[50]) == .failure(.replay))  // 149 behind: past the window
        var fresh = SRTPSender(key)
        let next = (0..<201).map { fresh.protect(rtpPacket(sequence: UInt16($0)))! }.last!
        var changed = next
        changed[40] ^= 1
        #expect(receiver.unprotect(changed) == .failure(.authentication))
        let tag = suite.rtpTagLength
        #expect(receiver.unprotect(Array(next[0..<(12 + tag + 2)])) == .failure(.authentication))
        #expect(receiver.unprotect(Array(next[0..<(12 + tag - 1)])) == .failure(.malformed))  // no room for header and tag
        #expect(receiver.unprotect([0x80, 0]) == .failure(.malformed))
        var stranger = SRTPReceiver(SRTPMasterKey.random(suite))
        #expect(stranger.unprotect(next) == .failure(.authentication))
        #expect((try? receiver.unprotect(next).get()) == rtpPacket(sequence: 200))
        // libsrtp2 agrees about the replay.
        let twice = try LibSRTP.run("unprotect", key, [sent[3], sent[3]])
        #expect(twice[0].status == 0 && twice[1].status != 0)
    }

    @Test("a new SSRC (the far end restarting its stream) gets a context of its own; the old SSRC's packets replayed afterwards are still replays")
    func streamsPerSSRC() throws {
        let key = SRTPMasterKey.random(.aesCM128HMACSHA1_80)
        var first = SRTPSender(key), second = SRTPSender(key)
        let old = (0..<10).map { first.protect(rtpPacket(sequence: UInt16($0), ssrc: 0x1111))! }
        let new = (0..<10).map { second.protect(rtpPacket(sequence: UInt16(40_000 + $0), ssrc: 0x2222))! }
        var receiver = SRTPReceiver(key)
        #expect(old.allSatisfy { (try? receiver.unprotect($0).get()) != nil })
        #expect(new.allSatisfy { (try? receiver.unprotect($0).get()) != nil })
        #expect(old.allSatisfy { receiver.unprotect($0) == .failure(.replay) })
        #expect(new.allSatisfy { receiver.unprotect($0) == .failure(.replay) })
    }

    @Test("the master key never shows in a description")
    func keyNotShown() {
        let key = SRTPMasterKey.random(.aesCM128HMACSHA1_32)
        #expect("\(key)" == "AES_CM_128_HMAC_SHA1_32 key (not shown)")
        #expect(!"\(key)".contains(hexString(key.bytes)))
    }
}

struct SRTPToolError: Error, CustomStringConvertible { var description: String }
