import TelephonyDSP
import SIPCore

/// A call's voice codec, between the line's 8 kHz PCM and RTP: G.711 (µ-law or A-law, a
/// sample a byte on an 8 kHz clock) or Opus (narrowband on the 48 kHz RTP clock, RFC 7587).
enum VoiceCodec {
    case g711(G711.Law)
    case opus(OpusEncoder, OpusDecoder)
    /// The codec could not be made (libopus out of memory): no audio, and the reason.
    case unavailable(String)

    /// For the negotiated format; Opus follows the far end's fmtp (its bit-rate limit, and
    /// FEC and DTX only where it asked for them).
    init(_ format: PayloadFormat) {
        switch format.name.uppercased() {
        case "PCMA": self = .g711(.alaw)
        case "OPUS":
            let far = OpusFormatParameters(fmtp: format.fmtp)
            let bitrate = min(far.useInbandFEC ? OpusEncoder.bitrateWithFEC : OpusEncoder.defaultBitrate, far.maxAverageBitrate ?? .max)
            var error: String?
            guard let encoder = OpusEncoder(bitrate: bitrate, fec: far.useInbandFEC, dtx: far.useDTX, error: &error),
                  let decoder = OpusDecoder(error: &error) else {
                self = .unavailable(error ?? "Opus")
                return
            }
            self = .opus(encoder, decoder)
        default: self = .g711(.ulaw)
        }
    }

    /// RTP timestamp units per 8 kHz sample.
    var clockRatio: Int {
        if case .opus = self { return 6 }
        return 1
    }

    /// One 20 ms frame into `payload`: its length, 0 when nothing is to be sent (DTX).
    func encode(_ pcm: UnsafeBufferPointer<Int16>, into payload: UnsafeMutableRawBufferPointer) -> Int {
        switch self {
        case .g711(let law):
            let n = min(pcm.count, payload.count)
            G711.encode(law, UnsafeBufferPointer(rebasing: pcm[0..<n]), into: UnsafeMutableRawBufferPointer(rebasing: payload[0..<n]).assumingMemoryBound(to: UInt8.self))
            return n
        case .opus(let encoder, _): return encoder.encode(pcm, into: payload)
        case .unavailable: return 0
        }
    }
}
