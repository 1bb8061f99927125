public import TipRingCore
public import PortAudio
public import SIPCore
public import SIPAgent

/// A datagram socket for RTP or RTCP (real UDP, or the simulator's network).
public protocol MediaSocket: AnyObject {
    var localPort: Int { get }
    /// Datagrams with their source, on any thread.
    var onPacket: ((UnsafeRawBufferPointer, SIPNetworkAddress, Instant) -> Void)? { get set }
    func send(_ bytes: UnsafeRawBufferPointer, to: SIPNetworkAddress)
    /// Delivers what has arrived (sockets read by the audio period; others push by themselves).
    func poll()
    func close()
}

extension MediaSocket {
    public func poll() {}
}

/// Opens media sockets on exact local ports (nil when the port is taken).
public protocol MediaSocketFactory: AnyObject {
    func open(port: Int) -> (any MediaSocket)?
}

/// The media side of one port: allocates RTP/RTCP port pairs for the SDP, connects a call's
/// audio (a ``MediaBridge`` between the port's audio engine and the network) when the
/// controller asks, follows hold/resume and address changes, sends RFC 4733 digits, reports
/// received ones, sends RTCP every 5 s, and keeps each call's statistics. Symmetric RTP:
/// once the far end's packets arrive, ours go back to where they come from — only the far
/// end's, as ``RTPSourceScreen`` decides; a stranger's packets are dropped and counted.
public final class PortMedia: @unchecked Sendable {
    public let engine: AudioEngine
    let factory: any MediaSocketFactory
    let scheduler: any Scheduler
    var ports: ClosedRange<Int>
    public var settings: MediaSettings
    public let cname: String
    var sockets: [CallHandle: (rtp: any MediaSocket, rtcp: (any MediaSocket)?)] = [:]
    var sessions: [CallHandle: MediaSession] = [:]
    /// The calls whose audio is connected: one, or two in a three-way call (mixed by
    /// a ``ConferenceMixer``, then the engine's source), each with its bridge and its far end.
    var legs: [Leg] = []
    /// Two calls joined without the handset (a forward by a new call), and what runs them.
    var relayed: (legs: [Leg], relay: CallRelay)?
    var rtcpTimer: TimerHandle?
    /// Calls to connect once their SDP answer is known.
    var pendingConnect: [CallHandle] = []
    /// Each call's outgoing stream as it stood when its audio was disconnected: connected
    /// again, it goes on (same SSRC, sequence numbers on, timestamp advanced).
    var streams: [CallHandle: RTPStreamState] = [:]

    struct Leg {
        let call: CallHandle
        let bridge: MediaBridge
        let remote: Box
    }
    /// The last statistics of each recent call (kept after it ends, for status and history):
    /// the latest ``keptStatistics`` calls; older ones are dropped (a port runs for months).
    public private(set) var statistics: [CallHandle: CallStatistics] = [:]
    var statisticsOrder: [CallHandle] = []
    public static let keptStatistics = 50
    /// The far end's RFC 4733 digits.
    public var onDigit: ((CallHandle, Character) -> Void)?
    /// A call turned out to carry a fax or a modem (its tones heard on either path).
    public var onData: ((CallHandle) -> Void)?
    /// Bridges replaced for a new codec, whose mode their successors take on.
    var replaced: [CallHandle: MediaBridge] = [:]
    /// Whether the handset is sending a DTMF key (for in-band suppression).
    public var keyPresent: (() -> Bool)?
    /// The source the engine plays while a call is connected (a tone may replace it for a
    /// while; the hardware puts this back afterwards).
    public private(set) var source: (any AudioSource)?

    /// RTP and RTCP datagrams from strangers, dropped, over every call of this port (read on
    /// the control plane; the current call's count is kept by its screen, under its lock).
    public var droppedPackets: Int {
        droppedBefore + (legs + (relayed?.legs ?? [])).reduce(0) { n, leg in n + leg.remote.lock.withLock { leg.remote.screen.dropped } }
    }
    var droppedBefore = 0

    /// Where our packets go, and the screen that decides which of theirs are taken; shared
    /// by the socket's thread and the control plane.
    /// The far end of the connected call as the audio thread and the sockets see it: where to
    /// send, who may be heard, and whether sending is still allowed.
    final class Box: @unchecked Sendable {
        let lock = ConditionLock()
        var screen: RTPSourceScreen
        var sending = true
        /// The call's SRTP, when it is encrypted (a re-INVITE may re-key it).
        var srtp: SRTPChannel?
        /// Encryption was required and not agreed: nothing is sent or heard in clear.
        var blocked = false
        init(_ screen: RTPSourceScreen, session: MediaSession) {
            self.screen = screen
            rekey(session)
        }

