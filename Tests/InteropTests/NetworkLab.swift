import Foundation  // tests only: processes
import TipRingCore

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

    func ip(_ ns: String?, _ args: [String]) throws {
        if let ns { try run("/usr/sbin/ip", ["-n", ns] + args) } else { try run("/usr/sbin/ip", args) }
    }

    func inNamespace(_ ns: String, _ command: [String]) throws -> String {
        try run("/usr/sbin/ip", ["netns", "exec", ns] + command)
    }

    private func build() throws {
        for ns in [inside, router, outside] { try ip(nil, ["netns", "add", ns]) }
        // veth names are made in the root namespace first: unique per lab.
        try ip(nil, ["link", "add", "a\(suffix)", "type", "veth", "peer", "name", "b\(suffix)"])
        try ip(nil, ["link", "set", "a\(suffix)", "netns", inside])
        try ip(nil, ["link", "set", "b\(suffix)", "netns", router])
        try ip(nil, ["link", "add", "c\(suffix)", "type", "veth", "peer", "name", "d\(suffix)"])
        try ip(nil, ["link", "set", "c\(suffix)", "netns", router])
        try ip(nil, ["link", "set", "d\(suffix)", "netns", outside])
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
