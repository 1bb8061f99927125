import Foundation  // tests only: processes
import TipRingCore
import TestSupport

/// `ip` (inside network namespace `ns` when given); throws with its error output when it fails.
func ip(_ ns: String?, _ args: [String]) throws {
    let r = try runCommand("/usr/sbin/ip", (ns.map { ["-n", $0] } ?? []) + args)
    guard r.status == 0 else { throw ToolError(description: "ip \(args.joined(separator: " ")): exit \(r.status): \(r.err)\(r.out)") }
}

/// A veth pair made in the root namespace (names unique per lab), its ends moved into two
/// namespaces.
func vethPair(_ a: String, into nsA: String, _ b: String, into nsB: String) throws {
    try ip(nil, ["link", "add", a, "type", "veth", "peer", "name", b])
    try ip(nil, ["link", "set", a, "netns", nsA])
    try ip(nil, ["link", "set", b, "netns", nsB])
}

/// A small internet of the test's own, made of Linux network namespaces joined by veth pairs
/// (root only; nothing outside the namespaces is touched):
///
///     inside (the router's LAN, 10.77.x.2)  ──  router (NAT: masquerade, UDP timeout 30 s)  ──  outside (198.18.x.2: servers)
///
/// The router namespace forwards and masquerades what leaves toward the outside, as an LTE
/// router (or a carrier's NAT) does; its UDP mappings expire after 30 s of silence.
final class NetworkLab {
    let inside: String, router: String, outside: String
    /// Addresses: the LAN side (`10.77.N.0/24`), the outside (`198.18.N.0/24`).
    let net: Int
    var insideAddress: String
    var routerOutside: String { "198.18.\(net).1" }
    var serverAddress: String { "198.18.\(net).2" }
    let suffix: String

    init() throws {
        suffix = String(SecureRandom.token().prefix(5))
        net = Int(SecureRandom.next() % 200) + 20
        inside = "tri-\(suffix)"
        router = "trr-\(suffix)"
        outside = "tro-\(suffix)"
        insideAddress = "10.77.\(net).2"
        do { try build() } catch {
            tearDown()
            throw error
        }
    }

    /// Runs a command; throws with its output when it fails.
    @discardableResult
    func run(_ path: String, _ args: [String]) throws -> String {
        let r = try runCommand(path, args)
        guard r.status == 0 else { throw ToolError(description: "\(path) \(args.joined(separator: " ")): exit \(r.status): \(r.err)\(r.out)") }
        return r.out
    }

    func inNamespace(_ ns: String, _ command: [String]) throws -> String {
        try run("/usr/sbin/ip", ["netns", "exec", ns] + command)
    }

