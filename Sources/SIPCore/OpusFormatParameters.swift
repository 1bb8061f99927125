import TipRingCore

/// What an Opus `a=fmtp` line says (RFC 7587 §6.1): the preferences of the side that wrote it,
/// as a receiver. A sender follows them: it must not exceed `maxAverageBitrate`, sends in-band
/// FEC only to a decoder that uses it, and leaves out silent frames (DTX) only where asked.
/// Unknown parameters are ignored, numbers out of range fall back to the default.
public struct OpusFormatParameters: Sendable, Hashable {
    /// The highest audio bandwidth the receiver will play, as a sample rate (8000–48000).
    public var maxPlaybackRate = 48000
    /// The most it wants to receive on average, bit/s (6000–510000), nil for no limit.
    public var maxAverageBitrate: Int?
    public var useInbandFEC = false
    public var useDTX = false

    public init() {}

    public init(fmtp: String?) {
        guard let fmtp else { return }
        for item in fmtp.split(separator: ";") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingSpaces().lowercased()
            let value = pair[1].trimmingSpaces()
            switch key {
            case "maxplaybackrate": maxPlaybackRate = ASCIIDecimal.exact(value, in: 8000...48000) ?? maxPlaybackRate
            case "maxaveragebitrate": maxAverageBitrate = ASCIIDecimal.exact(value, in: 6000...510_000) ?? maxAverageBitrate
            case "useinbandfec": useInbandFEC = value == "1"
            case "usedtx": useDTX = value == "1"
            default: continue
            }
        }
    }
}

