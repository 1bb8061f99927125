import Testing
import PortControl

@Suite("Dial plan (digit map)")
struct DialPlanTests {
    @Test("decisions as digits come in", arguments: [
        ("(*xx|[2-9]11|x.T)", "9", DialPlan.Decision.waitShort),
        ("(*xx|[2-9]11|x.T)", "91", .waitShort),
        ("(*xx|[2-9]11|x.T)", "911", .waitShort),  // x.T could still go on
        ("(*xx|[2-9]11)", "911", .dial),
        ("(*xx|[2-9]11)", "*7", .waitLong),
        ("(*xx|[2-9]11)", "*72", .dial),
        ("(*xx|[2-9]11)", "111", .reject),
        ("(1xxx|0.T)", "100", .waitLong),
        ("(1xxx|0.T)", "1002", .dial),
        ("(1xxx|0.T)", "00", .waitShort),
        ("(1xxx|0.T)", "5", .reject),
        ("([13579]x)", "37", .dial),
        ("([13579]x)", "47", .reject),
        ("(1xxx|1xxxxx)", "1234", .waitShort),
        ("(1xxx|1xxxxx)", "123456", .dial),
        ("(*#)", "*#", .dial),
    ])
    func decisions(plan: String, digits: String, expected: DialPlan.Decision) throws {
        #expect(try DialPlan(plan).decide(digits) == expected)
    }

    @Test("on the timer: complete or not")
    func timeout() throws {
        let p = try DialPlan("(1xxx|0x.T)")
        #expect(p.completeOnTimeout("0"))
        #expect(p.completeOnTimeout("0049301234"))
        #expect(!p.completeOnTimeout("10"))
    }

    @Test("bad plans say what is wrong", arguments: [
        ("", "the dial plan is empty"),
        ("(12", "'(' without a closing ')'"),
        ("(1|)", "an empty alternative (two '|' in a row, or one at an end)"),
        ("(.1)", "'.' must follow a digit, x or a set in '.1'"),
        ("(1T2)", "'T' must end its alternative ('1T2')"),
        ("([9-2])", "range 9-2 runs backwards"),
        ("(1a)", "'a' is not allowed (use 0-9 * # x [..] . T | and parentheses)"),
        ("([1", "'(' without a closing ')'"),
    ])
    func badPlans(text: String, message: String) {
        #expect(throws: DialPlanError(plan: text, message: message)) { try DialPlan(text) }
    }
}
