public import TipRingCore

/// Jitter-buffer limits.
public struct JitterBufferSettings: Sendable, Hashable {
    /// The delay kept on a clean network, and the most it may grow to under jitter.
    public var minimumDelay: Duration = .milliseconds(40)
    public var maximumDelay: Duration = .milliseconds(200)
    /// The fixed delay of a call that carries a fax or a modem: enough for the network's worst
    /// jitter, since a demodulator cannot follow a playout point that moves (fax pass-through
    /// on ATAs uses a fixed buffer of this order; T.30's timers allow seconds).
    public var dataDelay: Duration = .milliseconds(200)
    public init(minimumDelay: Duration = .milliseconds(40), maximumDelay: Duration = .milliseconds(200),
                dataDelay: Duration = .milliseconds(200)) {
        self.minimumDelay = minimumDelay
        self.maximumDelay = maximumDelay
        self.dataDelay = dataDelay
    }
}

/// What the receive side saw (RFC 3550 loss and interarrival jitter, and the buffer's own
/// counts).
public struct ReceiveStatistics: Sendable, Hashable {
    public var packetsReceived = 0
    public var duplicates = 0
    public var late = 0
    /// Expected minus received (RFC 3550 A.3), never negative.
    public var packetsLost = 0
    /// Frames (20 ms) played with concealment for missing audio.
    public var concealedFrames = 0
    /// Lost frames rebuilt from the next packet's in-band FEC (Opus) in time to be played.
    public var recoveredFrames = 0
    public var playedFrames = 0
    /// Interarrival jitter (RFC 3550 A.8), milliseconds.
    public var jitterMilliseconds = 0.0
    /// Playout delay while audio flows (how long a sample waits in the buffer), the mean
    /// and the largest, milliseconds.
    public var delayMilliseconds = 0.0
    public var maximumDelayMilliseconds = 0.0
    /// 10 ms dropped (the sender runs fast) or inserted (slow, or the buffer grew).
    public var dropped10ms = 0
    public var stretched10ms = 0
    public var resyncs = 0
}

/// An adaptive jitter buffer for 8 kHz audio, by RTP timestamp: reorders, drops duplicates
/// and late packets, conceals what is missing (the last audio, fading out over 60 ms), and
/// follows clock drift and jitter by dropping or stretching 10 ms at a time. Sans-IO; one
/// writer (the network) and one reader (the audio period) behind the caller's lock.
public struct JitterBuffer: Sendable {
    static let capacity = 16_000          // 2 s of samples
    static let block = 80                 // 10 ms
    public let settings: JitterBufferSettings
    var ring: [Int16]
    var filled: [Bool]
    /// Blocks holding audio rebuilt from FEC: the packet itself, should it come after all,
    /// replaces it (and is no duplicate).
    var rebuilt: [Bool]
    var started = false
    var playTS: Int64 = 0
    var highestTS: Int64 = 0
    var lastExtTS: Int64 = 0
    var targetDelay: Int
    let minDelay: Int, maxDelay: Int
    var last: [Int16]
    var concealRun = 0
    var startTS: Int64 = 0
    var origin: Int64 = 0
    var lastLength = 160
    var windowPulls = 0
    var windowMinDepth = Int.max
    var pullsSinceInsert = 0
    var delaySum = 0.0
    var delayCount = 0
    var jitter = 0.0
    var lastTransit: Int64?
    // Sequence tracking (RFC 3550 A.1, simplified).
    var baseSeq: Int64 = 0
    var maxSeq: Int64 = 0
    var lastSeq16: UInt16 = 0
    public private(set) var statistics = ReceiveStatistics()
    /// Fax or modem data (see ``switchToData()``).
    public private(set) var carriesData = false

    public init(settings: JitterBufferSettings = JitterBufferSettings()) {
        self.settings = settings
        ring = [Int16](repeating: 0, count: Self.capacity)
        filled = [Bool](repeating: false, count: Self.capacity / Self.block)
        rebuilt = filled
        minDelay = Int(settings.minimumDelay.nanoseconds / 125_000)
        maxDelay = max(Int(settings.maximumDelay.nanoseconds / 125_000), Int(settings.minimumDelay.nanoseconds / 125_000))
        targetDelay = minDelay
        last = [Int16](repeating: 0, count: Self.block)
    }

    /// The call carries a fax or a modem from here on. The delay grows once, now — during the
    /// tone that revealed the data, before any training — to the fixed ``JitterBufferSettings/dataDelay``
    /// (or stays, if it is already longer), and then stays: no 10 ms dropped or stretched to
    /// follow the network, since a demodulator's timing must not jump. A missing packet is
    /// silence, not the last audio repeated (a repeated piece of carrier misleads a
    /// demodulator more than a gap does).
    public mutating func switchToData() {
        guard !carriesData else { return }
        carriesData = true
        let fixed = (Int(settings.dataDelay.nanoseconds / 125_000) + Self.block - 1) / Self.block * Self.block
        guard fixed > targetDelay else { return }
        // Played blocks are no longer marked filled: the playout point moved back plays the
        // added delay as one gap.
        if started { playTS -= Int64(fixed - targetDelay) }
        targetDelay = fixed
    }