        /// The session's keys (under the lock, or before the box is shared).
        func rekey(_ session: MediaSession) {
            if srtp?.keys != session.srtp { srtp = session.srtp.map(SRTPChannel.init) }
            blocked = session.encryptionRequired && session.srtp == nil
        }
        /// The latched source, or the SDP's address until one is latched.
        var value: SIPNetworkAddress { lock.withLock { screen.locked?.address ?? screen.expected } }

        /// Sends to the far end unless the call was disconnected. The audio thread may be in
        /// the middle of a period when the control plane disconnects; the lock makes
        /// ``stopSending()`` wait for a send under way, so none leaves after it returns (after
        /// the BYE, RFC 3261 §15: the session is over).
        func send(_ body: (SIPNetworkAddress) -> Void) {
            lock.withLock {
                guard sending, !blocked else { return }
                body(screen.locked?.address ?? screen.expected)
            }
        }

        /// An RTP (or RTCP) packet on its way out, protected when the call is encrypted.
        func send(_ packet: UnsafeRawBufferPointer, control: Bool = false, on socket: any MediaSocket, port: (SIPNetworkAddress) -> SIPNetworkAddress = { $0 }) {
            send { to in
                guard let srtp else { return socket.send(packet, to: port(to)) }
                if control { srtp.protectControl(packet) { socket.send($0, to: port(to)) } } else { srtp.protect(packet) { socket.send($0, to: port(to)) } }
            }
        }

        /// A packet from the network: screened (and for an encrypted call authenticated and
        /// decrypted before the source may latch), then handed on.
        func receive(_ packet: UnsafeRawBufferPointer, from source: SIPNetworkAddress, _ deliver: (UnsafeRawBufferPointer) -> Void) {
            let (channel, verdict, isBlocked) = lock.withLock { (srtp, screen.verdict(packet, from: source), blocked) }
            guard !isBlocked, verdict == .accept else {
                lock.withLock { screen.noteDropped() }
                return
            }
            guard let channel else {
                if lock.withLock({ screen.screen(packet, from: source) }) == .accept { deliver(packet) }
                return
            }
            let authentic = channel.unprotect(packet) { plain in
                if lock.withLock({ screen.screen(packet, from: source) }) == .accept { deliver(plain) }
            }
            if !authentic { lock.withLock { screen.noteDropped() } }
        }

        func receiveControl(_ packet: UnsafeRawBufferPointer, from source: SIPNetworkAddress, _ deliver: (UnsafeRawBufferPointer) -> Void) {
            let (channel, isBlocked) = lock.withLock { (srtp, blocked) }
            guard !isBlocked, lock.withLock({ screen.screenControl(from: source) }) == .accept else { return }
            guard let channel else { return deliver(packet) }
            channel.unprotect(packet, control: true, deliver)
        }

        func stopSending() { lock.withLock { sending = false } }
    }

    static func screen(for session: MediaSession) -> RTPSourceScreen {
        var types: Set<UInt8> = [UInt8(truncatingIfNeeded: session.codec.payloadType), 13]  // 13: comfort noise
        if let te = session.telephoneEvent { types.insert(UInt8(truncatingIfNeeded: te.payloadType)) }
        return RTPSourceScreen(expected: SIPNetworkAddress(session.remote.address, session.remote.port), payloadTypes: types)
    }

    public init(engine: AudioEngine, factory: any MediaSocketFactory, scheduler: any Scheduler, ports: ClosedRange<Int> = 16384...16482,
                settings: MediaSettings = MediaSettings(), cname: String) {
        self.engine = engine
        self.factory = factory
        self.scheduler = scheduler
        self.ports = ports
        self.settings = settings
        self.cname = cname
    }

    /// The local UDP port range for RTP (even) and RTCP (odd) of this port's calls.
    public func setPorts(_ range: ClosedRange<Int>) {
        ports = range
    }

    /// Hooks the user agent: its SDP ports come from here, its media updates and digits go here.
    public func attach(to ua: SIPUserAgent) {
        ua.mediaPort = { [weak self] h in self?.allocate(h) ?? 0 }
        ua.onMedia = { [weak self] h, session in self?.mediaChanged(h, session) }
        ua.onSendDigit = { [weak self] h, d, ms in self?.sendDigit(h, d, ms) }
        // A fax or modem crosses as G.711: the user agent re-offers it if another codec is in use.
        onData = { [weak ua] h in ua?.execute(.useVoicebandCodec(h)) }
    }

