// Media cost per call, and the most calls one core carries with no late frame; then a
// TipRing port in a real call with baresip (Debian), both processes' CPU per call-second.
// Run: `swift run -c release MediaBenchmark` (prints figures; asserts nothing).
#if canImport(Glibc)
import Glibc
#endif
import BenchmarkSupport
import CSRTP
import LineHAL
import PortAudio
import NIOPosix
import PortControl
import RTPMedia
import SIPCore
import SIPTransport
import TelephonyDSP
import SimulatorApp
import TipRingCore
import SystemCalls
import PortStack

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A UDP socket on 127.0.0.1 (non-blocking), for calls over the real loopback.
final class LoopbackSocket {
    let fd: Int32
    let port: UInt16
    init() {
        (fd, port) = loopbackUDPSocket()
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4))
    }
    func send(_ bytes: UnsafeRawBufferPointer, to port: UInt16) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
}

/// One port's media in a call: its audio engine (keypad detector + bridge) and socket.
final class Leg {
    let engine = AudioEngine()
    let socket = LoopbackSocket()
    var bridge: MediaBridge!
    var peer: UInt16 = 0
    let capture = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
    let playback = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
    var receiveBuffer = [UInt8](repeating: 0, count: 2048)
    var synth: ToneSynthesizer

    init(frequency: Int, ssrc: UInt32) {
        let local = SessionDescription(address: "127.0.0.1", port: 4000, formats: [.pcmu, .telephoneEvent])
        let session = MediaSession(local: local, remote: local, codec: .pcmu, telephoneEvent: .telephoneEvent, sending: true, receiving: true)
        synth = ToneSynthesizer(try! Tone("\(frequency)", level: -16))
        bridge = MediaBridge(session: session, ssrc: ssrc, at: .zero) { [unowned self] bytes in self.socket.send(bytes, to: self.peer) }
        let keypad = DTMFReceiver { _, _ in }
        engine.addConsumer(keypad)
        engine.addConsumer(bridge)
        engine.setSource(bridge)
    }

    func period(at t: Instant) {
        // Network in (everything queued), then one 20 ms period of the port's audio.
        while true {
            let n = receiveBuffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            receiveBuffer.withUnsafeBytes { bridge.receive(UnsafeRawBufferPointer(rebasing: $0[0..<n]), at: t) }
        }
        synth.render(into: capture)
        engine.processPeriod(capture: UnsafeBufferPointer(capture), playback: playback, at: t)
    }
}

/// `calls` calls (two legs each) for `periods` periods of 20 ms on this thread: CPU seconds
/// and the slowest period.
func runCalls(_ calls: Int, periods: Int) -> (cpu: Double, worst: Double) {
    var legs: [Leg] = []
    for i in 0..<calls {
        let a = Leg(frequency: 1004, ssrc: UInt32(2 * i + 1)), b = Leg(frequency: 1804, ssrc: UInt32(2 * i + 2))
        a.peer = b.socket.port
        b.peer = a.socket.port
        legs += [a, b]
    }
    defer { for l in legs { close(l.socket.fd) } }
    var worst = 0.0
    let cpu0 = cpuSeconds()
    for p in 0..<periods {
        let t = Instant(nanoseconds: Int64(p) * 20_000_000)
        let start = monotonicSeconds()
        for l in legs { l.period(at: t) }
        worst = max(worst, monotonicSeconds() - start)
    }
    return (cpuSeconds() - cpu0, worst)
}

