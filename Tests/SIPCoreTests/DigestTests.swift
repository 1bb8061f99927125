import Testing
@testable import SIPCore

func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

@Suite struct SHA512_256Tests {
    // FIPS 180-4 example vectors (NIST CSRC "SHA-512/256" examples).
    @Test func fipsVectors() {
        #expect(hex(SHA512_256.hash(Array("abc".utf8))) == "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23")
        #expect(hex(SHA512_256.hash([])) == "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a")
        let two = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(hex(SHA512_256.hash(Array(two.utf8))) == "3928e184fb8690f840da3988121d31be65cb9d3ef83ee6146feac861e19b563a")
    }
}

@Suite struct DigestTests {
    // RFC 7616 §3.9.1.
    let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
    let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

    func response(_ algorithm: String) throws -> String {
        let c = try DigestChallenge("Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=\(algorithm), nonce=\"\(nonce)\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"")
        var client = DigestClient(username: "Mufasa", password: "Circle of Life")
        let header = client.authorization(for: c, method: SIPMethod("GET"), uri: "/dir/index.html", cnonce: cnonce)
        let params = try DigestChallenge.parameters(String(header.dropFirst(6)))
        #expect(params["nc"] == "00000001")
        #expect(params["qop"] == "auth")
        #expect(params["opaque"] == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        return params["response"]!
    }

    @Test func rfc7616Vectors() throws {
        #expect(try response("MD5") == "8ca523f5e9506fed4657c9700eebdbec")
        #expect(try response("SHA-256") == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
        // SHA-512-256 (RFC 8760): the same exchange, response computed independently with
        // OpenSSL's sha512_256.
        #expect(try response("SHA-512-256") == "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0")
    }

    @Test func nonceCountIncreasesPerNonceAndRestartsForANewOne() throws {
        var client = DigestClient(username: "u", password: "p")
        let c1 = try DigestChallenge("Digest realm=\"r\", nonce=\"n1\", qop=\"auth\"")
        let c2 = try DigestChallenge("Digest realm=\"r\", nonce=\"n2\", qop=\"auth\", stale=true")
        func nc(_ h: String) throws -> String? { try DigestChallenge.parameters(String(h.dropFirst(6)))["nc"] }
        #expect(try nc(client.authorization(for: c1, method: .register, uri: "sip:r")) == "00000001")
        #expect(try nc(client.authorization(for: c1, method: .register, uri: "sip:r")) == "00000002")
        #expect(try nc(client.authorization(for: c2, method: .register, uri: "sip:r")) == "00000001")
        #expect(c2.stale)
        // Without qop (RFC 2069 style): no nc or cnonce.
        let old = try DigestChallenge("Digest realm=\"r\", nonce=\"n3\"")
        let h = client.authorization(for: old, method: .register, uri: "sip:r")
        #expect(!h.contains("nc=") && !h.contains("cnonce="))
        #expect(!h.contains("p\""))
    }

    @Test("a server (or anyone) handing out a new nonce with every challenge: the counts stay bounded, the nonce in use keeps counting")
    func nonceCountsAreBounded() throws {
        var client = DigestClient(username: "u", password: "p")
        func nc(_ h: String) throws -> String? { try DigestChallenge.parameters(String(h.dropFirst(6)))["nc"] }
        let current = try DigestChallenge("Digest realm=\"r\", nonce=\"current\", qop=\"auth\"")
        for i in 0..<10_000 {
            _ = client.authorization(for: try DigestChallenge("Digest realm=\"r\", nonce=\"n\(i)\", qop=\"auth\""), method: .register, uri: "sip:r")
            if i % 5 == 0 { _ = client.authorization(for: current, method: .register, uri: "sip:r") }
        }
        #expect(client.countedNonces <= 16)
        // Used 2,000 times among the flood, always recently enough to be remembered.
        #expect(try nc(client.authorization(for: current, method: .register, uri: "sip:r")) == "000007d1")  // 2,001
    }

    @Test func authIntHashesTheBody() throws {
        var client = DigestClient(username: "u", password: "p")
        let c = try DigestChallenge("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"")
        let a = client.authorization(for: c, method: .invite, uri: "sip:b@h", body: Array("v=0".utf8), cnonce: "x")
        var client2 = DigestClient(username: "u", password: "p")
        let b = client2.authorization(for: c, method: .invite, uri: "sip:b@h", body: Array("v=1".utf8), cnonce: "x")
        #expect(a.contains("qop=auth-int"))
        #expect(a != b)
    }

    @Test func theStrongestOfferedAlgorithmIsChosen() throws {
        let chosen = DigestChallenge.preferred([
            "Digest realm=\"a\", nonce=\"1\", algorithm=MD5",
            "Digest realm=\"a\", nonce=\"2\", algorithm=SHA-256",
            "Digest realm=\"a\", nonce=\"3\", algorithm=UNKNOWN-ALG",
        ])
        #expect(chosen?.algorithm == .sha256)
        #expect(throws: SIPParseError.self) { try DigestChallenge("Basic realm=\"x\"") }
        #expect(throws: SIPParseError.self) { try DigestChallenge("Digest nonce=\"x\"") }
        #expect(throws: SIPParseError.self) { try DigestChallenge("Digest realm=\"x, nonce=\"y\"") }
    }
}
