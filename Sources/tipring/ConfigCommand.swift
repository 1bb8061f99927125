import ArgumentParser
import TipRingCore
import LineHAL
import TipRingDaemon

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Configuration files: check one before the daemon reads it.",
        subcommands: [Check.self, HashPassword.self]
    )

    struct HashPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-password",
            abstract: "Read the status page's password from standard input and print the passwordHash to configure (the password itself is never stored).")

        @Option(help: "The user name the browser will ask for.")
        var user: String = "admin"

        func run() throws {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                printError("error: no password on standard input (e.g. read -s p; echo \"$p\" | tipring config hash-password --user \(user))")
                throw Exit.badInput
            }
            print("web: { listen: \"0.0.0.0:8080\", user: \"\(user)\", passwordHash: \"\(WebAccess.secretHash(user: user, password: line))\" }")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file without starting anything (exit 0 valid, 2 with every error found).",
            discussion: "Each error names the file, line, column and key. With --board, also what only the board can tell: that every account and port section is for a port it has, and each port's hook timing against its profile.")

        @Argument(help: "The configuration file (JSON5), e.g. /etc/tipring/tipring.json5.")
        var file: String

        @Option(help: "The board file (JSON5) the daemon will run with.")
        var board: String?

        func run() throws {
            var errors: [String] = []
            var configuration: Configuration?
            do {
                let (c, found) = Configuration.decodeAll(try DocumentValue.load(path: file), environment: Configuration.processEnvironment())
                configuration = c
                errors += found.map { "\($0)" }
            } catch {
                errors.append("\(error)")  // unreadable, or not JSON5 at all
            }
            if let board, let configuration {
                do {
                    errors += configuration.problems(against: try BoardFile.load(path: board)).map { "\($0)" }
                } catch {
                    errors.append("\(error)")
                }
            }
            for w in configuration?.warnings ?? [] { printError("warning: \(w)") }
            guard errors.isEmpty else {
                for e in errors { printError("error: \(e)") }
                printError("\(file): \(errors.count) error\(errors.count == 1 ? "" : "s")")
                throw Exit.badInput
            }
            let c = configuration!
            print("\(file): valid — \(c.accounts.count) account\(c.accounts.count == 1 ? "" : "s") (ports \(c.accounts.map { String($0.port) }.joined(separator: ", ")))" + (board.map { ", checked against \($0)" } ?? ""))
        }
    }
}
