public import TipRingCore
import TelephonyDSP
public import PortAudio
public import SIPCore

/// Per-call media settings (from the port's configuration).
public struct MediaSettings: Sendable, Hashable {
    /// Gains toward the network (handset → far end) and toward the handset, in dB.
    public var transmitGain: Double = 0
    public var receiveGain: Double = 0
    /// On by default; a 2100 Hz answer tone (fax, modem) switches it off by itself.
    public var echoCanceller = true
    /// How much later than it is played the handset's echo comes back, at least: the sound
    /// device's playback delay (the port sets it from its audio device; zero in a test).
    public var echoPathDelay: Duration = .zero
    public var jitter = JitterBufferSettings()
    public init() {}
}

extension MediaSettings {
    /// The echo canceller's bulk delay, in 8 kHz samples: the device's delay less the frame
    /// the canceller's far end lags by already (a period's capture is cleaned against what
    /// was played the period before it, the engine taking capture before playback).
    var echoBulkDelaySamples: Int {
        max(0, Int(min(echoPathDelay, .seconds(1)).nanoseconds / 125_000) - MediaBridge.frame)
    }
}

/// A call's figures for status displays.
public struct CallStatistics: Sendable, Hashable {
    public var codec: String
    public var packetsSent = 0
    public var packetsReceived = 0
    public var packetsLost = 0
    public var jitterMilliseconds = 0.0
    public var concealedFrames = 0
    public var playedFrames = 0
    public var duplicates = 0
    public var late = 0
    public var digitsSent = 0
    public var digitsReceived = 0
    public var seconds = 0.0
    /// What the far end reported about our stream (RTCP), if it did.
    public var remoteFractionLost: Double?
    public var remoteJitterMilliseconds: Double?
    /// The SRTP suite protecting the call, nil when it is in clear.
    public var encryption: String?
    /// What switched the call to fax/modem pass-through (the tone heard; a phase reversal
    /// heard later replaces it: the echo canceller is off from then on), nil for a voice call.
    public var passThrough: String?
    /// Payload bytes sent, and received in the codec's packets (RTP headers not counted).
    public var payloadOctetsSent = 0
    public var payloadOctetsReceived = 0
    /// Frames not sent because they were silence (Opus DTX).
    public var silentFrames = 0
    /// Lost frames rebuilt from in-band FEC in time (Opus), and the far end's pauses in
    /// sending (its DTX: gaps with no packet missing, not loss).
    public var recoveredFrames = 0
    public var silentPauses = 0
    /// Why the call has no audio though it is connected (the codec could not be made).
    public var codecFault: String?

    public init(codec: String) { self.codec = codec }
}

/// Where a call's outgoing RTP stream stands: its SSRC, the next sequence number and the
/// timestamp of the next frame, at an instant. A call whose audio is connected again (after
/// hold, a swap, a three-way call) goes on with the same stream — the timestamp advanced by
/// the time between (RFC 3550 §5.1) — so the far end's jitter buffer sees a pause, not a
/// stranger.
public struct RTPStreamState: Sendable, Hashable {
    public var ssrc: UInt32
    public var sequence: UInt16
    public var timestamp: UInt32
    public var at: Instant

    /// The same stream, `now`: the timestamp moved on by the samples of the time elapsed, on
    /// the codec's RTP clock.
    public func resumed(at now: Instant, clockRate: Int = 8000) -> RTPStreamState {
        let elapsed = max(0, (now - at).nanoseconds / 1_000_000 * Int64(clockRate) / 1000)
        return RTPStreamState(ssrc: ssrc, sequence: sequence, timestamp: timestamp &+ UInt32(truncatingIfNeeded: elapsed), at: now)
    }
}

