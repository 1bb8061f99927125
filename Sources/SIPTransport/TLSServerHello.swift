import NIOCore

/// The cipher suite the server chose, read from its ServerHello — the one handshake message
/// of every TLS version that travels in clear (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3). swift-nio-ssl
/// tells the version agreed but not the suite, and the status should show both. The bytes
/// come from the network before any certificate is checked: every length is checked against
/// what arrived, and reading stops after ``limit`` bytes.
struct TLSServerHelloReader {
    enum Outcome: Equatable {
        case needMore
        case cipherSuite(UInt16)
        /// Not a ServerHello first (an alert, something not TLS, or too long to wait for).
        case none
    }

    /// Enough for any ServerHello with its record headers; a server that has sent more
    /// without one is not going to.
    static let limit = 16 * 1024
    private var stream: [UInt8] = []
    private var handshake: [UInt8] = []
    private(set) var outcome = Outcome.needMore

    /// Feeds bytes as they arrive from the server; the outcome once it is known.
    mutating func feed(_ bytes: some Collection<UInt8>) -> Outcome {
        guard outcome == .needMore else { return outcome }
        stream.append(contentsOf: bytes.prefix(Self.limit))
        outcome = read()
        if outcome == .needMore && stream.count >= Self.limit { outcome = .none }
        if outcome != .needMore { stream = []; handshake = [] }
        return outcome
    }

    /// Whole records are taken off the front of the stream into the handshake bytes; the
    /// ServerHello may span records.
    private mutating func read() -> Outcome {
        while stream.count >= 5 {
            guard stream[0] == 22 else { return .none }  // a handshake record
            let length = Int(stream[3]) << 8 | Int(stream[4])
            guard stream.count >= 5 + length else { break }
            handshake.append(contentsOf: stream[5..<(5 + length)])
            stream.removeFirst(5 + length)
            let outcome = Self.cipherSuite(inHandshake: handshake)
            if outcome != .needMore { return outcome }
        }
        return Self.cipherSuite(inHandshake: handshake)
    }

    /// The suite from a handshake message stream that starts with a ServerHello: type 2,
    /// 24-bit length, version (2), random (32), session id (length byte + id), suite (2).
    static func cipherSuite(inHandshake h: [UInt8]) -> Outcome {
        guard h.count >= 4 else { return .needMore }
        guard h[0] == 2 else { return .none }
        let sessionIDLength = 4 + 2 + 32
        guard h.count > sessionIDLength else { return .needMore }
        let suite = sessionIDLength + 1 + Int(h[sessionIDLength])
        guard h.count >= suite + 2 else { return .needMore }
        return .cipherSuite(UInt16(h[suite]) << 8 | UInt16(h[suite + 1]))
    }

    /// IANA's name of a suite TLS 1.2 or 1.3 servers choose (TLS Cipher Suites registry).
    static func name(_ suite: UInt16) -> String {
        switch suite {
        case 0x1301: "TLS_AES_128_GCM_SHA256"
        case 0x1302: "TLS_AES_256_GCM_SHA384"
        case 0x1303: "TLS_CHACHA20_POLY1305_SHA256"
        case 0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        case 0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
        case 0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        case 0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        case 0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        case 0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        case 0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        case 0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
        case 0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
        case 0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
        case 0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256"
        case 0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384"
        case 0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA"
        case 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA"
        default: "cipher suite 0x" + String(suite, radix: 16, uppercase: true)
        }
    }
}

/// Sits in front of the TLS handler and reads the server's first bytes on their way past
/// (on the channel's event loop); afterwards it only passes bytes on.
final class ServerHelloWatcher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private var reader = TLSServerHelloReader()

    /// The suite's name once the ServerHello went past.
    var cipherSuite: String? {
        if case .cipherSuite(let suite) = reader.outcome { return TLSServerHelloReader.name(suite) }
        return nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if reader.outcome == .needMore { _ = reader.feed(unwrapInboundIn(data).readableBytesView) }
        context.fireChannelRead(data)
    }
}
