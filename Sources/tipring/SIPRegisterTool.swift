import NIOPosix
import NIOCore
import SIPCore
import SIPAgent
import SIPTransport
import TipRingCore
import SystemCalls

/// `tipring sip register`: one registration and unregistration against a real registrar,
/// step by step. The password is never printed.
public enum SIPRegisterTool {
    final class Outcome: @unchecked Sendable {
        let lock = ConditionLock()
        var done = false
        var registered = false
        var steps = 0
    }

    /// Returns whether the registration succeeded.
    public static func run(host: String, port: Int, user: String, password: String, domain: String, expires: Int,
                           tcp: Bool = false, print: @escaping @Sendable (String) -> Void) -> Bool {
        let ip: String, local: String
        do {
            ip = try LocalAddress.resolve(host)
            local = try LocalAddress.toward(host: ip, port: port)
        } catch {
            print("cannot reach \(host): \(error)")
            return false
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let scheduler = WallClockScheduler()
        do { try scheduler.start() } catch {
            print("cannot start the scheduler: \(error)")
            return false
        }
        defer { scheduler.shutdown() }
        let outcome = Outcome()
        let remote: SocketAddress
        do { remote = try SocketAddress(ipAddress: ip, port: port) } catch {
            print("bad registrar address \(ip):\(port)")
            return false
        }

        let sessionBox = SessionBox()
        let sender: @Sendable (SIPMessage) -> Void
        let closer: @Sendable () async -> Void
        let localPort: Int
        if tcp {
            let r: Result<TCPTransport, any Error> = blockingAwait {
                try await TCPTransport.connect(host: ip, port: port, group: group, scheduler: scheduler) { m in
                    sessionBox.session?.receive(m)
                }
            }
            guard case .success(let t) = r, let p = t.localAddress?.port else {
                print("cannot connect to \(ip):\(port) over TCP")
                return false
            }
            sender = { t.send($0) }
            closer = { await t.close() }
            localPort = p
        } else {
            let r: Result<UDPTransport, any Error> = blockingAwait {
                try await UDPTransport.bind(host: local, port: 0, group: group, scheduler: scheduler) { m, _ in
                    sessionBox.session?.receive(m)
                }
            }
            guard case .success(let t) = r, let p = t.localAddress?.port else {
                print("cannot open a UDP socket on \(local)")
                return false
            }
            sender = { t.send($0, to: remote) }
            closer = { await t.close() }
            localPort = p
        }
        print("local address \(local):\(localPort) (\(tcp ? "TCP" : "UDP")), registrar \(ip):\(port)")

        var settings = RegistrationSettings(
            registrar: "sip:\(domain)", addressOfRecord: "sip:\(user)@\(domain)",
            contact: "sip:\(user)@\(local):\(localPort)" + (tcp ? ";transport=tcp" : ""),
            instanceID: "urn:uuid:00000000-0000-4000-8000-\(String(UInt64(localPort) &* 2654435761, radix: 16).leftPadded12)",
            authUser: user, password: password)
        settings.expires = expires
        settings.transport = tcp ? .tcp : .udp
        settings.retryBase = .seconds(3600)  // one attempt: a failure ends the tool
        let finalSettings = settings
        scheduler.execute {
            let settings = finalSettings
            let session = RegistrationSession(client: RegistrationClient(settings: settings, seed: UInt64(localPort)),
                                              scheduler: scheduler, reliable: tcp) { m in sender(m) }
            sessionBox.session = session
            var lastCSeq: String?
            session.onTrace = { m, out in
                if out, m["CSeq"] != nil, m["CSeq"] == lastCSeq {
                    // The same transaction sent again (no answer yet over UDP): not a new attempt.
                    print("→ REGISTER again (retransmission)")
                } else if out {
                    lastCSeq = m["CSeq"]
                    let auth = m["Authorization"].map { h -> String in
                        let p = (try? DigestChallenge.parameters(String(h.dropFirst(6)))) ?? [:]
                        return " with credentials (algorithm \(p["algorithm"] ?? "MD5"), qop \(p["qop"] ?? "none"), nc \(p["nc"] ?? "-"))"
                    } ?? ""
                    print("→ REGISTER Expires: \(m["Expires"] ?? "?")\(auth)")
                } else if let s = m.status, case .response(_, let reason) = m.startLine {
                    var line = "← \(s) \(reason)"
                    if let ch = m["WWW-Authenticate"] ?? m["Proxy-Authenticate"], let c = try? DigestChallenge(ch) {
                        line += ": challenge realm \"\(c.realm)\", algorithm \(c.algorithm.rawValue), qop \(c.qop.joined(separator: ",").isEmpty ? "none" : c.qop.joined(separator: ","))\(c.stale ? ", stale" : "")"
                    }
                    if s == 200, let granted = m.values("Contact").compactMap({ try? NameAddress($0) }).first(where: { $0.uri == settings.contact })?.parameters["expires"] ?? nil {
                        line += ": granted \(granted) s"
                    }
                    print(line)
                }
            }
            session.onStatus = { status in
                switch status {
                case .registered:
                    outcome.registered = true
                    session.stop()
                case .unregistered where outcome.registered:
                    outcome.lock.withLock { outcome.done = true; outcome.lock.broadcast() }
                case .failed(let reason):
                    print("registration failed: \(reason)")
                    outcome.lock.withLock { outcome.done = true; outcome.lock.broadcast() }
                case .retrying(_, let reason):
                    print("registration failed: \(reason)")
                    outcome.lock.withLock { outcome.done = true; outcome.lock.broadcast() }
                default:
                    break
                }
            }
            session.start()
        }
        let deadline = Instant.monotonicNow() + .seconds(40)
        outcome.lock.withLock {
            while !outcome.done && Instant.monotonicNow() < deadline { outcome.lock.wait(until: deadline) }
        }
        if !outcome.done { print("no answer from \(ip):\(port)") }
        let ok = outcome.done && outcome.registered
        print(ok ? "registered and unregistered" : "not registered")
        _ = blockingAwait { await closer() }
        return ok
    }

    final class SessionBox: @unchecked Sendable {
        var session: RegistrationSession?
    }

    final class ResultBox<T>: @unchecked Sendable {
        let lock = ConditionLock()
        var result: Result<T, any Error>?
    }

    /// Runs async work from synchronous code (the CLI's verbs are synchronous).
    static func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let box = ResultBox<T>()
        Task {
            let r: Result<T, any Error>
            do { r = .success(try await body()) } catch { r = .failure(error) }
            box.lock.withLock { box.result = r; box.lock.broadcast() }
        }
        return box.lock.withLock {
            while box.result == nil { box.lock.wait(until: nil) }
            return box.result!
        }
    }
}

extension String {
    var leftPadded12: String { count >= 12 ? String(prefix(12)) : String(repeating: "0", count: 12 - count) + self }
}
