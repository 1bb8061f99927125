import SIPCore
import SIPAgent
import RTPMedia

/// What one port dropped from the network side: requests from strangers, responses from
/// anywhere but where their request went, datagrams that did not parse, and RTP/RTCP from
/// sources other than the call's far end.
struct DropCounts: Sendable, Hashable {
    var requests = 0, responses = 0, malformed = 0, media = 0

    init() {}

    init(agent: AccountAgent?, media: PortMedia?) {
        requests = agent?.droppedRequests ?? 0
        responses = agent?.droppedResponses ?? 0
        malformed = agent?.droppedMalformed ?? 0
        self.media = media?.droppedPackets ?? 0
    }

    var total: Int { requests + responses + malformed + media }

    /// `12 requests from strangers, 3 responses, 1,204 RTP`: the kinds that happened.
    static func sentence(requests: Int, responses: Int, malformed: Int, media: Int) -> String {
        var parts: [String] = []
        if requests > 0 { parts.append("\(grouped(requests)) request\(requests == 1 ? "" : "s") from strangers") }
        if responses > 0 { parts.append("\(grouped(responses)) response\(responses == 1 ? "" : "s")") }
        if malformed > 0 { parts.append("\(grouped(malformed)) malformed") }
        if media > 0 { parts.append("\(grouped(media)) RTP") }
        return parts.joined(separator: ", ")
    }

    var sentence: String { Self.sentence(requests: requests, responses: responses, malformed: malformed, media: media) }

    static func grouped(_ n: Int) -> String {
        var digits = String(n)
        var out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits.removeLast(3)
        }
        return digits + out
    }
}