/// The audio of one call on a port: it is the port engine's playback source (RTP → decoder →
/// jitter buffer → gain) and one of its capture consumers (echo canceller → gain → encoder →
/// RTP, 20 ms packets; RFC 4733 events in place of audio while a digit is sent, the in-band
/// digit kept out of the audio). The codec is G.711 or Opus (``VoiceCodec``). No allocation
/// per frame.
public final class MediaBridge: AudioSource, AudioCaptureConsumer, @unchecked Sendable {
    public static let frame = 160
    let lock = ConditionLock()
    var session: MediaSession
    let settings: MediaSettings
    let codec: VoiceCodec
    /// RTP timestamp units per 8 kHz sample: 1, or 6 for Opus's 48 kHz clock.
    let clockRatio: Int
    /// An Opus stream's receive side (FEC, DTX pauses), nil for G.711.
    var opusReceiver: OpusReceiver?
    let ssrc: UInt32
    let start: Instant
    var sequence: UInt16
    var timestamp: UInt32
    var firstPacket = true
    var echo: EchoCanceller
    var jitter: JitterBuffer
    var events = TelephoneEventReceiver()
    var digitQueue: [(Character, Int)] = []
    var eventSender: TelephoneEventSender?
    let txGain: Int32, rxGain: Int32
    // Buffers, allocated once.
    var captureFrame: [Int16]
    var captureFill = 0
    var cleaned: [Int16]
    var played: [Int16]
    var playedFill = 0
    var packet: [UInt8]
    var decoded: [Int16]
    var rendered: [Int16]
    var renderFill = 0
    let send: (UnsafeRawBufferPointer) -> Void
    var stats: CallStatistics
    var octetsSent: UInt32 = 0
    var suppressing = false
    /// The far end's stream (a new one restarts the jitter buffer).
    var remoteSSRC: UInt32?
    /// Fax and modem tones, listened for on both paths. Any of them passes the call through
    /// as it comes: gains at 0 dB, the jitter buffer's delay fixed and no concealment (G.711
    /// is the only codec here, so no re-INVITE). The echo canceller stays, as G.168 has it,
    /// until an answer tone's phase reversal: a V.34 or V.90 modem cancels its own echo and
    /// asks the network to stop, while a G3 fax (CNG, CED without reversals, V.21) is half
    /// duplex and counts on the network's echo control — without it a fax hears its own
    /// frames come back a round trip later and takes them for the far end's. V.21 flags on
    /// the line's path only: whichever side called, the local fax sends them too.
    var lineTones = ModemToneDetector(), networkTones = ModemToneDetector(listensForV21: false)
    var carriesData = false
    /// An answer tone's phase reversal was heard: no echo canceller for the rest of the call,
    /// and nothing more to listen for.
    var echoCancellerDisabled = false
    /// The share of our packets the far end last reported lost (RTCP, under the lock), for the
    /// encoder to size its FEC on the audio thread (libopus is not to be called from two).
    var farEndLoss: Double?
    /// Our stream after the last frame, for the control plane (under the lock).
    var published: (sequence: UInt16, timestamp: UInt32, at: Instant)

    /// A digit received as RFC 4733 events (reported once per event).
    public var onDigit: ((Character) -> Void)?
    /// The call turned out to carry a fax or a modem (once, from the audio thread).
    public var onData: (() -> Void)?
    /// The codec this bridge codes (a new codec needs a new bridge).
    public let format: PayloadFormat
    /// Whether the handset is sending a DTMF key now (from the port's keypad detector):
    /// while it is and events are agreed, the audio is kept back.
    public var keyPresent: (() -> Bool)?
    /// Run at the start of each capture period (a polled socket reads what arrived).
    public var beforePeriod: (() -> Void)?
    /// Whether this bridge cancels the handset's echo itself; off when a ``ConferenceMixer``
    /// feeds it audio it has cleaned already (set before the bridge is in use).
    public var cancelsEcho: Bool

    /// `continuing`: the call's stream as it stood when its audio was last connected (else a
    /// new one: random SSRC, sequence number and timestamp, RFC 3550 §5.1).
    public init(session: MediaSession, settings: MediaSettings = MediaSettings(), continuing stream: RTPStreamState? = nil, at start: Instant,
                send: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.session = session
        self.settings = settings
        codec = VoiceCodec(session.codec)
        format = session.codec
        clockRatio = codec.clockRatio
        if case .opus(_, let decoder) = codec { opusReceiver = OpusReceiver(decoder: decoder) }
        let resumed = stream?.resumed(at: start, clockRate: 8000 * clockRatio)
        ssrc = resumed?.ssrc ?? SecureRandom.bits(UInt32.self)
        self.start = start
        sequence = resumed?.sequence ?? SecureRandom.bits(UInt16.self)
        timestamp = resumed?.timestamp ?? SecureRandom.bits(UInt32.self)
        published = (sequence, timestamp, start)
        jitter = JitterBuffer(settings: settings.jitter)
        echo = EchoCanceller(bulkDelaySamples: settings.echoBulkDelaySamples)
        txGain = Int32(clamping: Int64(saturating: (pow10(settings.transmitGain / 20) * 4096).rounded()))
        rxGain = Int32(clamping: Int64(saturating: (pow10(settings.receiveGain / 20) * 4096).rounded()))
        captureFrame = [Int16](repeating: 0, count: Self.frame)
        cleaned = [Int16](repeating: 0, count: Self.frame)
        played = [Int16](repeating: 0, count: Self.frame)
        packet = [UInt8](repeating: 0, count: 12 + Self.largestPayload)
        decoded = [Int16](repeating: 0, count: 1600)
        rendered = [Int16](repeating: 0, count: Self.frame)
        self.send = send
        cancelsEcho = settings.echoCanceller
        stats = CallStatistics(codec: session.codec.name)
        if case .unavailable(let reason) = codec { stats.codecFault = reason }
    }

