/// Left-aligned columns separated by two spaces; the first row is the header, underlined.
public enum TextTable {
    public static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], cell.count)
            }
        }
        func line(_ row: [String]) -> String {
            var s = ""
            for (i, cell) in row.enumerated() {
                let last = i == row.count - 1
                s += last ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            return s + "\n"
        }
        var out = line(header)
        out += line(widths.map { String(repeating: "-", count: $0) })
        for row in rows.dropFirst() { out += line(row) }
        return out
    }
}
