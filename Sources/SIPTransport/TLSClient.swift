public import NIOCore
import NIOPosix
import NIOTLS
public import NIOSSL
import SIPCore
import TipRingCore

/// What an account's TLS trusts, and who we are: the system's CA store unless a CA file is
/// pinned; our own certificate only when the server asks for one. Never "accept anything".
public struct TLSSettings: Sendable, Hashable {
    /// PEM file of the CAs trusted instead of the system's store (a provider's own CA).
    public var caFile: String?
    /// PEM certificate chain and key presented when the server asks (optional).
    public var certificateFile: String?
    public var keyFile: String?
    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// The files named, each readable and parsed as PEM; the errors in words an operator can
    /// act on (`config check` asks before anything starts).
    public func problems() -> [String] {
        var found: [String] = []
        if let caFile {
            do { _ = try NIOSSLCertificate.fromPEMFile(caFile) } catch { found.append("tlsCaFile \(caFile): not a readable PEM certificate file (\(error))") }
        }
        if (certificateFile == nil) != (keyFile == nil) { found.append("tlsCertificateFile and tlsKeyFile go together") }
        if let certificateFile {
            do { _ = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
                found.append("tlsCertificateFile \(certificateFile): not a readable PEM certificate file (\(error))")
            }
        }
        if let keyFile {
            do { _ = try Self.privateKey(keyFile) } catch { found.append("tlsKeyFile \(keyFile): not a readable private key in PEM or DER (\(error))") }
        }
        return found
    }

    /// A private key file, PEM (what OpenSSL writes, whatever the file is called) or DER.
    static func privateKey(_ path: String) throws -> NIOSSLPrivateKey {
        do { return try NIOSSLPrivateKey(file: path, format: .pem) } catch { return try NIOSSLPrivateKey(file: path, format: .der) }
    }
}

/// Why a TLS connection was not made, in words an operator can act on
/// (`TLS: certificate for 'x' does not match 'y'`).
public struct TLSFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The client side of SIP over TLS for one account: a context made once, a handler per
/// connection that checks the server's certificate against the trusted CAs and the name the
/// account was configured with (RFC 5922 §7: the SIP domain as configured, before DNS SRV —
/// an IP address is checked against the certificate's IP addresses), TLS 1.2 at least.
public final class TLSClient: Sendable {
    let context: NIOSSLContext
    let settings: TLSSettings
    /// The name the server's certificate must carry.
    public let expectedName: String

    public init(settings: TLSSettings, expectedName: String) throws {
        self.settings = settings
        self.expectedName = expectedName
        context = try NIOSSLContext(configuration: Self.configuration(settings, verify: true))
    }

