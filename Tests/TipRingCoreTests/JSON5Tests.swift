import Testing
@testable import TipRingCore

@Suite struct JSON5ParserTests {
    @Test func parsesTheJSON5Extensions() throws {
        let text = """
        // a comment
        {
          unquoted: 'single',  /* block
          comment */ "quoted": "a\\tb\\u00e9\\x41",
          hex: 0x1F, neg: -0x10, lead: .5, trail: 5., plus: +3, exp: 1e3,
          inf: -Infinity, list: [1, 2, 3,], nested: { deep: [ { x: null } ] },
          yes: true, no: false,
          cont: "line \\
        two",
        }
        """
        let v = try JSON5Parser.parse(text)
        guard case .object(let m) = v.kind else { Issue.record("not an object"); return }
        let d = Dictionary(uniqueKeysWithValues: m.map { ($0.key, $0.value.kind) })
        if case .string(let s) = d["unquoted"] { #expect(s == "single") } else { Issue.record("unquoted") }
        if case .string(let s) = d["quoted"] { #expect(s == "a\tbéA") } else { Issue.record("quoted") }
        if case .integer(let i) = d["hex"] { #expect(i == 31) } else { Issue.record("hex") }
        if case .integer(let i) = d["neg"] { #expect(i == -16) } else { Issue.record("neg") }
        if case .number(let x) = d["lead"] { #expect(x == 0.5) } else { Issue.record("lead") }
        if case .number(let x) = d["trail"] { #expect(x == 5) } else { Issue.record("trail") }
        if case .integer(let i) = d["plus"] { #expect(i == 3) } else { Issue.record("plus") }
        if case .number(let x) = d["exp"] { #expect(x == 1000) } else { Issue.record("exp") }
        if case .number(let x) = d["inf"] { #expect(x == -.infinity) } else { Issue.record("inf") }
        if case .array(let a) = d["list"] { #expect(a.count == 3) } else { Issue.record("list") }
        if case .bool(let b) = d["no"] { #expect(!b) } else { Issue.record("no") }
        if case .string(let s) = d["cont"] { #expect(s == "line two") } else { Issue.record("cont") }
        #expect(m.first { $0.key == "hex" }?.keyPosition == SourcePosition(line: 5, column: 3))
    }

    @Test(arguments: [
        ("{ a: 1", "1:7", "object opened at 1:1 is never closed"),
        ("{ a: 1 b: 2 }", "1:8", "expected ',' or '}'"),
        ("{\n  a: 1,\n  a: 2 }", "3:3", "duplicate key 'a' (first given at 2:3)"),
        ("[1, 2,, 3]", "1:7", "expected a value"),
        ("{ a: hello }", "1:6", "strings need quotes"),
        ("\"abc", "1:1", "never closed"),
        ("{ a: 'x\ny' }", "1:8", "line break inside a string"),
        ("", "1:1", "empty"),
        ("1 2", "1:3", "after the end"),
        ("/* open", "1:1", "never closed"),
        ("{ a: 0x }", "1:6", "malformed hex"),
        ("{ a: 12abc }", "1:6", "malformed number"),
        ("{ a: 1e }", "1:6", "exponent"),
    ])
    func reportsErrorsWithPositions(text: String, position: String, fragment: String) {
        do {
            _ = try JSON5Parser.parse(text)
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.position.description == position, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }

    @Test func refusesDeepNestingInsteadOfCrashing() {
        let deep = String(repeating: "[", count: 10_000)
        #expect(throws: JSON5SyntaxError.self) { try JSON5Parser.parse(deep) }
    }

    @Test func survivesEveryPrefixOfADocument() {
        let text = "{ a: [1, 'two', { b: 0x3 }], c: -Infinity, d: \"\\u00e9\" } // end"
        let bytes = Array(text.utf8)
        for n in 0...bytes.count {
            _ = try? JSON5Parser.parse(Array(bytes[0..<n]))
        }
        #expect(throws: Never.self) { try JSON5Parser.parse(bytes) }
    }
}

@Suite struct DocumentValueTests {
    func doc(_ text: String) throws -> DocumentValue {
        try DocumentValue.parse(Array(text.utf8), file: "x.json5")
    }

    @Test func unknownKeysAreReportedWithTheNearestValidKey() throws {
        let d = try doc("{\n  nmae: 'a' }")
        #expect(throws: DocumentError(file: "x.json5", position: SourcePosition(line: 2, column: 3), path: "nmae",
                                      message: "unknown key 'nmae' (did you mean 'name'?)")) {
            _ = try d.object(allowed: ["name", "ports"])
        }
    }

    @Test func typeAndRangeErrorsNameThePath() throws {
        let d = try doc("{ a: { b: [1, 'x', 2.5, 99] } }")
        let items = try d.object(allowed: ["a"]).required("a").object(allowed: ["b"]).required("b").array()
        #expect(try items[0].int(in: 0...10) == 1)
        // Each must throw (a check that passes when nothing throws proves nothing).
        let e1 = #expect(throws: DocumentError.self) { try items[1].int(in: 0...10) }
        #expect(e1?.description == "x.json5:1:15: a.b[1]: expected a whole number, found a string")
        let e2 = #expect(throws: DocumentError.self) { try items[2].int(in: 0...10) }
        #expect(e2?.message == "expected a whole number, found 2.5")
        let e3 = #expect(throws: DocumentError.self) { try items[3].int(in: 0...10) }
        #expect(e3?.description == "x.json5:1:25: a.b[3]: 99 is out of range 0…10")
    }

    @Test(arguments: [("nmae", "name"), ("hooksense", "hookSense"), ("hookSence", "hookSense"), ("ag117", "ag1171"), ("fr", nil), ("zzzz", nil)] as [(String, String?)])
    func suggestsOnlyCloseWords(word: String, expected: String?) {
        #expect(DocumentValue.suggestion(for: word, among: ["name", "hookSense", "ag1171", "us", "ports"]) == expected)
    }

    @Test func missingKeyAndChoiceErrors() throws {
        let o = try doc("{ kind: 'ag117' }").object(allowed: ["kind", "name"])
        let missing = #expect(throws: DocumentError.self) { try o.required("name") }
        #expect(missing?.message == "missing required key 'name'")
        let wrong = #expect(throws: DocumentError.self) { try o.required("kind").oneOf(["ag1171", "gpio-ring"]) }
        #expect(wrong?.message == "'ag117' is not one of: ag1171, gpio-ring (did you mean 'ag1171'?)")
    }

    @Test func unreadableFileIsADocumentError() {
        do {
            _ = try DocumentValue.load(path: "/nonexistent/board.json5")
            Issue.record("loaded")
        } catch {
            #expect(error.file == "/nonexistent/board.json5")
            #expect(error.message.contains("No such file"))
        }
    }
}
