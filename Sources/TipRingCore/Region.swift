/// A country or territory, by its ISO 3166-1 alpha-2 code, lower case (`us`, `gb`, `de`).
///
/// Regional defaults — tones, ring cadence and frequency, caller-ID standard, hook
/// timing — are keyed by region. `uk` is accepted as an alias of `gb`, as people write it.
public struct Region: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The lower-case alpha-2 code.
    public let code: String

    /// Accepts an ISO 3166-1 alpha-2 code in any case; `uk` means `gb`.
    /// Returns nil for anything that is not an assigned code.
    public init?(_ text: String) {
        var c = text.lowercased()
        if c == "uk" { c = "gb" }
        guard c.utf8.count == 2, Region.assignedCodes.contains(c) else { return nil }
        code = c
    }

    public var description: String { code }

    public static func < (a: Region, b: Region) -> Bool { a.code < b.code }

    public static let us = Region("us")!
    public static let gb = Region("gb")!
    public static let de = Region("de")!

    /// Every officially assigned ISO 3166-1 alpha-2 code (249 entries).
    public static let assignedCodes: Set<String> = Set(
        """
        ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm bn bo
        bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj
        dk dm do dz ec ee eg eh er es et fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp
        gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg
        kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk ml
        mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe
        pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl
        sm sn so sr ss st sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug um
        us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    )
}
