package import Prometheus
import TipRingCore
package import SIPCore
package import PortControl
package import RTPMedia

/// What `/metrics` says, in Prometheus's text format (swift-prometheus's registry, used
/// directly: no process-wide metrics system to bootstrap). Counters grow as things happen;
/// the port gauges and the counters the daemon already keeps (drops, xruns) are brought up to
/// date when the page is read. Labels are few and bounded (port, a small set of kinds).
package final class DaemonMetrics: @unchecked Sendable {
    package let registry = PrometheusCollectorRegistry()
    /// The cumulative counts seen at the last scrape, by metric and labels.
    var seen: [String: Int64] = [:]

    package init() {}

    static let lossBuckets = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]
    static let jitterBuckets = [0.005, 0.01, 0.02, 0.04, 0.08, 0.16]
    static let toneBuckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]

    /// A registration's outcome (from the events the port's user agent passes on).
    package func registration(_ status: RegistrationStatus, port: Int) {
        switch status {
        case .registered:
            registry.makeCounter(name: "tipring_registrations_total", labels: [("port", "\(port)")], help: "Registrations granted.").increment()
        case .retrying(_, let reason), .failed(let reason):
            registry.makeCounter(name: "tipring_registration_failures_total", labels: [("port", "\(port)"), ("reason", Self.failureKind(reason))],
                                 help: "Registrations refused or unanswered, by kind.").increment()
        case .unregistered, .registering, .inServiceWithoutRegistration:
            break
        }
    }

    /// A finished call.
    package func call(_ r: CallRecord, port: Int, quality: CallStatistics?) {
        let p = ("port", "\(port)")
        registry.makeCounter(name: "tipring_calls_total", labels: [p, ("direction", r.direction.rawValue), ("result", Self.result(r))],
                             help: "Calls ended, by direction and result.").increment()
        registry.makeCounter(name: "tipring_call_seconds_total", labels: [p], help: "Seconds talked.").increment(by: r.talkSeconds)
        guard let q = quality, q.packetsReceived + q.packetsLost > 0 else { return }
        registry.makeValueHistogram(name: "tipring_rtp_loss_ratio", labels: [p], buckets: Self.lossBuckets, help: "Share of RTP packets lost, per call.")
            .record(Double(q.packetsLost) / Double(q.packetsReceived + q.packetsLost))
        registry.makeValueHistogram(name: "tipring_rtp_jitter_seconds", labels: [p], buckets: Self.jitterBuckets, help: "RTP interarrival jitter at the end of each call.")
            .record(q.jitterMilliseconds / 1000)
    }

    func fault(port: Int, part: String) {
        registry.makeCounter(name: "tipring_faults_total", labels: [("port", "\(port)"), ("part", part)], help: "Hardware faults that took a port out of service.").increment()
    }

    func seizureToTone(_ d: Duration, port: Int) {
        registry.makeValueHistogram(name: "tipring_seize_to_tone_seconds", labels: [("port", "\(port)")], buckets: Self.toneBuckets,
                                    help: "From a confirmed off-hook to its tone being set.").record(Double(d.nanoseconds) / 1e9)
    }

    /// The page, after the values read at scrape time.
    package func scrape(_ status: DaemonStatus, xruns: [Int: Int]) -> String {
        registry.makeGauge(name: "tipring_uptime_seconds", help: "Seconds since the daemon started.").set(Double(status.uptimeSeconds))
        for p in status.ports {
            let port = ("port", "\(p.port)")
            registry.makeGauge(name: "tipring_port_registered", labels: [port], help: "1 while the port's account is registered.")
                .set(p.registration.state == "registered" ? 1.0 : 0.0)
            registry.makeGauge(name: "tipring_port_in_service", labels: [port], help: "0 while a hardware fault keeps the port out of service.")
                .set(p.fault == nil ? 1.0 : 0.0)
            let d = p.dropped
            for (kind, count) in [("request", d.requests), ("response", d.responses), ("malformed", d.malformed), ("rtp", d.rtp)] {
                advance("tipring_dropped_packets_total", labels: [port, ("kind", kind)], to: count, help: "Packets from the network dropped, by kind.")
            }
            advance("tipring_audio_xruns_total", labels: [port], to: Int64(xruns[p.port] ?? 0), help: "Sound device under- and overruns recovered.")
        }
        return registry.emitToString()
    }

    /// A counter the daemon keeps itself, brought up to `total`.
    package func advance(_ name: String, labels: [(String, String)], to total: Int64, help: String) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let counter = registry.makeCounter(name: name, labels: labels, help: help)
        let before = seen[key] ?? 0
        if total > before { counter.increment(by: total - before) }
        seen[key] = max(before, total)
    }

    /// A registration failure's kind, from its reason (a bounded label set).
    static func failureKind(_ reason: String) -> String {
        let r = reason.lowercased()
        if r.contains("dns") { return "dns" }
        if r.contains("401") || r.contains("403") || r.contains("forbidden") || r.contains("credential") || r.contains("password") { return "credentials" }
        if r.contains("503") || r.contains("unavailable") { return "unavailable" }
        if r.contains("timeout") || r.contains("timed out") || r.contains("no answer") || r.contains("no response") { return "no-answer" }
        return "other"
    }

    /// A call's result label.
    static func result(_ r: CallRecord) -> String {
        if r.answered { return "answered" }
        switch r.end {
        case "busy": return "busy"
        case "missed": return "missed"
        case "refused here": return "refused"
        case "abandoned before an answer": return "abandoned"
        case "no answer from the network": return "no-answer"
        default: return "failed"
        }
    }
}
