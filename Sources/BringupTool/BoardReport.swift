import TipRingCore
public import LineHAL

/// Renders a board description as the table `tipring board check` prints.
public enum BoardReport {
    public static func render(_ board: BoardDescription, file: String) -> String {
        var out = "board \(board.name)"
        if !board.summary.isEmpty { out += " — \(board.summary)" }
        out += "\n"
        out += "file      \(file)\n"
        out += "driver    \(board.driver.rawValue)\n"
        out += "verified  \(board.verified ? "yes" : "NO — line offsets not yet confirmed on hardware")\n"
        out += "timing    \(board.timingProfile)\n"
        out += "ports     \(board.ports.count)\n\n"

        var rows: [[String]] = [["port", "signal", "chip", "line", "active"]]
        for port in board.ports {
            for role in port.signals.keys.sorted() {
                let line = port.signals[role]!
                rows.append(["\(port.id)", role.rawValue, port.gpioChip, "\(line.offset)", (line.activeLow ? "low" : "high") + (line.drive == .openDrain ? ", open drain" : "")])
            }
        }
        out += TextTable.render(rows)
        out += "\n"
        var audio: [[String]] = [["port", "audio device", "rate", "period", "ring Hz (min–max)"]]
        for port in board.ports {
            audio.append([
                "\(port.id)", port.audio.device, "\(port.audio.format.sampleRate)",
                "\(port.audio.format.periodMilliseconds) ms",
                "\(fmt(port.ring.defaultFrequency)) (\(fmt(port.ring.minimumFrequency))–\(fmt(port.ring.maximumFrequency)))",
            ])
        }
        out += TextTable.render(audio)
        return out
    }

    static func fmt(_ d: Double) -> String {
        d.rounded() == d ? "\(Int(d))" : "\(d)"
    }
}
