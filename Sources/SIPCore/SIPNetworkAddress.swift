/// A transport address: host (a name, an IPv4 address or an IPv6 address) and port.
public struct SIPNetworkAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(_ host: String, _ port: Int = 5060) {
        self.host = host
        self.port = port
    }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
