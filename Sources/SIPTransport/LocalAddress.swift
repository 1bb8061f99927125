public import TipRingCore
import SystemCalls

/// The local address (IPv4 or IPv6) the kernel would use to reach a destination — what a
/// Contact and Via must carry.
public enum LocalAddress {
    public static func toward(host: String, port: Int) throws(SystemError) -> String {
        guard let destination = IPEndpoint(host: host, port: port, anyPort: true) else {
            throw .notAnIPAddress(host)
        }
        return try Route.sourceAddress(toward: destination)
    }

    /// The first address of a host name (numeric hosts pass through), IPv4 or IPv6 as the
    /// system's address selection orders them.
    public static func resolve(_ host: String) throws(SystemError) -> String {
        guard let first = try Resolver.addresses(host).first else { throw .notAnIPAddress(host) }
        return first.host
    }
}
