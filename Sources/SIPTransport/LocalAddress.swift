public import TipRingCore
import SystemCalls

/// The local IPv4 address the kernel would use to reach a destination — what a Contact
/// and Via must carry.
public enum LocalAddress {
    public static func toward(ipv4 host: String, port: Int) throws(SystemError) -> String {
        guard let destination = IPv4Endpoint(host: host, port: port, anyPort: true) else {
            throw .notAnIPv4Address(host)
        }
        return try Route.sourceAddress(toward: destination)
    }

    /// Resolves a host name to an IPv4 address (numeric hosts pass through).
    public static func resolveIPv4(_ host: String) throws(SystemError) -> String {
        try Resolver.ipv4(host).host
    }
}
