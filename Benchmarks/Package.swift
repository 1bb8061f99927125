// swift-tools-version:6.1
// TipRing's benchmarks, kept out of the main package so that it never needs
// benchmark-only dependencies. Run: `cd Benchmarks && swift package benchmark`
// (release build; prints figures, asserts nothing about wall-clock time).
import PackageDescription

let package = Package(
    name: "TipRingBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TipRing", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "BenchmarkSupport", path: "Sources/BenchmarkSupport"),
        .systemLibrary(name: "COSIP", pkgConfig: "libosip2", providers: [.apt(["libosip2-dev"])]),
        // Our SIP parser+serializer and libosip2's on the same messages; prints the ratio.
        // Run: `swift run -c release SIPComparison`
        .executableTarget(
            name: "SIPComparison",
            dependencies: ["COSIP", "BenchmarkSupport", .product(name: "SIPCore", package: "TipRing")],
            path: "Benchmarks/SIPComparison"
        ),
        .systemLibrary(name: "CSpanDSP", pkgConfig: "spandsp", providers: [.apt(["libspandsp-dev"])]),
        // Our DSP and spandsp on the same input in one run; prints rates and ratios.
        // Run: `swift run -c release DSPComparison`
        .executableTarget(
            name: "DSPComparison",
            dependencies: [
                "CSpanDSP",
                "BenchmarkSupport",
                .product(name: "TelephonyDSP", package: "TipRing"),
                .product(name: "TipRingCore", package: "TipRing"),
            ],
            path: "Benchmarks/DSPComparison"
        ),
        // spandsp's T.30 fax machines (the tests' fixture) and the fax matrix through the
        // simulated board and exchange: V.17 and V.29, with and without ECM, 0 / 0.5 / 2 % RTP loss.
        // Run: `swift run -c release FaxMatrix`
        .target(name: "CFaxTerminal", path: "Sources/CFaxTerminal", linkerSettings: [.linkedLibrary("spandsp"), .linkedLibrary("tiff")]),
        .executableTarget(
            name: "FaxMatrix",
            dependencies: [
                "CFaxTerminal", "BenchmarkSupport",
                .product(name: "SimulatorApp", package: "TipRing"),
                .product(name: "BoardSimulator", package: "TipRing"),
                .product(name: "PortControl", package: "TipRing"),
                .product(name: "RTPMedia", package: "TipRing"),
                .product(name: "TipRingCore", package: "TipRing"),
            ],
            path: "Benchmarks/FaxMatrix"
        ),
        // The daemon's idle cost (CPU, wake-ups) with two ports registered and on-hook, on the
        // simulated board and on alsa-lib's null device; baresip idle in the same run.
        // Run: `swift run -c release IdleBenchmark`
        .executableTarget(name: "IdleBenchmark", dependencies: ["BenchmarkSupport"], path: "Benchmarks/IdleBenchmark"),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        // Media CPU per call and calls per core; a TipRing port and baresip in one call, in
        // clear and with SRTP; SRTP per packet against libsrtp2.
        // Run: `swift run -c release MediaBenchmark`
        .executableTarget(
            name: "MediaBenchmark",
            dependencies: [
                "BenchmarkSupport", "CSRTP",
                .product(name: "SimulatorApp", package: "TipRing"),
                .product(name: "PortStack", package: "TipRing"),
                .product(name: "SystemCalls", package: "TipRing"),
                .product(name: "RTPMedia", package: "TipRing"),
                .product(name: "PortControl", package: "TipRing"),
                .product(name: "SIPTransport", package: "TipRing"),
                .product(name: "SIPCore", package: "TipRing"),
                .product(name: "LineHAL", package: "TipRing"),
                .product(name: "PortAudio", package: "TipRing"),
                .product(name: "TelephonyDSP", package: "TipRing"),
                .product(name: "TipRingCore", package: "TipRing"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/MediaBenchmark"
        ),
        .executableTarget(
            name: "AudioEngineBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LineHAL", package: "TipRing"),
                .product(name: "PortAudio", package: "TipRing"),
                .product(name: "RTPMedia", package: "TipRing"),
                .product(name: "SIPCore", package: "TipRing"),
                .product(name: "TipRingCore", package: "TipRing"),
            ],
            path: "Benchmarks/AudioEngine",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