/// SRTP alone: protecting and checking a 20 ms PCMU packet, per packet.
func srtpPerPacket(_ suite: SRTPSuite) {
    let key = SRTPMasterKey.random(suite)
    var sender = SRTPSender(key), receiver = SRTPReceiver(key)
    var packet = [UInt8](repeating: 0x55, count: 172)
    packet[0] = 0x80
    var out = [UInt8](repeating: 0, count: 172 + 20)
    let n = 50_000
    var protectTime = 0.0, unprotectTime = 0.0
    for i in 0..<n {
        packet[2] = UInt8(truncatingIfNeeded: i >> 8)
        packet[3] = UInt8(truncatingIfNeeded: i)
        let t0 = monotonicSeconds()
        let length = packet.withUnsafeBytes { p in out.withUnsafeMutableBytes { sender.protect(p, into: $0) } } ?? 0
        let t1 = monotonicSeconds()
        _ = out.withUnsafeMutableBytes { receiver.unprotect(UnsafeMutableRawBufferPointer(rebasing: $0[0..<length])) }
        let t2 = monotonicSeconds()
        protectTime += t1 - t0
        unprotectTime += t2 - t1
    }
    // libsrtp2 (Debian's) on the same packets with the same key, in the same run.
    srtp_init()
    var keyBytes = key.bytes
    func session(_ direction: srtp_ssrc_type_t) -> srtp_t? {
        var policy = srtp_policy_t()
        if suite == .aeadAES128GCM {
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        } else {
            srtp_crypto_policy_set_rtp_default(&policy.rtp)  // = AES_CM_128_HMAC_SHA1_80 (a macro in srtp.h)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        }
        policy.ssrc.type = direction
        policy.window_size = 128
        var s: srtp_t?
        let rc = keyBytes.withUnsafeMutableBufferPointer { k -> srtp_err_status_t in
            policy.key = k.baseAddress
            return srtp_create(&s, &policy)
        }
        return rc == srtp_err_status_ok ? s : nil
    }
    guard let tx = session(ssrc_any_outbound), let rx = session(ssrc_any_inbound) else { return print("libsrtp2 would not start") }
    var theirProtect = 0.0, theirUnprotect = 0.0, refused = 0
    var buffer = [UInt8](repeating: 0, count: 172 + 20)
    for i in 0..<n {
        packet[2] = UInt8(truncatingIfNeeded: i >> 8)
        packet[3] = UInt8(truncatingIfNeeded: i)
        for k in 0..<172 { buffer[k] = packet[k] }
        var length: Int32 = 172
        let t0 = monotonicSeconds()
        _ = buffer.withUnsafeMutableBytes { srtp_protect(tx, $0.baseAddress, &length) }
        let t1 = monotonicSeconds()
        let rc = buffer.withUnsafeMutableBytes { srtp_unprotect(rx, $0.baseAddress, &length) }
        let t2 = monotonicSeconds()
        if rc != srtp_err_status_ok || length != 172 { refused += 1 }
        theirProtect += t1 - t0
        theirUnprotect += t2 - t1
    }
    srtp_dealloc(tx)
    srtp_dealloc(rx)
    if refused > 0 { print("  libsrtp2 refused \(refused) of its own packets: its figures below do not count") }
    let ours = (protectTime + unprotectTime) / Double(n), theirs = (theirProtect + theirUnprotect) / Double(n)
    print("SRTP per 20 ms PCMU packet (\(suite.rawValue)), \(n) packets each way:")
    print("  TipRing (swift-crypto's BoringSSL): protect \(fixed(protectTime / Double(n) * 1e6, 2)) µs, check and decrypt \(fixed(unprotectTime / Double(n) * 1e6, 2)) µs")
    print("  libsrtp2 (Debian, NSS): protect \(fixed(theirProtect / Double(n) * 1e6, 2)) µs, check and decrypt \(fixed(theirUnprotect / Double(n) * 1e6, 2)) µs")
    print("  ratio TipRing / libsrtp2: \(fixed(ours / theirs, 3)); a call's 100 packets a second cost TipRing \(fixed(ours * 100 * 1000, 3)) ms per call-second")
}
// `MediaBenchmark opus`: only the Opus figures.
if CommandLine.arguments.contains("opus") {
    try await opusFigures()
    exit(0)
}
srtpPerPacket(.aesCM128HMACSHA1_80)
srtpPerPacket(.aeadAES128GCM)
if CommandLine.arguments.contains("srtp") { exit(0) }
let onlyTheEncryptedCall = CommandLine.arguments.contains("srtp-call")

if !onlyTheEncryptedCall {
print("Media per call: two ports per call, each with its audio engine (keypad DTMF detector, echo canceller,")
print("G.711, RTP, jitter buffer) and a UDP socket on the loopback; one thread; 20 ms periods.")
for calls in [1, 8, 32, 64] {
    let periods = 500
    let r = runCalls(calls, periods: periods)
    let audio = Double(periods) * 0.02
    let perCall = r.cpu / (Double(calls) * audio)
    print("  \(calls) call(s): CPU \(fixed(perCall * 100, 3)) % of a core per call, worst period \(fixed(r.worst * 1000, 2)) ms of 20")
}
// The most calls one core carries: every period done within its 20 ms.
var low = 64, high = 64
while runCalls(high, periods: 100).worst < 0.020 && high < 8192 { low = high; high *= 2 }
while high - low > 8 {
    let mid = (low + high) / 2
    if runCalls(mid, periods: 100).worst < 0.020 { low = mid } else { high = mid }
}
print("  largest number of simultaneous calls on one core with no late frame: \(low) (target ≥ 128)")
}

// A TipRing port and baresip in one call, both processes measured.
func processCPU(_ pid: pid_t) -> Double? {
    guard let f = fopen("/proc/\(pid)/stat", "r") else { return nil }
    defer { fclose(f) }
    var buf = [CChar](repeating: 0, count: 2048)
    guard fgets(&buf, 2048, f) != nil else { return nil }
    let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}


/// One call between a TipRing port and baresip, each process measured: idle, then 30 s of call.
/// `srtp`: both sides encrypt (SDES-SRTP, AES_CM_128_HMAC_SHA1_80; baresip's srtp module).
/// `speech`: what both sides say in turns (5 s each, baresip first), else tones; `opus`: the call is Opus (baresip's
/// opus module: mono, 16 kbit/s, FEC and DTX asked for, as TipRing asks).
func baresipCall(suite: SRTPSuite?, speech: [Int16]? = nil, opus: Bool = false) async throws -> (idleOurs: Double, idleTheirs: Double, inCallOurs: Double, inCallTheirs: Double,
                                             oursCall: Double, theirsCall: Double, audioRunning: Double, stats: CallStatistics?, seconds: Double)? {
    let srtp = suite != nil
    let dir = "/tmp/tipring-bench-baresip-\(getpid())-\(suite?.rawValue ?? "plain")\(opus ? "-opus" : "")"
    mkdir(dir, 0o755)
    var synth = ToneSynthesizer(try! Tone("1004", level: -10))
    var source = [Int16](repeating: 0, count: 8000 * 60)
    source.withUnsafeMutableBufferPointer { synth.render(into: $0) }
    if let speech { source = inTurns(speech, first: true, seconds: 60) }
    try! FileIO.writeAll(path: dir + "/source.wav", bytes: WAV.encode(samples: source))
    let bsPort = freeLoopbackUDPPort()
    let config = """
    poll_method epoll
    sip_listen 127.0.0.1:\(bsPort)
    net_interface 127.0.0.1
    audio_source aufile,\(dir)/source.wav
    audio_player aubridge,nil
    audio_alert aubridge,nil
    ausrc_srate 8000
    auplay_srate 8000
    ausrc_channels 1
    auplay_channels 1
    rtp_ports 37000-37100
    rtcp_mux no
    module_path /usr/lib/baresip/modules
    module g711.so
    module aufile.so
    module aubridge.so
    \(srtp ? "module srtp.so" : "")
    \(opus ? "module opus.so\nopus_bitrate 16000\nopus_stereo no\nopus_sprop_stereo no\nopus_inbandfec yes\nopus_dtx yes\nopus_packet_loss 5" : "")
    module_tmp uuid.so
    module_tmp account.so
    module_app menu.so

    """
    try! FileIO.writeAll(path: dir + "/config", bytes: Array(config.utf8))
    let mediaenc = srtp ? ";mediaenc=srtp-mand" : ""
    try! FileIO.writeAll(path: dir + "/accounts", bytes: Array("<sip:bench@127.0.0.1:\(bsPort)>;answermode=auto;audio_codecs=\(opus ? "opus/48000/2" : "PCMU");regint=0\(mediaenc)\n".utf8))
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, dir + "/out.log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, dir + "/err.log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] = ["baresip", "-4", "-f", dir].map { (s: String) in strdup(s) } + [nil]
    if posix_spawn(&pid, "/usr/bin/baresip", &actions, nil, argv, environ) != 0 {
        print("  baresip could not start (apt-get install baresip)")
        return nil
    }
    usleep(500_000)

    let scheduler = WallClockScheduler()
    try scheduler.start()
    defer { scheduler.shutdown() }
    let clock = WallClockControlPlane(scheduler)
    let system = try await LiveBoardSystem.make(
        clock: clock, registrar: ServerName(host: "127.0.0.1", port: bsPort), domain: "127.0.0.1",
        accounts: [.init(user: "tipring", password: "x")], sipPorts: 38000...38999, rtpPorts: 39000...39099,
        group: MultiThreadedEventLoopGroup.singleton,
        // The benchmark's loopback call carries its keys over UDP; an account configures SRTP only with TLS.
        // Only the suite measured is offered; baresip takes it.
        configure: { _, _, calls in
            if opus { calls.media.codecs = [.opus] }
            calls.media.srtp = srtp ? .mandatory : .off
            if let suite { calls.media.srtpSuites = [suite] }
        })
    let port = system.port(1)
    clock.sync { port.phone.earpiece.isRecording = false }
    // Idle (both processes up, no call): the part of their CPU no call causes. Measured for
    // 10 s before the call and 10 s after it, and averaged: one short window read a process's
    // idle a third off from run to run, and the call's cost with it.
    func idle() -> (ours: Double, theirs: Double) {
        clock.advance(by: .seconds(1))
        let ours0 = cpuSeconds(), theirs0 = processCPU(pid) ?? 0, wall0 = monotonicSeconds()
        clock.advance(by: .seconds(10))
        let wall = monotonicSeconds() - wall0
        return ((cpuSeconds() - ours0) / wall, ((processCPU(pid) ?? 0) - theirs0) / wall)
    }
    let idleBefore = idle()
    // The port's sound device running with no call — the simulated telephone and SLIC, the
    // audio engine, the keypad receiver — as idle was before an idle port stopped its device.
    clock.sync { try? system.board.audioPort(1).start(handler: port.engine) }
    let audioRunning = idle().ours
    final class Flag: @unchecked Sendable { var answered = false }
    let flag = Flag()
    let handle: CallHandle = clock.sync {
        port.phone.earpiece.isRecording = false
        if let speech {
            // A conversation: each side talks while the other listens.
            let said = inTurns(speech, first: false, seconds: 60)
            final class Cursor: @unchecked Sendable { var at = 0 }
            let cursor = Cursor()
            port.phone.mouthpiece.generator = { frame, _ in
                for k in frame.indices {
                    frame[k] = said[cursor.at % said.count]
                    cursor.at += 1
                }
            }
        } else {
            port.phone.mouthpiece.play(try! Tone("1804", level: -16))
        }
        let h = port.userAgent.newCallHandle()
        let previous = port.userAgent.onEvent
        port.userAgent.onEvent = { e in
            previous?(e)
            if case .answered(h) = e {
                flag.answered = true
                // Through the line's hardware, as the controller does: it runs the sound
                // device while a call's audio is connected (an idle port's is stopped).
                port.controller.hardware.connectMedia(h)
            }
        }
        port.userAgent.execute(.invite(h, target: "sip:bench@127.0.0.1:\(bsPort)", withholdIdentity: false))
        return h
    }
    var waited = 0
    while !clock.sync({ flag.answered }) && waited < 100 { clock.advance(by: .milliseconds(50)); waited += 1 }
    if !clock.sync({ flag.answered }) {
        print("  baresip did not answer")
        kill(pid, SIGKILL)
        return nil
    }
    clock.advance(by: .seconds(1))
    let ours0 = cpuSeconds(), theirs0 = processCPU(pid) ?? 0, wall0 = monotonicSeconds()
    clock.advance(by: .seconds(30))
    let ours = cpuSeconds() - ours0, theirs = (processCPU(pid) ?? 0) - theirs0, wall = monotonicSeconds() - wall0
    let stats = clock.sync { port.media.current }
    clock.sync {
        port.userAgent.execute(.hangUp(handle))
        port.controller.hardware.connectMedia(nil)
    }
    let idleAfter = idle()
    let idleOurs = (idleBefore.ours + idleAfter.ours) / 2, idleTheirs = (idleBefore.theirs + idleAfter.theirs) / 2
    // baresip may sit out a SIGTERM (it waits for its own shutdown): two seconds, then SIGKILL.
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<20 where waitpid(pid, &status, WNOHANG) == 0 { usleep(100_000) }
    if waitpid(pid, &status, WNOHANG) == 0 {
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }
    // The port's system is left as it is (the process ends soon); only its clock stops.
    return (idleOurs, idleTheirs, ours / wall, theirs / wall, ours / wall - idleOurs, theirs / wall - idleTheirs, audioRunning, stats, wall)
}