    /// The sender started a new stream (a new SSRC, RFC 3550 §8.2 — a far end that
    /// reconnected its audio after hold, a three-way call, a transfer): its sequence numbers
    /// and timestamps start afresh, so the buffer does too; the statistics go on.
    public mutating func restart() {
        started = false
        for i in filled.indices { filled[i] = false }
        lastTransit = nil
        statistics.resyncs += 1
    }

    /// A packet's decoded audio arrived.
    public mutating func insert(sequence: UInt16, timestamp: UInt32, samples: UnsafeBufferPointer<Int16>, arrival: Instant) {
        let n = samples.count
        guard n > 0, n <= 1600 else { return }
        statistics.packetsReceived += 1
        // Extend the 32-bit timestamp and the 16-bit sequence number; timestamps are kept
        // relative to the stream's first (senders start at a random value).
        let absolute: Int64
        if !started {
            absolute = Int64(timestamp)
            origin = absolute
            lastExtTS = absolute
            playTS = -Int64(targetDelay)
            highestTS = 0
            startTS = 0
            baseSeq = Int64(sequence)
            maxSeq = Int64(sequence)
            lastSeq16 = sequence
            started = true
        } else {
            absolute = lastExtTS + Int64(Int32(bitPattern: timestamp &- UInt32(truncatingIfNeeded: lastExtTS)))
            lastExtTS = max(lastExtTS, absolute)
            let seqDelta = Int64(Int16(bitPattern: sequence &- lastSeq16))
            if seqDelta > 0 {
                maxSeq += seqDelta
                lastSeq16 = sequence
            }
        }
        let ext = absolute - origin
        // Interarrival jitter in timestamp units (RFC 3550 A.8).
        let arrivalTS = arrival.nanoseconds / 125_000
        let transit = arrivalTS - ext
        if let lt = lastTransit {
            let d = Double(abs(transit - lt))
            jitter += (d - jitter) / 16
        }
        lastTransit = transit
        statistics.jitterMilliseconds = jitter / 8
        // Adapt the target delay to the jitter seen (about three times the mean deviation);
        // data keeps its fixed delay.
        if !carriesData { targetDelay = min(maxDelay, max(minDelay, Int(3 * jitter) + Self.block)) }

        lastLength = n
        pullsSinceInsert = 0
        if highestTS <= playTS, ext > playTS + Int64(targetDelay) {
            // The buffer ran dry (a pause, or a slow sender): start the new audio after the
            // target delay rather than after the whole gap.
            playTS = ext - Int64(targetDelay)
            startTS = max(startTS, playTS)
        }
        if ext + Int64(n) <= playTS {
            statistics.late += 1
            return
        }
        if ext >= playTS + Int64(Self.capacity) - Int64(n) || ext + Int64(Self.capacity) < highestTS {
            // Far outside the window (a jump in the sender's timestamps): start again there.
            statistics.resyncs += 1
            for i in filled.indices { filled[i] = false }
            playTS = ext - Int64(targetDelay)
            highestTS = ext
        }
        let firstBlock = Int(((ext % Int64(Self.capacity)) + Int64(Self.capacity)) % Int64(Self.capacity)) / Self.block
        if ext % Int64(Self.block) == 0, filled[firstBlock], !rebuilt[firstBlock] {
            statistics.duplicates += 1
            statistics.packetsReceived -= 1
            return
        }
        var i = 0
        while i < n {
            let ts = ext + Int64(i)
            if ts >= playTS {
                let pos = Int(((ts % Int64(Self.capacity)) + Int64(Self.capacity)) % Int64(Self.capacity))
                ring[pos] = samples[i]
                if (ts + 1) % Int64(Self.block) == 0 {
                    filled[pos / Self.block] = true
                    rebuilt[pos / Self.block] = false
                }
            }
            i += 1
        }
        highestTS = max(highestTS, ext + Int64(n))
        let expected = maxSeq - baseSeq + 1
        // RFC 3550 A.3: the cumulative loss a report carries is a signed 24-bit number.
        statistics.packetsLost = min(0x7F_FFFF, max(0, Int(clamping: expected) - statistics.packetsReceived))
    }

    /// A packet of the stream that carries no audio for the buffer (an RFC 4733 event): it
    /// took a sequence number, so it counts as received (RFC 3550 A.3), not as a gap.
    public mutating func countReceived(sequence: UInt16) {
        guard started else { return }
        statistics.packetsReceived += 1
        let seqDelta = Int64(Int16(bitPattern: sequence &- lastSeq16))
        if seqDelta > 0 {
            maxSeq += seqDelta
            lastSeq16 = sequence
        }
        statistics.packetsLost = min(0x7F_FFFF, max(0, Int(clamping: maxSeq - baseSeq + 1) - statistics.packetsReceived))
    }