    /// The largest payload a frame is encoded into: Opus's largest packet (RFC 6716 §3.4).
    static let largestPayload = 1275

    /// A new stream with this SSRC (random sequence number and timestamp).
    public convenience init(session: MediaSession, settings: MediaSettings = MediaSettings(), ssrc: UInt32, at start: Instant,
                            send: @escaping (UnsafeRawBufferPointer) -> Void) {
        let stream = RTPStreamState(ssrc: ssrc, sequence: SecureRandom.bits(UInt16.self), timestamp: SecureRandom.bits(UInt32.self), at: start)
        self.init(session: session, settings: settings, continuing: stream, at: start, send: send)
    }

    /// The call's media changed (hold, resume, new address: the transport takes the address).
    public func update(_ s: MediaSession) { lock.withLock { session = s } }

    public var statistics: CallStatistics {
        lock.withLock {
            var s = stats
            s.encryption = session.srtp?.send.suite.rawValue
            let r = jitter.statistics
            s.packetsReceived = r.packetsReceived
            s.packetsLost = r.packetsLost
            s.jitterMilliseconds = r.jitterMilliseconds
            s.concealedFrames = r.concealedFrames
            s.playedFrames = r.playedFrames
            s.duplicates = r.duplicates
            s.late = r.late
            s.recoveredFrames = r.recoveredFrames
            s.silentPauses = opusReceiver?.silentPauses ?? 0
            return s
        }
    }

    public var receiveStatistics: ReceiveStatistics { lock.withLock { jitter.statistics } }

    /// Sends a digit: RFC 4733 events when agreed (otherwise the caller plays it in-band).
    public func sendDigit(_ digit: Character, milliseconds: Int) {
        lock.withLock { digitQueue.append((digit, milliseconds)) }
    }

    public var eventsAgreed: Bool { lock.withLock { session.telephoneEvent != nil } }

    /// Where our stream stands (to continue it when the call's audio is connected again).
    public var streamState: RTPStreamState {
        lock.withLock { RTPStreamState(ssrc: ssrc, sequence: published.sequence, timestamp: published.timestamp, at: published.at) }
    }

    // MARK: capture → network

    public func consume(_ frame: UnsafeBufferPointer<Int16>, at time: Instant) {
        beforePeriod?()
        var i = 0
        while i < frame.count {
            let n = min(Self.frame - captureFill, frame.count - i)
            for k in 0..<n { captureFrame[captureFill + k] = frame[i + k] }
            captureFill += n
            i += n
            if captureFill == Self.frame {
                captureFill = 0
                sendFrame(at: time)
            }
        }
    }