    /// An RTP/RTCP pair for a call's SDP (even RTP port, RTCP the next one), drawn at random
    /// from the range: a scanner cannot guess the next call's port from the last one.
    public func allocate(_ h: CallHandle) -> Int {
        if let s = sockets[h] { return s.rtp.localPort }
        let first = ports.lowerBound + (ports.lowerBound % 2)
        let count = max(0, (ports.upperBound - first + 1) / 2)  // even ports with room for RTCP
        guard count > 0 else { return 0 }
        let start = Int(SecureRandom.next() % UInt64(count))
        for k in 0..<count {
            let p = first + 2 * ((start + k) % count)
            guard let rtp = factory.open(port: p) else { continue }
            let rtcp = factory.open(port: p + 1)
            sockets[h] = (rtp, rtcp)
            return p
        }
        return 0  // no port free: the SDP says port 0 (no media) rather than failing the call
    }

    func mediaChanged(_ h: CallHandle, _ session: MediaSession?) {
        guard let session else {
            // The call is over (the port connects whoever remains).
            if legs.contains(where: { $0.call == h }) { disconnect() }
            if relayed?.legs.contains(where: { $0.call == h }) == true { relay(nil) }
            streams[h] = nil
            if let s = sockets.removeValue(forKey: h) {
                s.rtp.close()
                s.rtcp?.close()
            }
            sessions[h] = nil
            return
        }
        sessions[h] = session
        if let a = legs.first(where: { $0.call == h }), !a.bridge.format.isSameFormat(as: session.codec) {
            // Another codec (G.711 for a fax on an Opus call): a new bridge and a new stream
            // (its own SSRC: a new RTP clock), in the mode of the old one.
            let calls = legs.map(\.call)
            replaced[h] = a.bridge
            disconnect()
            streams[h] = nil
            connect(calls: calls)
            replaced[h] = nil
        } else if let r = relayed, let a = r.legs.first(where: { $0.call == h }), !a.bridge.format.isSameFormat(as: session.codec) {
            // The same for two calls joined without the handset.
            replaced[h] = a.bridge
            relay(nil)
            streams[h] = nil
            relay((r.legs[0].call, r.legs[1].call))
            replaced[h] = nil
        } else if let a = (legs + (relayed?.legs ?? [])).first(where: { $0.call == h }) {
            a.bridge.update(session)
            let fresh = Self.screen(for: session)
            a.remote.lock.withLock {
                a.remote.screen.update(expected: fresh.expected, payloadTypes: fresh.payloadTypes)
                a.remote.rekey(session)
            }
        } else if pendingConnect.contains(h) {
            connect(calls: pendingConnect)
        }
    }

    /// Connects a call's audio to the handset (nil: disconnects).
    public func connect(_ h: CallHandle?) {
        guard let h else { return disconnect() }
        connect(calls: [h])
    }

    /// Three-way: the handset and both calls, each hearing the other two.
    public func connectConference(_ first: CallHandle, _ second: CallHandle) {
        connect(calls: [first, second])
    }

    func connect(calls: [CallHandle]) {
        if legs.map(\.call) == calls { return }
        disconnect()
        guard calls.allSatisfy({ sessions[$0] != nil && sockets[$0] != nil }) else {
            pendingConnect = calls  // the SDP answer comes a moment later (late offer)
            return
        }
        legs = calls.compactMap(makeLeg)
        guard !legs.isEmpty else { return }
        let played: any AudioSource & AudioCaptureConsumer
        if legs.count == 2 {
            played = ConferenceMixer(legs[0].bridge, legs[1].bridge, echoCanceller: settings.echoCanceller)
        } else {
            played = legs[0].bridge
        }
        source = played
        engine.addConsumer(played)
        engine.setSource(played)
        if rtcpTimer == nil { scheduleRTCP() }
    }

    /// Joins two calls to each other without the handset (nil: parts them).
    public func relay(_ calls: (CallHandle, CallHandle)?) {
        if let r = relayed {
            engine.removeConsumer(r.relay)
            for a in r.legs { release(a) }
            relayed = nil
            if legs.isEmpty, let t = rtcpTimer {
                scheduler.cancel(t)
                rtcpTimer = nil
            }
        }
        guard let (first, second) = calls, let a = makeLeg(first), let b = makeLeg(second) else { return }
        let r = CallRelay(a.bridge, b.bridge)
        relayed = ([a, b], r)
        engine.addConsumer(r)
        if rtcpTimer == nil { scheduleRTCP() }
    }

