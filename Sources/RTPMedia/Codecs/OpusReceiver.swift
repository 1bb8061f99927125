import TipRingCore

/// An Opus stream's packets as they arrive, onto the jitter buffer: their 48 kHz RTP
/// timestamps (RFC 7587 §4.1: always 48 kHz, whatever the audio's bandwidth) as the buffer's
/// 8 kHz; a frame lost just before a packet rebuilt from that packet's in-band FEC
/// (RFC 6716 §2.1.7), in time for its playout when the buffer holds a frame's delay; a pause
/// with no packet missing — the sender's DTX, no packets in silence — left as silence, not
/// counted as loss. Packets are decoded in arrival order, which is the order an Opus decoder
/// needs; a packet that arrives after a later one is decoded when it comes (its frame is then
/// played if still in time, the decoder's state glitching for a frame).
struct OpusReceiver {
    let decoder: OpusDecoder
    /// The last packet in sequence order: its number, timestamps and length (8 kHz samples).
    var last: (sequence: UInt16, timestamp48: UInt32, timestamp8: UInt32, samples: Int)?
    /// Pauses without a missing packet (DTX), and packets libopus could not decode.
    private(set) var silentPauses = 0
    private(set) var undecodable = 0

    init(decoder: OpusDecoder) { self.decoder = decoder }

    /// `scratch`: room for 120 ms (960 samples) of the decoded audio.
    mutating func receive(sequence: UInt16, timestamp: UInt32, payload: UnsafeBufferPointer<UInt8>, arrival: Instant,
                          into jitter: inout JitterBuffer, scratch: UnsafeMutableBufferPointer<Int16>) {
        guard let length = OpusDecoder.samples(in: payload), length <= OpusDecoder.maximumSamples, scratch.count >= OpusDecoder.maximumSamples else {
            undecodable += 1
            return
        }
        var ahead = 1
        let timestamp8: UInt32
        if let l = last {
            // 48 kHz to 8 kHz from the last packet's pair, so a timestamp's wrap carries over.
            timestamp8 = l.timestamp8 &+ UInt32(bitPattern: Int32(bitPattern: timestamp &- l.timestamp48) / 6)
            ahead = Int(Int16(bitPattern: sequence &- l.sequence))
            let gap = Int(Int32(bitPattern: timestamp8 &- (l.timestamp8 &+ UInt32(l.samples))))
            if ahead > 1, gap > 0, gap <= OpusDecoder.maximumSamples {
                // Packets are missing: the audio just before this one from its FEC (libopus
                // conceals what the FEC does not reach), else concealment only — still run,
                // so the decoder's state follows the gap.
                let missing = UnsafeMutableBufferPointer(rebasing: scratch[0..<gap])
                if OpusDecoder.carriesFEC(payload), decoder.recover(before: payload, into: missing) {
                    jitter.insertRecovered(timestamp: timestamp8 &- UInt32(gap), samples: UnsafeBufferPointer(missing))
                } else {
                    decoder.conceal(into: missing)
                }
            } else if ahead == 1, gap > 0 {
                silentPauses += 1
            }
        } else {
            timestamp8 = timestamp
        }
        guard let n = decoder.decode(payload, into: scratch) else {
            undecodable += 1
            return
        }
        jitter.insert(sequence: sequence, timestamp: timestamp8, samples: UnsafeBufferPointer(rebasing: scratch[0..<n]), arrival: arrival)
        if ahead > 0 { last = (sequence, timestamp, timestamp8, n) }
    }

    /// A new stream from the far end (a new SSRC): its numbers start afresh.
    mutating func restart() { last = nil }
}