    func sendFrame(at time: Instant) {
        lock.lock()
        let s = session
        let loss = farEndLoss
        farEndLoss = nil
        // A fax or modem call has no keys: what the keypad receiver makes of its signals is
        // neither sent as events nor cut out of the audio.
        if eventSender == nil, !digitQueue.isEmpty, let te = s.telephoneEvent, !carriesData {
            let (d, ms) = digitQueue.removeFirst()
            eventSender = TelephoneEventSender(digit: d, milliseconds: ms, timestamp: timestamp, clockRate: te.clockRate)
            stats.digitsSent += 1
        } else if s.telephoneEvent == nil || carriesData {
            digitQueue.removeAll()
        }
        lock.unlock()
        if let loss, case .opus(let encoder, _) = codec { encoder.farEndLost(fraction: loss) }
        if !echoCancellerDisabled { captureFrame.withUnsafeBufferPointer { lineTones.process($0) { heard($0) } } }
        // Echo cancelling against what the handset was played, then the transmit gain.
        captureFrame.withUnsafeBufferPointer { near in
            played.withUnsafeBufferPointer { far in
                cleaned.withUnsafeMutableBufferPointer { out in
                    if cancelsEcho && !echoCancellerDisabled {
                        echo.process(farEnd: far, nearEnd: near, into: out)
                    } else {
                        for k in 0..<Self.frame { out[k] = near[k] }
                    }
                }
            }
        }
        if txGain != 4096 && !carriesData {
            for k in 0..<Self.frame { cleaned[k] = Self.saturate((Int32(cleaned[k]) * txGain) >> 12) }
        }
        let keyNow = !carriesData && (keyPresent?() ?? false)
        if s.telephoneEvent != nil && (keyNow || eventSender != nil) {
            // The digit travels as events; keep its tone out of the audio.
            for k in 0..<Self.frame { cleaned[k] = 0 }
            suppressing = true
        }
        defer {
            timestamp &+= UInt32(truncatingIfNeeded: Self.frame * clockRatio)
            lock.withLock { published = (sequence, timestamp, time) }
        }
        guard s.sending else { return }
        if var ev = eventSender, let te = s.telephoneEvent, let next = ev.next() {
            eventSender = ev.isFinished ? nil : ev
            transmit(payloadType: UInt8(truncatingIfNeeded: te.payloadType), marker: next.marker, timestamp: ev.timestamp, payload: next.payload)
            if ev.isFinished { firstPacket = true }  // audio after the event starts a talkspurt
            return
        }
        if suppressing && !keyNow { suppressing = false }
        let length = packet.withUnsafeMutableBytes { raw in
            let n = cleaned.withUnsafeBufferPointer { pcm in codec.encode(pcm, into: UnsafeMutableRawBufferPointer(rebasing: raw[12...])) }
            guard n > 0 else { return 0 }
            RTPPacket.writeHeader(into: raw, payloadType: UInt8(truncatingIfNeeded: s.codec.payloadType), marker: firstPacket, sequence: sequence, timestamp: timestamp, ssrc: ssrc)
            send(UnsafeRawBufferPointer(rebasing: raw[0..<(12 + n)]))
            return n
        }
        guard length > 0 else {
            // Nothing to send (Opus DTX in silence): the next packet starts a talkspurt
            // (marker, RFC 3551 §4.1); the sequence number stays, the timestamp moves on.
            firstPacket = true
            stats.silentFrames += 1
            return
        }
        firstPacket = false
        sequence &+= 1
        stats.packetsSent += 1
        stats.payloadOctetsSent += length
        octetsSent &+= UInt32(truncatingIfNeeded: length)
    }

    func transmit(payloadType: UInt8, marker: Bool, timestamp ts: UInt32, payload: [UInt8]) {
        var bytes = [UInt8](repeating: 0, count: 12 + payload.count)
        bytes.withUnsafeMutableBytes { RTPPacket.writeHeader(into: $0, payloadType: payloadType, marker: marker, sequence: sequence, timestamp: ts, ssrc: ssrc) }
        for (k, b) in payload.enumerated() { bytes[12 + k] = b }
        bytes.withUnsafeBytes { send($0) }
        sequence &+= 1
        stats.packetsSent += 1
    }

    // MARK: network → handset