    /// A leg's end: no more sending, its figures kept, its sockets quiet.
    func release(_ a: Leg) {
        a.remote.stopSending()
        keep(a.bridge.statistics, of: a.call)
        if sockets[a.call] != nil { streams[a.call] = a.bridge.streamState }
        sockets[a.call]?.rtp.onPacket = nil
        sockets[a.call]?.rtcp?.onPacket = nil
        droppedBefore += a.remote.lock.withLock { a.remote.screen.dropped }
    }

    /// A call's bridge, wired to its sockets.
    func makeLeg(_ h: CallHandle) -> Leg? {
        guard let session = sessions[h], let sock = sockets[h] else { return nil }
        let remote = Box(Self.screen(for: session), session: session)
        let rtpSocket = sock.rtp
        // The handset's echo comes back after the sound device's playback delay.
        var legSettings = settings
        legSettings.echoPathDelay = engine.playbackDelay
        let bridge = MediaBridge(session: session, settings: legSettings, continuing: streams[h], at: scheduler.now) { bytes in
            remote.send(bytes, on: rtpSocket)
        }
        bridge.keyPresent = keyPresent
        if let old = replaced[h] { bridge.carryOn(from: old) }
        bridge.onDigit = { [weak self] d in
            guard let self else { return }
            self.scheduler.execute { self.onDigit?(h, d) }
        }
        bridge.onData = { [weak self] in
            guard let self else { return }
            self.scheduler.execute { self.onData?(h) }
        }
        sock.rtp.onPacket = { bytes, from, at in
            // Symmetric RTP: answer to where the far end's packets come from — the far end only.
            remote.receive(bytes, from: from) { bridge.receive($0, at: at) }
        }
        sock.rtcp?.onPacket = { bytes, from, _ in
            remote.receiveControl(bytes, from: from) { bridge.receiveRTCP(Array($0)) }
        }
        let rtcpSocket = sock.rtcp
        bridge.beforePeriod = {
            rtpSocket.poll()
            rtcpSocket?.poll()
        }
        return Leg(call: h, bridge: bridge, remote: remote)
    }

    func scheduleRTCP() {
        guard !legs.isEmpty || relayed != nil else {
            rtcpTimer = nil
            return
        }
        rtcpTimer = scheduler.schedule(after: .seconds(5)) { [weak self] in
            guard let self else { return }
            for a in self.legs + (self.relayed?.legs ?? []) {
                guard let rtcp = self.sockets[a.call]?.rtcp else { continue }
                let report = a.bridge.rtcpReport(ntp: UInt64(max(0, self.scheduler.now.nanoseconds)) << 2, cname: self.cname)
                // RTCP goes to the RTP port + 1 (RFC 3550 §11); an RTP port of 65535 has none.
                if a.remote.value.port < 65535 {
                    report.withUnsafeBytes { a.remote.send($0, control: true, on: rtcp) { SIPNetworkAddress($0.host, $0.port + 1) } }
                }
            }
            self.scheduleRTCP()
        }
    }

    func disconnect() {
        pendingConnect = []
        guard !legs.isEmpty else { return }
        if relayed == nil, let t = rtcpTimer {
            scheduler.cancel(t)
            rtcpTimer = nil
        }
        if let played = source as? any AudioCaptureConsumer { engine.removeConsumer(played) }
        if let played = source, engine.currentSource === played { engine.setSource(nil) }
        for a in legs { release(a) }
        source = nil
        legs = []
    }

    func sendDigit(_ h: CallHandle, _ d: Character, _ ms: Int) {
        guard let a = legs.first(where: { $0.call == h }) else { return }
        // Without agreed events the digit already went in-band in the audio.
        if a.bridge.eventsAgreed { a.bridge.sendDigit(d, milliseconds: ms) }
    }

    func keep(_ s: CallStatistics, of call: CallHandle) {
        if statistics.updateValue(s, forKey: call) == nil { statisticsOrder.append(call) }
        while statisticsOrder.count > Self.keptStatistics { statistics[statisticsOrder.removeFirst()] = nil }
    }

    /// The statistics of the connected call now.
    public var current: CallStatistics? { legs.first?.bridge.statistics }
    public var connectedCall: CallHandle? { legs.first?.call }
    /// Every call whose audio is connected now (two in a three-way call).
    public var connectedCalls: [CallHandle] { legs.map(\.call) }
}
