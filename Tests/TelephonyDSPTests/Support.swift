import Foundation  // tests only: Process and temporary files
import TipRingCore
import TelephonyDSP
import TestSupport

/// Runs a program, feeding `input` on stdin; returns (status, stdout bytes, stderr text).
@discardableResult
func run(_ path: String, _ args: [String], input: [UInt8] = []) throws -> (status: Int32, out: [UInt8], err: String) {
    try runProcess(path, args, input: input)
}

func samples(_ bytes: [UInt8]) -> [Int16] { SpanDSP.samples(bytes) }

/// White Gaussian noise at a mean square, from a seeded source (Box–Muller).
func addNoise(_ x: [Int16], meanSquare: Double, seed: UInt64) -> [Int16] {
    var r = SeededRandom(seed: seed)
    let sigma = meanSquare.squareRoot()
    return x.map { s in
        let u1 = max(r.unit(), 1e-12), u2 = r.unit()
        let g = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
        return Int16(max(-32768, min(32767, (Double(s) + sigma * g).rounded())))
    }
}

func meanSquare(_ x: some Collection<Int16>) -> Double {
    x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(x.count, 1))
}