    /// A datagram from the far end.
    public func receive(_ bytes: UnsafeRawBufferPointer, at time: Instant) {
        guard let h = try? RTPPacket.header(bytes) else { return }
        lock.lock()
        let s = session
        if let te = s.telephoneEvent, h.payloadType == UInt8(truncatingIfNeeded: te.payloadType) {
            let d = events.receive(timestamp: h.timestamp, payload: Array(bytes[h.payload]))  // only while a key is sent
            if d != nil { stats.digitsReceived += 1 }
            if remoteSSRC == h.ssrc { jitter.countReceived(sequence: h.sequence) }
            lock.unlock()
            if let d { onDigit?(d) }
            return
        }
        guard h.payloadType == UInt8(truncatingIfNeeded: s.codec.payloadType), s.receiving, !h.payload.isEmpty else {
            lock.unlock()
            return
        }
        stats.payloadOctetsReceived += h.payload.count
        if let known = remoteSSRC, known != h.ssrc {
            jitter.restart()
            opusReceiver?.restart()
        }
        remoteSSRC = h.ssrc
        // Decoded straight from the datagram into the buffer allocated once.
        let n = min(h.payload.count, decoded.count)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[h.payload.lowerBound..<(h.payload.lowerBound + n)]).assumingMemoryBound(to: UInt8.self)
        decoded.withUnsafeMutableBufferPointer { dst in
            switch codec {
            case .g711(let law):
                G711.decode(law, payload, into: UnsafeMutableBufferPointer(rebasing: dst[0..<n]))
                jitter.insert(sequence: h.sequence, timestamp: h.timestamp, samples: UnsafeBufferPointer(rebasing: dst[0..<n]), arrival: time)
            case .opus:
                opusReceiver?.receive(sequence: h.sequence, timestamp: h.timestamp, payload: payload, arrival: time, into: &jitter, scratch: dst)
            case .unavailable:
                break
            }
        }
        lock.unlock()
    }

    public func render(into out: UnsafeMutableBufferPointer<Int16>, at time: Instant) {
        var i = 0
        while i < out.count {
            if renderFill == 0 {
                lock.lock()
                rendered.withUnsafeMutableBufferPointer { _ = jitter.pull(into: $0) }
                lock.unlock()
                if !echoCancellerDisabled { rendered.withUnsafeBufferPointer { networkTones.process($0) { heard($0) } } }
                if rxGain != 4096 && !carriesData {
                    for k in 0..<Self.frame { rendered[k] = Self.saturate((Int32(rendered[k]) * rxGain) >> 12) }
                }
            }
            let n = min(Self.frame - renderFill, out.count - i)
            for k in 0..<n {
                out[i + k] = rendered[renderFill + k]
                played[(playedFill + k) % Self.frame] = rendered[renderFill + k]
            }
            playedFill = (playedFill + n) % Self.frame
            renderFill = (renderFill + n) % Self.frame
            i += n
        }
        stats.seconds = Double((time - start).nanoseconds) / 1e9
    }

    /// A fax or modem tone on either path: the call is data from now on; a phase reversal
    /// also ends echo cancelling.
    func heard(_ tone: ModemToneDetector.Event) {
        if tone == .answerPhaseReversal { echoCancellerDisabled = true }
        guard !carriesData || tone == .answerPhaseReversal else { return }
        let first = !carriesData
        carriesData = true
        lock.withLock {
            jitter.switchToData()
            stats.passThrough = "\(tone)"
        }
        if first { onData?() }
    }

    /// This bridge replaces `old` in the same call (the codec changed: G.711 for a fax on an
    /// Opus call) and goes on in its mode: a data call stays one. Before it is in use.
    public func carryOn(from old: MediaBridge) {
        let reason = old.statistics.passThrough
        guard old.carriesData, let reason else { return }
        carriesData = true
        echoCancellerDisabled = old.echoCancellerDisabled
        lock.withLock {
            jitter.switchToData()
            stats.passThrough = reason
        }
    }

    // MARK: RTCP

    /// A compound SR/RR for the far end (every 5 s or so).
    public func rtcpReport(ntp: UInt64, cname: String) -> [UInt8] {
        lock.withLock {
            let r = jitter.statistics
            var block: RTCP.ReportBlock?
            if r.packetsReceived > 0 {
                let expected = r.packetsReceived + r.packetsLost
                let fraction = expected == 0 ? 0 : UInt8(clamping: r.packetsLost * 256 / expected)
                // Interarrival jitter in timestamp units (the codec's clock), finite and within 32 bits.
                let jitterUnits = r.jitterMilliseconds.isFinite ? min(max(0, r.jitterMilliseconds * Double(8 * clockRatio)), Double(UInt32.max)) : 0
                block = RTCP.ReportBlock(ssrc: 0, fractionLost: fraction, cumulativeLost: Int32(clamping: r.packetsLost),
                                         highestSequence: UInt32(truncatingIfNeeded: jitter.maxSeq), jitter: UInt32(clamping: Int64(saturating: jitterUnits)))
            }
            let sender = stats.packetsSent > 0 ? RTCP.SenderInfo(ntp: ntp, rtpTimestamp: timestamp, packets: UInt32(truncatingIfNeeded: stats.packetsSent), octets: octetsSent) : nil
            return RTCP.compound(ssrc: ssrc, sender: sender, block: block, cname: cname)
        }
    }

    /// The far end's report on our stream.
    public func receiveRTCP(_ bytes: [UInt8]) {
        guard let r = RTCP.parse(bytes), let b = r.blocks.first(where: { $0.ssrc == ssrc || $0.ssrc == 0 }) else { return }
        lock.withLock {
            stats.remoteFractionLost = Double(b.fractionLost) / 256
            stats.remoteJitterMilliseconds = Double(b.jitter) / Double(8 * clockRatio)
            // Opus sizes its FEC to the loss the far end sees.
            farEndLoss = Double(b.fractionLost) / 256
        }
    }

    static func saturate(_ v: Int32) -> Int16 { Int16(clamping: v) }
}

func pow10(_ x: Double) -> Double {
    // 10^x without Foundation: e^(x·ln 10) by the standard library's exp.
    var result = 1.0, term = 1.0
    let y = x * 2.302585092994046
    for n in 1..<40 {
        term *= y / Double(n)
        result += term
    }
    return result
}