    static func configuration(_ s: TLSSettings, verify: Bool) throws -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.minimumTLSVersion = .tlsv12
        c.certificateVerification = verify ? .fullVerification : .none
        if let caFile = s.caFile { c.trustRoots = .file(caFile) }
        if let cert = s.certificateFile, let key = s.keyFile {
            // Read here as PEM: swift-nio-ssl would take a `.key` file for DER by its name,
            // and OpenSSL writes PEM into files called `.key`.
            do {
                c.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            } catch { throw TLSFailure("TLS: tlsCertificateFile \(cert) is not a readable PEM certificate (\(error))") }
            do { c.privateKey = .privateKey(try TLSSettings.privateKey(key)) } catch {
                throw TLSFailure("TLS: tlsKeyFile \(key) is not a readable private key in PEM or DER (\(error))")
            }
        }
        return c
    }

    /// SNI carries names only; an address is checked against the certificate's addresses.
    var sniName: String? { ServerLocator.ipLiteral(expectedName) == nil ? expectedName : nil }

    /// The handler for one new connection.
    func handler() throws -> NIOSSLClientHandler { try NIOSSLClientHandler(context: context, serverHostname: sniName) }

    /// After a failed handshake: the same server looked at without checking, to say why its
    /// certificate was refused — expired, not yet valid, for another name, or from a CA we
    /// do not trust. (Only ever used to word the refusal; nothing is sent on it.)
    func diagnose(host: String, port: Int, group: any EventLoopGroup, original: any Error) -> EventLoopFuture<TLSFailure> {
        let loop = group.next()
        // Without our own certificate: a server we did not trust learns nothing about us.
        guard let look = try? NIOSSLContext(configuration: try Self.configuration(TLSSettings(caFile: settings.caFile), verify: false)) else {
            return loop.makeSucceededFuture(TLSFailure("TLS: \(original)"))
        }
        let done = loop.makePromise(of: NIOSSLCertificate?.self)
        let waiter = HandshakeWaiter(done: done)
        let (name, caFile) = (expectedName, settings.caFile)
        let sni = sniName
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    let h = try NIOSSLClientHandler(context: look, serverHostname: sni)
                    try ch.pipeline.syncOperations.addHandler(h)
                    waiter.certificate = { h.peerCertificate }
                    try ch.pipeline.syncOperations.addHandler(waiter)
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let ch): done.futureResult.whenComplete { _ in ch.close(promise: nil) }
                case .failure(let error): waiter.finish(.failure(error))
                }
            }
        return done.futureResult.map { leaf in
            guard let leaf else { return TLSFailure("TLS: \(original)") }
            return Self.reason(leaf, expected: name, caFile: caFile, now: Instant.wallSecondsNow())
        }.recover { _ in TLSFailure("TLS: \(original)") }
    }

    /// Why `leaf` was refused.
    static func reason(_ leaf: NIOSSLCertificate, expected: String, caFile: String?, now: Int64) -> TLSFailure {
        let names = leaf.subjectNames()
        if Int64(leaf.notValidAfter) < now {
            return TLSFailure("TLS: the certificate of '\(expected)' expired \((now - Int64(leaf.notValidAfter)) / 86_400) day(s) ago")
        }
        if Int64(leaf.notValidBefore) > now { return TLSFailure("TLS: the certificate of '\(expected)' is not valid yet") }
        if !names.contains(where: { CertificateName.matches($0, expected) }) {
            return TLSFailure("TLS: certificate for '\(names.isEmpty ? "no name" : names.joined(separator: ", "))' does not match '\(expected)'")
        }
        return TLSFailure("TLS: the certificate of '\(expected)' is not signed by a CA trusted here (\(caFile.map { "tlsCaFile \($0)" } ?? "the system's CA store"))")
    }
}

/// Completes `done` when the handshake does (with the server's certificate), fails it when
/// the connection errs or closes first; afterwards it only passes everything on.
final class HandshakeWaiter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let done: EventLoopPromise<NIOSSLCertificate?>
    var certificate: () -> NIOSSLCertificate? = { nil }
    var finished = false
    init(done: EventLoopPromise<NIOSSLCertificate?>, certificate: @escaping () -> NIOSSLCertificate? = { nil }) {
        self.done = done
        self.certificate = certificate
    }
    /// Completes the promise unless it already is (on the channel's event loop).
    func finish(_ outcome: Result<NIOSSLCertificate?, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(outcome)
    }
    func finish(_ certificate: NIOSSLCertificate?) { finish(.success(certificate)) }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { finish(certificate()) }
        context.fireUserInboundEventTriggered(event)
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else { return context.fireErrorCaught(error) }
        finish(.failure(error))
        context.close(promise: nil)
    }
    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(TLSFailure("TLS: the server closed the connection during the handshake")))
        context.fireChannelInactive()
    }
}

/// Certificate names as RFC 6125 compares them (for the refusal's wording only: the check
/// itself is swift-nio-ssl's).
enum CertificateName {
    static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = pattern.lowercased(), n = name.lowercased()
        if p == n { return true }
        guard p.hasPrefix("*."), let dot = n.firstIndex(of: ".") else { return false }
        return n[dot...] == p.dropFirst(1)
    }
}

extension NIOSSLCertificate {
    /// The DNS names and IP addresses the certificate is for (its common name when it has none).
    func subjectNames() -> [String] {
        var out: [String] = []
        for san in _subjectAlternativeNames() {
            let bytes = san.contents.withUnsafeBufferPointer { Array($0) }
            if san.nameType == .dnsName {
                out.append(String(decoding: bytes, as: UTF8.self))
            } else if san.nameType == .ipAddress, let ip = Self.addressText(bytes) {
                out.append(ip)
            }
        }
        return out
    }

    /// An IP address SAN (4 or 16 bytes) as text, IPv6 in RFC 5952's form.
    static func addressText(_ b: [UInt8]) -> String? {
        if b.count == 4 { return b.map { String($0) }.joined(separator: ".") }
        guard b.count == 16 else { return nil }
        let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
        return SIPHost.canonicalIPv6(Substring(groups.joined(separator: ":")))
    }
}
