/// A password or key: kept out of every description, debug description, `dump` and mirror,
/// so that no log line, status output or error message can carry it by accident. Only
/// ``value`` reads it, where it is needed (computing a digest response).
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "(hidden)" }
    public var debugDescription: String { "(hidden)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
