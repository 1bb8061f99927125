import ArgumentParser
import LineHAL
import BringupTool

struct Board: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Board files: check one before using it.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a board file and print it as a table (exit 0 valid, 2 invalid).")

        @Argument(help: "The board file (JSON5), e.g. boards/sim.json5.")
        var file: String

        func run() throws {
            do {
                let board = try BoardFile.load(path: file)
                print(BoardReport.render(board, file: file), terminator: "")
                if !board.verified {
                    printError("warning: \(file): verified is false — line offsets are not confirmed on hardware")
                }
            } catch {
                printError("error: \(error)")
                throw Exit.badInput
            }
        }
    }
}
