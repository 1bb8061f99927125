#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which target this run exercises: `TIPRING_FUZZ_TARGET` (one of ``FuzzTargets/all``).
let selectedTarget: @Sendable ([UInt8]) -> Void = {
    let name = getenv("TIPRING_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTargets.all[name] else {
        let names = FuzzTargets.all.keys.sorted().joined(separator: ", ")
        printError("set TIPRING_FUZZ_TARGET to one of: \(names)")
        exit(2)
    }
    return target
}()

func printError(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

#if FUZZING
// Built with -sanitize=fuzzer: libFuzzer owns main() and calls this for every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget(bytes)
    return 0
}
#else
/// Without the fuzzer: runs every file named on the command line (a corpus, a crash to
/// reproduce) through the selected target.
@main
struct Replay {
    static func main() {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let f = fopen(path, "rb") else { printError("cannot open \(path)"); exit(2) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = fread(&buffer, 1, buffer.count, f)
                if n <= 0 { break }
                bytes += buffer[0..<n]
            }
            fclose(f)
            selectedTarget(bytes)
            count += 1
        }
        print("replayed \(count) input(s)")
    }
}
#endif