/// A side of a conversation, `seconds` long at 8 kHz: 5 s of `x` (read on where it stopped),
/// 5 s of silence, and again; `first`: talking first.
func inTurns(_ x: [Int16], first: Bool, seconds: Int) -> [Int16] {
    var out: [Int16] = [], read = 0
    for turn in 0..<(seconds / 5) {
        if (turn % 2 == 0) == first {
            for _ in 0..<40000 { out.append(x.isEmpty ? 0 : x[read % x.count]); read += 1 }
        } else {
            out += [Int16](repeating: 0, count: 40000)
        }
    }
    return out
}

/// espeak-ng reading the talk-off test's text at −20 dBm0 (its loud parts), at 8 kHz by sox.
func espeakSpeech() -> [Int16]? {
    let dir = "/tmp/tipring-bench-speech-\(getpid())"
    mkdir(dir, 0o755)
    let text = #filePath.split(separator: "/").dropLast(4).joined(separator: "/")
    guard runTool(["espeak-ng", "-v", "en", "-w", dir + "/speech.wav", "-f", "/" + text + "/Tests/Fixtures/talkoff/speech.txt"]),
          runTool(["sox", dir + "/speech.wav", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", dir + "/speech.raw"]),
          let bytes = try? FileIO.readAll(path: dir + "/speech.raw") else { return nil }
    var x = [Int16](repeating: 0, count: bytes.count / 2)
    for i in x.indices { x[i] = Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8) }
    let active = x.filter { abs(Int($0)) > 200 }
    let level = Level.dBm0(of: active)
    let gain = pow(10, (-20 - level) / 20)
    return x.map { Int16(max(-32768, min(32767, (Double($0) * gain).rounded()))) }
}

/// Bytes on the wire per call-minute, one direction: RTP payload plus 12 (RTP), 8 (UDP) and
/// 20 (IPv4) bytes per packet.
func wireBytesPerMinute(payload: Int, packets: Int, seconds: Double) -> Double {
    Double(payload + 40 * packets) * 60 / max(seconds, 1e-9)
}

print("")
print("TipRing port ↔ baresip (Debian baresip, PCMU, 20 ms, both on 127.0.0.1), 30 s of call, in clear and with SRTP:")
var results: [String: (oursCall: Double, theirsCall: Double)] = [:]
// `MediaBenchmark srtp-call`: only the encrypted calls (for a profiler).
let suites: [SRTPSuite?] = CommandLine.arguments.contains("srtp-call") ? [.aesCM128HMACSHA1_80, .aeadAES128GCM] : [nil, .aesCM128HMACSHA1_80, .aeadAES128GCM]
for suite in suites {
    guard let r = try await baresipCall(suite: suite) else { exit(1) }
    let label = suite.map { "SRTP (\($0.rawValue))" } ?? "in clear"
    print("  \(label):")
    print("    idle (registered, no call; 10 s before and 10 s after): TipRing \(fixed(r.idleOurs * 1000, 2)) ms/s (simulated phone and line included), baresip \(fixed(r.idleTheirs * 1000, 2)) ms/s")
    print("    in the call, whole process: TipRing \(fixed(r.inCallOurs * 1000, 2)) ms/s, baresip \(fixed(r.inCallTheirs * 1000, 2)) ms/s")
    print("    CPU the call costs (in call − idle): TipRing \(fixed(r.oursCall * 1000, 2)) ms per call-second, baresip \(fixed(r.theirsCall * 1000, 2)) ms per call-second")
    print("    ratio TipRing / baresip: \(fixed(r.oursCall / max(r.theirsCall, 1e-9), 3)) (target ≤ 0.5)")
    // The simulated telephone and SLIC do not exist on a real board; this row leaves out all
    // of the port's running audio (engine and keypad receiver too), as the row did when idle
    // ran it: the call's own media work.
    let beyondAudio = r.inCallOurs - r.audioRunning
    print("    with the port's audio running and no call as the base (\(fixed(r.audioRunning * 1000, 2)) ms/s): TipRing \(fixed(beyondAudio * 1000, 2)) ms per call-second, ratio \(fixed(beyondAudio / max(r.theirsCall, 1e-9), 3))")
    if let stats = r.stats {
        print("    call: \(stats.packetsSent) packets sent, \(stats.packetsReceived) received, \(stats.packetsLost) lost, jitter \(fixed(stats.jitterMilliseconds, 2)) ms, \(stats.encryption ?? "not encrypted")")
    }
    results[suite?.rawValue ?? "clear"] = (r.oursCall, r.theirsCall)
}
// SRTP's own work is the per-packet row above (hundredths of a millisecond per call-second);
// the difference between two calls is mostly the noise of the two measurements.
if let plain = results["clear"] {
    for suite in [SRTPSuite.aesCM128HMACSHA1_80, .aeadAES128GCM] {
        guard let secure = results[suite.rawValue] else { continue }
        print("  \(suite.rawValue) call − clear call, per call-second: TipRing \(fixed((secure.oursCall - plain.oursCall) * 1000, 3)) ms, baresip \(fixed((secure.theirsCall - plain.theirsCall) * 1000, 3)) ms")
    }
}

/// A lossy network between two ports' media, in virtual time: port A says `speech` for
/// `seconds`, each packet is lost with probability `loss` (seeded), port B plays what comes.
/// B's figures; `fec`: whether B asked for in-band FEC (A sends it only then).
func opusUnderLoss(speech: [Int16], seconds: Int, loss: Double, fec: Bool, seed: UInt64) -> CallStatistics {
    var format = PayloadFormat.opus
    if !fec { format.fmtp = format.fmtp?.replacing("useinbandfec=1", with: "useinbandfec=0") }
    let sd = SessionDescription(address: "127.0.0.1", port: 4000, formats: [format])
    let session = MediaSession(local: sd, remote: sd, codec: format, telephoneEvent: nil, sending: true, receiving: true)
    final class Wire: @unchecked Sendable { var packets: [[UInt8]] = [] }
    let wire = Wire()
    let a = MediaBridge(session: session, ssrc: 1, at: .zero) { wire.packets.append(Array($0)) }
    let b = MediaBridge(session: session, ssrc: 2, at: .zero) { _ in }
    var random = SeededRandom(seed: seed)
    var frame = [Int16](repeating: 0, count: 160), out = [Int16](repeating: 0, count: 160)
    for p in 0..<(seconds * 50) {
        let t = Instant(nanoseconds: Int64(p) * 20_000_000)
        for k in 0..<160 { frame[k] = speech[(p * 160 + k) % speech.count] }  // talking all the time
        frame.withUnsafeBufferPointer { a.consume($0, at: t) }
        for packet in wire.packets where random.unit() >= loss { packet.withUnsafeBytes { b.receive($0, at: t) } }
        wire.packets.removeAll()
        out.withUnsafeMutableBufferPointer { b.render(into: $0, at: t) }
    }
    return b.statistics
}

/// Opus on a metered link: bytes on the wire and CPU against G.711 and baresip, and what its
/// FEC recovers under loss.
func opusFigures() async throws {
    print("")
    print("Opus (libopus, narrowband 8 kHz) vs G.711 (PCMU): TipRing port ↔ baresip (its opus module, 16 kbit/s, FEC and DTX asked for), both")
    print("saying espeak-ng's speech at −20 dBm0 in turns (5 s each, the other silent: a conversation), 30 s of call each:")
    guard let speech = espeakSpeech() else {
        print("  espeak-ng or sox missing (apt-get install espeak-ng sox)")
        exit(1)
    }
    var perMinute: [Bool: (sent: Double, received: Double)] = [:]
    for opus in [false, true] {
        guard let r = try await baresipCall(suite: nil, speech: speech, opus: opus), let st = r.stats else { exit(1) }
        let sent = wireBytesPerMinute(payload: st.payloadOctetsSent, packets: st.packetsSent, seconds: st.seconds)
        let received = wireBytesPerMinute(payload: st.payloadOctetsReceived, packets: st.packetsReceived, seconds: st.seconds)
        perMinute[opus] = (sent, received)
        print("  \(opus ? "Opus" : "G.711 PCMU"): codec \(st.codec), \(st.packetsSent) packets sent (\(st.silentFrames) silent frames not sent), \(st.packetsReceived) received, \(st.packetsLost) lost")
        print("    on the wire (IPv4, UDP, RTP) per call-minute: TipRing sends \(fixed(sent / 1000, 1)) kB, baresip sends \(fixed(received / 1000, 1)) kB")
        print("    CPU the call costs (in call − idle): TipRing \(fixed(r.oursCall * 1000, 2)) ms per call-second, baresip \(fixed(r.theirsCall * 1000, 2)) ms per call-second, ratio \(fixed(r.oursCall / max(r.theirsCall, 1e-9), 3)) (target ≤ 0.5)")
        let beyondAudio = r.inCallOurs - r.audioRunning
        print("    with the port's audio running and no call as the base (\(fixed(r.audioRunning * 1000, 2)) ms/s): TipRing \(fixed(beyondAudio * 1000, 2)) ms per call-second, ratio \(fixed(beyondAudio / max(r.theirsCall, 1e-9), 3))")
    }
    if let g = perMinute[false], let o = perMinute[true] {
        print("  Opus / G.711 bytes per call-minute: TipRing's stream \(fixed(o.sent / g.sent, 3)), baresip's \(fixed(o.received / g.received, 3))")
    }
    print("")
    print("Opus under 5 % random packet loss (simulated network, virtual time, speech, 5 minutes, seeds 1–3): frames rebuilt from in-band FEC")
    for fec in [true, false] {
        var lost = 0, recovered = 0, concealed = 0, played = 0
        for seed: UInt64 in 1...3 {
            let st = opusUnderLoss(speech: speech, seconds: 300, loss: 0.05, fec: fec, seed: seed)
            lost += st.packetsLost
            recovered += st.recoveredFrames
            concealed += st.concealedFrames
            played += st.playedFrames
        }
        print("  FEC \(fec ? "asked for" : "not asked for"): \(lost) packets lost, \(recovered) frames rebuilt (\(fixed(Double(recovered) / Double(max(lost, 1)) * 100, 1)) % of the lost), \(concealed) of \(played) frames concealed")
    }
}
