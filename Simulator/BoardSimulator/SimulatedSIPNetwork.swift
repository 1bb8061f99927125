public import TipRingCore
public import SIPCore

/// An in-memory datagram network for SIP tests, in the scheduler's time.
///
/// Endpoints exchange serialized bytes only. Knobs make it hostile: loss, delay (with
/// jitter, so datagrams can be reordered), duplication, and address changes (an endpoint
/// moves, as an LTE router does on reconnect). Every random choice comes from its own seeded
/// source, so a run is reproducible.
public final class SimulatedSIPNetwork: @unchecked Sendable {
    public struct Datagram: Sendable, Hashable {
        public var from: SIPNetworkAddress
        public var to: SIPNetworkAddress
        public var bytes: [UInt8]
        public var sentAt: Instant
    }

    public struct Conditions: Sendable, Hashable {
        /// Probability that a datagram is lost.
        public var loss: Double = 0
        /// Probability that a datagram arrives twice.
        public var duplication: Double = 0
        /// One-way delay and its random extra (which reorders datagrams).
        public var delay: Duration = .milliseconds(10)
        public var jitter: Duration = .zero
        public init(loss: Double = 0, duplication: Double = 0, delay: Duration = .milliseconds(10), jitter: Duration = .zero) {
            self.loss = loss
            self.duplication = duplication
            self.delay = delay
            self.jitter = jitter
        }
    }

    public let scheduler: any Scheduler
    var random: SeededRandom
    var endpoints: [SIPNetworkAddress: ([UInt8], SIPNetworkAddress) -> Void] = [:]
    public var conditions: Conditions
    /// Everything sent, in order (lost ones included), for assertions on the wire.
    public private(set) var sent: [Datagram] = []
    public private(set) var delivered = 0
    /// Called with every datagram as it is sent (traces, timelines).
    public var observer: ((Datagram) -> Void)?
    public private(set) var dropped = 0

    public init(scheduler: any Scheduler, seed: UInt64 = 1, conditions: Conditions = Conditions()) {
        self.scheduler = scheduler
        self.random = SeededRandom(seed: seed)
        self.conditions = conditions
    }

    /// Attaches an endpoint; `receive` is called with each datagram and its source.
    public func attach(_ address: SIPNetworkAddress, receive: @escaping ([UInt8], SIPNetworkAddress) -> Void) {
        endpoints[address] = receive
    }

    public func detach(_ address: SIPNetworkAddress) { endpoints[address] = nil }

    /// The endpoint at `old` now lives at `new` (its peers' datagrams to `old` are lost).
    public func move(_ old: SIPNetworkAddress, to new: SIPNetworkAddress) {
        guard let r = endpoints.removeValue(forKey: old) else { return }
        endpoints[new] = r
    }

    var natOutside: [SIPNetworkAddress: SIPNetworkAddress] = [:]
    var natInside: [SIPNetworkAddress: SIPNetworkAddress] = [:]

    /// Puts `inside` behind a NAT: its datagrams appear to come from `outside`, and datagrams
    /// to `outside` reach it (a full-cone mapping, as a home or carrier NAT gives).
    public func nat(inside: SIPNetworkAddress, outside: SIPNetworkAddress) {
        natOutside[inside] = outside
        natInside[outside] = inside
    }

    public func send(_ bytes: [UInt8], from inside: SIPNetworkAddress, to outsideTo: SIPNetworkAddress) {
        let from = natOutside[inside] ?? inside
        let to = natInside[outsideTo] ?? outsideTo
        let datagram = Datagram(from: from, to: to, bytes: bytes, sentAt: scheduler.now)
        sent.append(datagram)
        observer?(datagram)
        if random.unit() < conditions.loss {
            dropped += 1
            return
        }
        let copies = random.unit() < conditions.duplication ? 2 : 1
        for _ in 0..<copies {
            var delay = conditions.delay
            if conditions.jitter > .zero {
                delay += .nanoseconds(Int64(random.unit() * Double(conditions.jitter.nanoseconds)))
            }
            scheduler.schedule(after: delay) { [weak self] in
                guard let self, let receiver = self.endpoints[to] else {
                    self?.dropped += 1
                    return
                }
                self.delivered += 1
                receiver(bytes, from)
            }
        }
    }

    /// The messages sent so far that parse, with their addresses.
    public var messages: [(from: SIPNetworkAddress, to: SIPNetworkAddress, message: SIPMessage)] {
        sent.compactMap { d in (try? SIPParser.parse(d.bytes)).map { (d.from, d.to, $0) } }
    }
}
