import COSIP
import SIPCore
import BenchmarkSupport

#if canImport(Glibc)
import Glibc
#endif


/// Messages per CPU-second for `body` (which handles one message), over ≥ 1.5 CPU-seconds.
func rate(_ body: () -> Void) -> Double {
    for _ in 0..<1000 { body() }
    var n = 0
    let start = cpuSeconds()
    repeat {
        for _ in 0..<1000 { body() }
        n += 1000
    } while cpuSeconds() - start < 1.5
    return Double(n) / (cpuSeconds() - start)
}


func crlf(_ s: String) -> [UInt8] { Array(s.replacing("\n", with: "\r\n").utf8) }

let register = crlf("""
REGISTER sip:registrar.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport
Max-Forwards: 70
From: <sip:1001@example.com>;tag=9fxced76sl
To: <sip:1001@example.com>
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
Contact: <sip:1001@192.0.2.10:5060>;expires=3600;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"
Authorization: Digest username="1001", realm="example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sip:registrar.example.com", response="dfe56131d1958046689d83306477ecc", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b"
User-Agent: TipRing/0.1
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY
Expires: 3600
Content-Length: 0


""")

let sdp = "v=0\no=- 3724394400 3724394400 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 40000 RTP/AVP 0 8 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=ptime:20\na=sendrecv\n".replacing("\n", with: "\r\n")

let invite = crlf("""
INVITE sip:1002@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;rport
Max-Forwards: 70
To: <sip:1002@example.com>
From: "Port 1" <sip:1001@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@192.0.2.10
CSeq: 314159 INVITE
Contact: <sip:1001@192.0.2.10:5060>
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY
Supported: replaces, timer
Content-Type: application/sdp
Content-Length: \(sdp.utf8.count)


""") + Array(sdp.utf8)

let ok = crlf("""
SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK2d4790.1;received=192.0.2.1
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;rport=5060;received=192.0.2.10
Record-Route: <sip:192.0.2.1;lr>
To: <sip:1002@example.com>;tag=a6c85cf
From: "Port 1" <sip:1001@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@192.0.2.10
CSeq: 314159 INVITE
Contact: <sip:1002@192.0.2.20:5060>
Content-Length: 0


""")

parser_init()
print("TipRing SIP parse+serialize vs libosip2, same bytes, one run (messages per CPU-second)")
print("")
var worst = Double.infinity
for (name, bytes) in [("REGISTER with Authorization", register), ("INVITE with SDP", invite), ("200 OK (2 Via, Record-Route)", ok)] {
    // Both must understand the message.
    let ourMessage = try! SIPParser.parse(bytes)
    var check: UnsafeMutablePointer<osip_message_t>?
    osip_message_init(&check)
    let parsedByOsip = bytes.withUnsafeBufferPointer { b in
        b.withMemoryRebound(to: CChar.self) { osip_message_parse(check, $0.baseAddress, b.count) }
    }
    osip_message_free(check)
    precondition(parsedByOsip == 0, "libosip2 could not parse \(name)")
    _ = ourMessage

    let ours = rate {
        let m = try! SIPParser.parse(bytes)
        let out = m.serialized()
        precondition(out.count > 0)
    }
    let peer = rate {
        var msg: UnsafeMutablePointer<osip_message_t>?
        osip_message_init(&msg)
        _ = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { osip_message_parse(msg, $0.baseAddress, b.count) }
        }
        var dest: UnsafeMutablePointer<CChar>?
        var len = 0
        _ = osip_message_to_str(msg, &dest, &len)
        free(dest)  // osip_free is free() unless custom allocators are set
        osip_message_free(msg)
    }
    // The fair row: libosip2 parses every header into its structures (Via, From, To, CSeq,
    // Contact, Call-ID, Authorization, Record-Route); ours parses lazily, so this row reads
    // every header typed as well before serializing.
    let oursTyped = rate {
        let m = try! SIPParser.parse(bytes)
        var read = 0
        for v in m.values("Via") { if let via = try? Via(v), via.branch != nil { read += 1 } }
        for n in ["From", "To", "Contact", "Record-Route", "Route"] {
            for v in m.values(n) { if let a = try? NameAddress(v), (try? SIPURI(a.uri)) != nil { read += 1 } }
        }
        if let c = m["CSeq"], (try? CSeq(c)) != nil { read += 1 }
        if m["Call-ID"] != nil { read += 1 }
        if HeaderNumbers.deltaSeconds(m["Max-Forwards"], in: 0...255) != nil { read += 1 }
        if HeaderNumbers.deltaSeconds(m["Content-Length"], in: HeaderNumbers.contentLength) != nil { read += 1 }
        if let auth = m["Authorization"], (try? DigestChallenge.parameters(String(auth.dropFirst(6)))) != nil { read += 1 }
        let out = m.serialized()
        precondition(out.count > 0 && read > 3)
    }
    worst = min(worst, oursTyped / peer)
    print("\(name) (\(bytes.count) bytes)")
    print("  TipRing \(Int(ours)) msg/s   libosip2 \(Int(peer)) msg/s   ratio \(fixed(ours / peer, 2))×")
    print("  every header read typed too: TipRing \(Int(oursTyped)) msg/s   ratio \(fixed(oursTyped / peer, 2))×")
}
print("")
print("lowest ratio: \(fixed(worst, 2))×")