    private func build() throws {
        for ns in [inside, router, outside] { try ip(nil, ["netns", "add", ns]) }
        try vethPair("a\(suffix)", into: inside, "b\(suffix)", into: router)
        try vethPair("c\(suffix)", into: router, "d\(suffix)", into: outside)
        for ns in [inside, router, outside] { try ip(ns, ["link", "set", "lo", "up"]) }
        try ip(inside, ["addr", "add", "\(insideAddress)/24", "dev", "a\(suffix)"])
        try ip(inside, ["link", "set", "a\(suffix)", "up"])
        try ip(inside, ["route", "add", "default", "via", "10.77.\(net).1"])
        try ip(router, ["addr", "add", "10.77.\(net).1/24", "dev", "b\(suffix)"])
        try ip(router, ["addr", "add", "\(routerOutside)/24", "dev", "c\(suffix)"])
        try ip(router, ["link", "set", "b\(suffix)", "up"])
        try ip(router, ["link", "set", "c\(suffix)", "up"])
        try ip(outside, ["addr", "add", "\(serverAddress)/24", "dev", "d\(suffix)"])
        try ip(outside, ["link", "set", "d\(suffix)", "up"])
        _ = try inNamespace(router, ["/usr/sbin/sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        // The NAT: everything leaving toward the outside takes the router's address.
        let rules = """
        table ip nat {
          chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
            oifname "c\(suffix)" masquerade
          }
        }
        """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-nat-\(suffix).nft").path
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try inNamespace(router, ["/usr/sbin/nft", "-f", file])
        // Conntrack's UDP timeouts are the namespace's own: 30 s of silence ends a mapping.
        _ = try inNamespace(router, ["/usr/sbin/sysctl", "-q", "-w", "net.netfilter.nf_conntrack_udp_timeout=30"])
        _ = try inNamespace(router, ["/usr/sbin/sysctl", "-q", "-w", "net.netfilter.nf_conntrack_udp_timeout_stream=30"])
    }

    /// The LTE address change: the inside gets a new address, the old one disappears.
    func changeInsideAddress() throws {
        let old = insideAddress
        insideAddress = "10.77.\(net).3"
        try ip(inside, ["addr", "del", "\(old)/24", "dev", "a\(suffix)"])
        try ip(inside, ["addr", "add", "\(insideAddress)/24", "dev", "a\(suffix)"])
        try ip(inside, ["route", "replace", "default", "via", "10.77.\(net).1"])
    }

    /// Cuts the router off from the outside (the carrier's path to the registrar), or mends it.
    func cutOutside(_ cut: Bool) throws {
        try ip(router, ["link", "set", "c\(suffix)", cut ? "down" : "up"])
    }

    func tearDown() {
        for ns in [inside, router, outside] { _ = try? runCommand("/usr/sbin/ip", ["netns", "del", ns]) }
    }

    deinit { tearDown() }
}

/// Two namespaces on one subnet joined through a third that bridges them in user space,
/// losing and delaying UDP as a bad LTE path does (this kernel has no netem qdisc):
///
///     near (10.78.x.2)  ──  impair (bridge.py: loss, 0..jitter ms)  ──  far (10.78.x.3)
final class ImpairedLink {
    let near: String, impair: String, far: String
    let net: Int
    let suffix: String
    var nearAddress: String { "10.78.\(net).2" }
    var farAddress: String { "10.78.\(net).3" }
    var bridge: pid_t = 0
    let bridgeLog: String

    init(loss: Double, jitterMilliseconds: Int, seed: Int = 1) throws {
        suffix = String(SecureRandom.token().prefix(5))
        net = Int(SecureRandom.next() % 200) + 20
        near = "tin-\(suffix)"
        impair = "tim-\(suffix)"
        far = "tif-\(suffix)"
        bridgeLog = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-bridge-\(suffix).log").path
        do {
            try build(loss: loss, jitterMilliseconds: jitterMilliseconds, seed: seed)
        } catch {
            tearDown()
            throw error
        }
    }

    private func build(loss: Double, jitterMilliseconds: Int, seed: Int) throws {
        for ns in [near, impair, far] { try ip(nil, ["netns", "add", ns]) }
        try vethPair("n\(suffix)", into: near, "p\(suffix)", into: impair)
        try vethPair("q\(suffix)", into: impair, "f\(suffix)", into: far)
        for ns in [near, impair, far] { try ip(ns, ["link", "set", "lo", "up"]) }
        try ip(near, ["addr", "add", "\(nearAddress)/24", "dev", "n\(suffix)"])
        try ip(far, ["addr", "add", "\(farAddress)/24", "dev", "f\(suffix)"])
        try ip(near, ["link", "set", "n\(suffix)", "up"])
        try ip(far, ["link", "set", "f\(suffix)", "up"])
        for dev in ["p\(suffix)", "q\(suffix)"] { try ip(impair, ["link", "set", dev, "up", "promisc", "on"]) }
        bridge = try spawn("/usr/sbin/ip", ["netns", "exec", impair, "/usr/bin/python3", repositoryRoot + "/Tests/Fixtures/impair/bridge.py",
                                            "p\(suffix)", "q\(suffix)", "\(loss)", "\(jitterMilliseconds)", "\(seed)"],
                           stdout: bridgeLog, stderr: bridgeLog)
        // Ready once it has bound both interfaces and said so.
        let up = waitForPeer(10, every: 0.05) { ((try? String(contentsOfFile: bridgeLog, encoding: .utf8)) ?? "").hasPrefix("bridge ") }
        guard up else { throw ToolError(description: "the impairing bridge did not start: \((try? String(contentsOfFile: bridgeLog, encoding: .utf8)) ?? "")") }
    }

    func tearDown() {
        if bridge > 0 { stopProcess(bridge, with: SIGKILL); bridge = 0 }
        for ns in [near, impair, far] { _ = try? runCommand("/usr/sbin/ip", ["netns", "del", ns]) }
        try? FileManager.default.removeItem(atPath: bridgeLog)
    }

    deinit { tearDown() }
}