    /// Audio rebuilt for packets that were lost (from the FEC of the packet after them, about
    /// to be inserted): in the buffer where it is still in time, not counted as received; the
    /// lost packets themselves stay counted as lost. The last block in time counts a frame
    /// recovered.
    public mutating func insertRecovered(timestamp: UInt32, samples: UnsafeBufferPointer<Int16>) {
        let n = samples.count
        guard started, n > 0, n <= 1600 else { return }
        let ext = lastExtTS + Int64(Int32(bitPattern: timestamp &- UInt32(truncatingIfNeeded: lastExtTS))) - origin
        guard ext + Int64(n) > playTS, ext + Int64(n) < playTS + Int64(Self.capacity) else { return }
        var inTime = false
        for i in 0..<n {
            let ts = ext + Int64(i)
            guard ts >= playTS else { continue }
            let pos = Int(((ts % Int64(Self.capacity)) + Int64(Self.capacity)) % Int64(Self.capacity))
            ring[pos] = samples[i]
            if (ts + 1) % Int64(Self.block) == 0, ts + 1 - Int64(Self.block) >= playTS {
                filled[pos / Self.block] = true
                rebuilt[pos / Self.block] = true
                inTime = true
            }
        }
        highestTS = max(highestTS, ext + Int64(n))
        if inTime { statistics.recoveredFrames += 1 }
    }

    /// One playout period (a multiple of 10 ms); returns whether anything was concealed.
    @discardableResult
    public mutating func pull(into out: UnsafeMutableBufferPointer<Int16>) -> Bool {
        guard started else {
            out.update(repeating: 0)
            return false
        }
        // Drift and jitter: when the buffer held more than the target for a whole second,
        // drop 10 ms (it grew: a fast sender, or jitter that has calmed down).
        windowMinDepth = min(windowMinDepth, Int(highestTS - playTS))
        windowPulls += 1
        if windowPulls >= 50 {
            if !carriesData && windowMinDepth > targetDelay + 2 * Self.block {
                skipBlock()
                statistics.dropped10ms += 1
            }
            windowPulls = 0
            windowMinDepth = Int.max
        }
        var concealed = false
        var written = 0
        while written + Self.block <= out.count {
            let dst = UnsafeMutableBufferPointer(rebasing: out[written..<(written + Self.block)])
            let depth = Int(highestTS - playTS)
            if playTS + Int64(Self.block) <= startTS {
                // Before the first audio: the initial delay, silence.
                dst.update(repeating: 0)
                playTS += Int64(Self.block)
            } else if readBlock(into: dst) {
                concealRun = 0
            } else if depth <= 0 {
                // Nothing buffered: wait (the playout point stays) with concealment; audio
                // that comes late still fits.
                conceal(dst)
                statistics.stretched10ms += 1
            } else {
                concealed = true
                conceal(dst)
                skipBlock()
            }
            written += Self.block
        }
        statistics.playedFrames += 1
        if concealed { statistics.concealedFrames += 1 }
        pullsSinceInsert += 1
        let depth = Int(highestTS - playTS)
        if depth > 0, pullsSinceInsert <= 2 {
            // The newest packet's first sample waits this long before it is played.
            let d = Double(max(0, depth - lastLength)) / 8
            delaySum += d
            delayCount += 1
            statistics.delayMilliseconds = delaySum / Double(delayCount)
            statistics.maximumDelayMilliseconds = max(statistics.maximumDelayMilliseconds, d)
        }
        return concealed
    }

    /// Copies the block at the playout point if it arrived, and advances.
    mutating func readBlock(into dst: UnsafeMutableBufferPointer<Int16>) -> Bool {
        let pos = Int(((playTS % Int64(Self.capacity)) + Int64(Self.capacity)) % Int64(Self.capacity))
        let b = pos / Self.block
        guard pos % Self.block == 0, filled[b] else { return false }
        for i in 0..<Self.block {
            dst[i] = ring[pos + i]
            last[i] = dst[i]
        }
        filled[b] = false
        rebuilt[b] = false
        playTS += Int64(Self.block)
        return true
    }

    mutating func skipBlock() {
        let pos = Int(((playTS % Int64(Self.capacity)) + Int64(Self.capacity)) % Int64(Self.capacity))
        filled[pos / Self.block] = false
        rebuilt[pos / Self.block] = false
        playTS += Int64(Self.block)
    }

    /// The last 10 ms again, fading: -3 dB per block, silence after 60 ms.
    mutating func conceal(_ dst: UnsafeMutableBufferPointer<Int16>) {
        concealRun += 1
        if carriesData {
            dst.update(repeating: 0)
            return
        }
        let gain: Int32 = concealRun > 6 ? 0 : 725  // ≈ −3 dB per 10 ms
        for i in 0..<Self.block {
            let v = Int32(last[i]) * gain / 1024
            dst[i] = Int16(truncatingIfNeeded: v)  // |v| ≤ |last| · 725/1024
            last[i] = dst[i]
        }
    }
}
