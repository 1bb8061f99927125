import Foundation
import Testing

/// The module graph as `Package.swift` declares it (read through `swift package
/// dump-package`), held to the rules of ARCHITECTURE.md: an arrow the architecture forbids,
/// an `import` the manifest does not allow, or a graph table in ARCHITECTURE.md that no longer
/// matches the manifest fails here.
@Suite("Module graph")
struct ModuleGraphTests {
    @Test("no target depends, directly or through another, on what the architecture forbids")
    func forbiddenArrows() throws {
        let graph = try ModuleGraph.load()
        var broken: [String] = []
        for rule in ArchitectureRules.forbidden {
            for from in rule.from where graph.targets[from] != nil {
                let reached = graph.closure(of: from)
                for to in rule.to.sorted() where reached.contains(to) {
                    broken.append("\(from) → \(to) (\(graph.path(from: from, to: to).joined(separator: " → "))): \(rule.why)")
                }
            }
        }
        #expect(broken.isEmpty, "\n\(broken.joined(separator: "\n"))")
    }

    @Test("every `import` of one of our modules is a dependency Package.swift declares")
    func importsAreDeclared() throws {
        let graph = try ModuleGraph.load()
        var undeclared: [String] = []
        for (name, target) in graph.targets.sorted(by: { $0.key < $1.key }) {
            let allowed = graph.closure(of: name)
            for (file, module) in try target.imports(root: ModuleGraph.root)
            where graph.targets[module] != nil && module != name && !allowed.contains(module) {
                undeclared.append("\(file) imports \(module), which \(name) does not depend on in Package.swift")
            }
        }
        #expect(undeclared.isEmpty, "\n\(undeclared.joined(separator: "\n"))")
    }

