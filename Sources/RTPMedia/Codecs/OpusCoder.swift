import CTipRingOpus

/// libopus's encoder for the line's 8 kHz mono voice (RFC 6716): narrowband SILK, 20 ms
/// frames, in-band FEC and DTX as the far end asked for them in its fmtp.
final class OpusEncoder {
    /// The bit rate when the far end sets no lower limit: 16 kbit/s (a fifth of G.711's) is
    /// good narrowband speech; with in-band FEC, 20 kbit/s — libopus 1.3 codes the redundancy
    /// at narrowband only when its loss-adjusted rate clears 12 kbit/s × (1.25 − loss), which
    /// at the assumed 5 % takes about 16.5 kbit/s.
    static let defaultBitrate = 16000
    static let bitrateWithFEC = 20000
    /// The loss the FEC is sized for before the far end has reported any (an LTE link's
    /// order of magnitude), and the most it is sized for.
    static let assumedLossPercent = 5
    static let maximumLossPercent = 25
    /// libopus's complexity (0–10): the encoder's CPU against its search effort. At 5 it costs
    /// about half of 10 (measured with libopus 1.3 on espeak-ng speech, narrowband, 20 kbit/s
    /// with FEC: 119 against 222 µs per 20 ms frame), for a router's small CPU; the bytes per
    /// frame are the same.
    static let complexity = 5

    private let state: OpaquePointer
    let bitrate: Int
    let fec: Bool, dtx: Bool
    private var lossPercent: Int

    /// nil when libopus cannot make one (out of memory); `error` says why.
    init?(bitrate: Int, fec: Bool, dtx: Bool, error: inout String?) {
        var err: Int32 = 0
        guard let p = tipring_opus_encoder_new(Int32(bitrate), fec ? 1 : 0, Int32(Self.assumedLossPercent), dtx ? 1 : 0, Int32(Self.complexity), &err) else {
            error = "the Opus encoder cannot be made (libopus error \(err))"
            return nil
        }
        state = OpaquePointer(p)
        self.bitrate = bitrate
        self.fec = fec
        self.dtx = dtx
        lossPercent = Self.assumedLossPercent
    }

    deinit { tipring_opus_encoder_free(UnsafeMutableRawPointer(state)) }

    /// The far end reported this share of our packets lost: the FEC follows (at least the
    /// assumed loss, at most 25 %).
    func farEndLost(fraction: Double) {
        guard fraction.isFinite else { return }
        let percent = min(Self.maximumLossPercent, max(Self.assumedLossPercent, Int((fraction * 100).rounded())))
        guard percent != lossPercent else { return }
        lossPercent = percent
        _ = tipring_opus_encoder_set_loss(UnsafeMutableRawPointer(state), Int32(percent))
    }

    /// One frame of PCM into `packet`: the payload's length, 0 when there is nothing to send
    /// (a DTX frame in silence, or an error).
    func encode(_ pcm: UnsafeBufferPointer<Int16>, into packet: UnsafeMutableRawBufferPointer) -> Int {
        guard let src = pcm.baseAddress, let dst = packet.baseAddress else { return 0 }
        let n = tipring_opus_encode(UnsafeMutableRawPointer(state), src, Int32(pcm.count), dst.assumingMemoryBound(to: UInt8.self), Int32(min(packet.count, 1275)))
        // 1 or 2 bytes: a DTX frame, which is not transmitted (RFC 7587 §3.1.3).
        return n > 2 ? Int(n) : 0
    }
}

/// libopus's decoder to the line's 8 kHz mono (any Opus stream decodes to it).
final class OpusDecoder {
    private let state: OpaquePointer
    /// The longest Opus packet, 120 ms, in 8 kHz samples.
    static let maximumSamples = 960

    init?(error: inout String?) {
        var err: Int32 = 0
        guard let p = tipring_opus_decoder_new(&err) else {
            error = "the Opus decoder cannot be made (libopus error \(err))"
            return nil
        }
        state = OpaquePointer(p)
    }

    deinit { tipring_opus_decoder_free(UnsafeMutableRawPointer(state)) }

    /// A packet's audio; nil for a packet libopus rejects (malformed: nothing is played of it).
    func decode(_ packet: UnsafeBufferPointer<UInt8>, into pcm: UnsafeMutableBufferPointer<Int16>) -> Int? {
        guard let src = packet.baseAddress, let dst = pcm.baseAddress else { return nil }
        let n = tipring_opus_decode(UnsafeMutableRawPointer(state), src, Int32(clamping: packet.count), dst, Int32(min(pcm.count, Self.maximumSamples)), 0)
        return n > 0 ? Int(n) : nil
    }

    /// `pcm.count` samples of the audio that was lost just before `packet`, from the FEC the
    /// packet carries; concealment where it carries none for part of it.
    func recover(before packet: UnsafeBufferPointer<UInt8>, into pcm: UnsafeMutableBufferPointer<Int16>) -> Bool {
        guard let src = packet.baseAddress, let dst = pcm.baseAddress else { return false }
        return tipring_opus_decode(UnsafeMutableRawPointer(state), src, Int32(clamping: packet.count), dst, Int32(pcm.count), 1) == Int32(pcm.count)
    }

    /// `pcm.count` samples of concealment (the decoder's state follows the gap).
    func conceal(into pcm: UnsafeMutableBufferPointer<Int16>) {
        guard let dst = pcm.baseAddress else { return }
        _ = tipring_opus_decode(UnsafeMutableRawPointer(state), nil, 0, dst, Int32(pcm.count), 0)
    }

    static func carriesFEC(_ packet: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let src = packet.baseAddress else { return false }
        return tipring_opus_packet_has_fec(src, Int32(clamping: packet.count)) == 1
    }

    /// The 8 kHz samples the packet holds, nil when it is malformed.
    static func samples(in packet: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let src = packet.baseAddress else { return nil }
        let n = tipring_opus_packet_samples(src, Int32(clamping: packet.count))
        return n > 0 ? Int(n) : nil
    }
}