    @Test("ARCHITECTURE.md's module table is the graph Package.swift declares")
    func documentedGraphIsCurrent() throws {
        let graph = try ModuleGraph.load()
        let text = try String(contentsOfFile: ModuleGraph.root + "/ARCHITECTURE.md", encoding: .utf8)
        let documented = ArchitectureDocument.dependencyTable(in: text)
        let declared = graph.productionTable()
        #expect(!documented.isEmpty, "ARCHITECTURE.md has no module table between the module-graph markers")
        let differing = Set(documented.keys).union(declared.keys).sorted().filter { documented[$0] != declared[$0] }
        #expect(differing.isEmpty, """
            ARCHITECTURE.md's module table differs from Package.swift for \(differing.joined(separator: ", ")); Package.swift says:
            \(ArchitectureDocument.render(declared.filter { differing.contains($0.key) }))
            """)
    }

    @Test("SIPCore is pure values: none of its files names a Scheduler (the runners are SIPAgent's)")
    func sipCoreHasNoScheduler() throws {
        let folder = ModuleGraph.root + "/Sources/SIPCore"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty)
        let naming = try files.filter { try String(contentsOfFile: folder + "/" + $0, encoding: .utf8).contains("Scheduler") }
        #expect(naming.isEmpty, "\(naming)")
    }

    @Test("the rules hold on a graph that breaks them (the check can fail)")
    func rulesBite() {
        let bad = ModuleGraph(targets: [
            "TipRingCore": .init(name: "TipRingCore", kind: "regular", path: nil, dependencies: []),
            "LineHAL": .init(name: "LineHAL", kind: "regular", path: nil, dependencies: ["TipRingCore"]),
            "SIPCore": .init(name: "SIPCore", kind: "regular", path: nil, dependencies: ["Helper"]),
            "Helper": .init(name: "Helper", kind: "regular", path: nil, dependencies: ["LineHAL"]),
        ])
        let sip = ArchitectureRules.forbidden.first { $0.from.contains("SIPCore") }
        #expect(sip.map { $0.to.contains("LineHAL") } == true)
        #expect(bad.closure(of: "SIPCore").contains("LineHAL"))
        #expect(bad.path(from: "SIPCore", to: "LineHAL") == ["SIPCore", "Helper", "LineHAL"])
    }
}

/// Which arrows the architecture forbids (ARCHITECTURE.md, "Rules").
enum ArchitectureRules {
    struct Rule { var from: Set<String>; var to: Set<String>; var why: String }
    static let hardware: Set<String> = ["LineHAL", "LinuxHAL", "PortAudio", "CTipRingGPIO", "CTipRingALSA", "CGPIOD", "CALSA", "BoardSimulator"]
    static let ours: Set<String> = [
        "SystemCalls", "CTipRingSys", "TelephonyDSP", "SIPCore", "SIPAgent", "SIPTransport", "CTipRingResolv", "LineHAL", "PortAudio",
        "RTPMedia", "PortControl", "LinuxHAL", "CTipRingGPIO", "CTipRingALSA", "CGPIOD", "CALSA", "PortStack", "BoardSimulator",
        "ExchangeSimulator", "TipRingDaemon", "BringupTool", "SimulatorApp", "TipRingApp", "tipring",
    ]
    static let forbidden: [Rule] = [
        Rule(from: ["TipRingCore"], to: ours, why: "the base imports nothing of ours"),
        Rule(from: ["SIPCore", "SIPAgent", "SIPTransport"], to: hardware,
             why: "SIP never imports hardware"),
        Rule(from: ["SIPCore"], to: ["SIPAgent", "SIPTransport", "SystemCalls"],
             why: "SIPCore is pure values: no scheduler-driven runner, no sockets"),
        Rule(from: ["PortControl"], to: ["SIPAgent", "SIPTransport", "RTPMedia", "LinuxHAL", "SystemCalls"],
             why: "port control talks SIP through UserAgent commands and events, never transport or media"),
        Rule(from: ["LineHAL", "PortAudio"], to: ["LinuxHAL", "CTipRingGPIO", "CTipRingALSA", "BoardSimulator", "ExchangeSimulator"],
             why: "the HAL never imports its implementations"),
        Rule(from: ["TelephonyDSP"], to: hardware.union(["SIPCore", "RTPMedia", "PortControl"]),
             why: "DSP is pure signal processing"),
        Rule(from: ["BoardSimulator", "ExchangeSimulator", "SimulatorApp"], to: ["LinuxHAL", "CTipRingGPIO", "CTipRingALSA"],
             why: "the simulators never import LinuxHAL"),
        Rule(from: ["PortStack"], to: ["LinuxHAL", "BoardSimulator", "ExchangeSimulator", "SimulatorApp", "TipRingDaemon", "BringupTool"],
             why: "a port is wired the same whatever its backend: the backend is handed in"),
    ]
}

/// The targets of the package and their dependencies on each other.
struct ModuleGraph {
    struct Target {
        var name: String
        var kind: String
        var path: String?
        var dependencies: [String]

        /// `(file, module)` for every import statement in the target's Swift sources.
        func imports(root: String) throws -> [(String, String)] {
            let folder = root + "/" + (path ?? (kind == "test" ? "Tests/\(name)" : "Sources/\(name)"))
            guard let files = FileManager.default.enumerator(atPath: folder) else { return [] }
            var found: [(String, String)] = []
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
                for line in text.split(separator: "\n") {
                    var words = line.split(separator: " ").map(String.init)
                    while let first = words.first, first != "import", first.hasPrefix("@") || ["public", "internal", "package", "private", "fileprivate"].contains(first) {
                        words.removeFirst()
                    }
                    if words.count >= 2, words[0] == "import" {
                        found.append(("\(folder.dropFirst(root.count + 1))/\(file)", words[1].split(separator: ".").first.map(String.init) ?? words[1]))
                    }
                }
            }
            return found
        }
    }

    var targets: [String: Target]

    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.path
    }()

    /// Runs `swift package dump-package` (its own scratch folder, so it never waits on the
    /// build the tests run from) and keeps our targets and their arrows to each other.
    static func load() throws -> ModuleGraph {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tipring-dump-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "--package-path", root, "--scratch-path", scratch.path, "dump-package"]
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = json["targets"] as? [[String: Any]] else {
            throw GraphError(description: "swift package dump-package failed (status \(process.terminationStatus))")
        }
        let names = Set(list.compactMap { $0["name"] as? String })
        var targets: [String: Target] = [:]
        for t in list {
            guard let name = t["name"] as? String, let kind = t["type"] as? String else { continue }
            let deps = (t["dependencies"] as? [[String: Any]] ?? []).compactMap { d -> String? in
                for key in ["byName", "target"] {
                    if let pair = d[key] as? [Any], let dep = pair.first as? String, names.contains(dep) { return dep }
                }
                return nil
            }
            targets[name] = Target(name: name, kind: kind, path: t["path"] as? String, dependencies: deps)
        }
        return ModuleGraph(targets: targets)
    }

    /// Every target `name` reaches through its dependencies (not itself).
    func closure(of name: String) -> Set<String> {
        var seen: Set<String> = []
        var stack = targets[name]?.dependencies ?? []
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack += targets[next]?.dependencies ?? []
        }
        return seen
    }

    /// One chain of arrows from `from` to `to` (breadth first: the shortest).
    func path(from: String, to: String) -> [String] {
        var previous: [String: String] = [:]
        var queue = [from]
        var visited: Set<String> = [from]
        while !queue.isEmpty {
            let node = queue.removeFirst()
            if node == to { break }
            for d in targets[node]?.dependencies ?? [] where visited.insert(d).inserted {
                previous[d] = node
                queue.append(d)
            }
        }
        var chain = [to]
        while let p = previous[chain[0]] { chain.insert(p, at: 0) }
        return chain.first == from ? chain : []
    }

    /// The production targets (not tests, nor the support code under `Tests/`) with their
    /// direct dependencies.
    func productionTable() -> [String: [String]] {
        var table: [String: [String]] = [:]
        for (name, t) in targets where t.kind != "test" && !(t.path ?? "").hasPrefix("Tests/") { table[name] = t.dependencies.sorted() }
        return table
    }
}

/// The module table in ARCHITECTURE.md, between `<!-- module-graph -->` and
/// `<!-- /module-graph -->`: rows of `| `Target` | `Dep`, `Dep` |`.
enum ArchitectureDocument {
    static func dependencyTable(in text: String) -> [String: [String]] {
        guard let start = text.range(of: "<!-- module-graph -->"), let end = text.range(of: "<!-- /module-graph -->") else { return [:] }
        var table: [String: [String]] = [:]
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[1].hasPrefix("`") else { continue }
            let name = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let deps = cells[2] == "—" ? [] : cells[2].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "` ")) }
            table[name] = deps.sorted()
        }
        return table
    }

    static func render(_ table: [String: [String]]) -> String {
        table.keys.sorted().map { name in
            let deps = table[name] ?? []
            return "| `\(name)` | " + (deps.isEmpty ? "—" : deps.map { "`\($0)`" }.joined(separator: ", ")) + " |"
        }.joined(separator: "\n")
    }
}

struct GraphError: Error, CustomStringConvertible { var description: String }
