// swift-tools-version:6.1
// TipRing: analog phone ports (FXS) of a small Linux box, connected to SIP.
// Module direction (DESIGN.md): a target imports only targets listed above it.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "TipRing",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tipring", targets: ["tipring"]),
        .library(name: "TipRingCore", targets: ["TipRingCore"]),
        .library(name: "SystemCalls", targets: ["SystemCalls"]),
        .library(name: "TelephonyDSP", targets: ["TelephonyDSP"]),
        .library(name: "LineHAL", targets: ["LineHAL"]),
        .library(name: "PortAudio", targets: ["PortAudio"]),
        .library(name: "SIPCore", targets: ["SIPCore"]),
        .library(name: "SIPAgent", targets: ["SIPAgent"]),
        .library(name: "PortControl", targets: ["PortControl"]),
        .library(name: "RTPMedia", targets: ["RTPMedia"]),
        .library(name: "SIPTransport", targets: ["SIPTransport"]),
        .library(name: "PortStack", targets: ["PortStack"]),
        .library(name: "TipRingDaemon", targets: ["TipRingDaemon"]),
        .library(name: "BringupTool", targets: ["BringupTool"]),
        .library(name: "SimulatorApp", targets: ["SimulatorApp"]),
        .library(name: "BoardSimulator", targets: ["BoardSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // 4.x: FoundationEssentials only (3.x pulls full Foundation).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "TipRingCore", swiftSettings: strict),
        .target(name: "CTipRingSys"),
        .target(name: "SystemCalls", dependencies: ["TipRingCore", "CTipRingSys"], swiftSettings: strict),
        .target(name: "TelephonyDSP", dependencies: ["TipRingCore"], swiftSettings: strict),
        .target(name: "LineHAL", dependencies: ["TipRingCore", "TelephonyDSP"], swiftSettings: strict),
        // The per-port audio engine and the DSP adapters it plays and feeds; hardware only
        // through LineHAL's AudioPort.
        .target(name: "PortAudio", dependencies: ["TipRingCore", "TelephonyDSP", "LineHAL"], swiftSettings: strict),
        .target(
            name: "SIPCore",
            dependencies: ["TipRingCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The runners that drive SIPCore's machines on a Scheduler: the user agent (calls, message
        // waiting), the account agent (server order, failover, keep-alive, screening), the
        // registration session, the address watcher.
        .target(name: "SIPAgent", dependencies: ["TipRingCore", "SIPCore"], swiftSettings: strict),
        // DNS SRV and A look-ups: the C library's resolver (glibc res_nquery, musl res_query),
        // a UDP exchange of its own with a given server, answers parsed with ns_parserr.
        .target(name: "CTipRingResolv", linkerSettings: [.linkedLibrary("resolv")]),
        .target(
            name: "SIPTransport",
            dependencies: [
                "TipRingCore", "SystemCalls", "SIPCore", "SIPAgent", "CTipRingResolv",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // libgpiod (v1 or v2, as the system has it) and alsa-lib, through small C shims.
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .target(name: "CTipRingGPIO", dependencies: ["CGPIOD"]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .target(name: "CTipRingALSA", dependencies: ["CALSA"]),
        .target(
            name: "LinuxHAL",
            dependencies: ["TipRingCore", "SystemCalls", "LineHAL", "CTipRingGPIO", "CTipRingALSA"],
            swiftSettings: strict
        ),
        // libopus (RFC 6716), the field's Opus codec, through a small C shim.
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .target(name: "CTipRingOpus", dependencies: ["COpus"]),
        .target(name: "RTPMedia", dependencies: ["TipRingCore", "SystemCalls", "TelephonyDSP", "PortAudio", "SIPCore", "SIPAgent", "CTipRingOpus",
                                                 // Its BoringSSL (CCryptoBoringSSL) is what SRTP calls.
                                                 .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(
            name: "PortControl",
            dependencies: ["TipRingCore", "TelephonyDSP", "LineHAL", "PortAudio", "SIPCore"],
            swiftSettings: strict
        ),
        .target(
            name: "BoardSimulator",
            dependencies: ["TipRingCore", "TelephonyDSP", "LineHAL", "SIPCore"],
            path: "Simulator/BoardSimulator",
            swiftSettings: strict
        ),
        // The one place a port is wired (line, audio, media, SIP account, controller) from a
        // board backend (real or simulated) and settings.
        .target(
            name: "PortStack",
            dependencies: ["TipRingCore", "SystemCalls", "TelephonyDSP", "LineHAL", "PortAudio", "SIPCore", "SIPAgent", "RTPMedia", "PortControl"],
            swiftSettings: strict
        ),
        // `tipring run`: lifecycle, reload, shutdown, configuration, control socket, status, logging.
        .target(
            name: "TipRingDaemon",
            dependencies: [
                "TipRingCore", "SystemCalls", "TelephonyDSP", "LineHAL", "PortAudio", "LinuxHAL", "SIPCore", "SIPAgent", "SIPTransport", "RTPMedia",
                "PortControl", "PortStack", "BoardSimulator",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // `tipring bringup …` and `tipring board check`: what an engineer runs on a new board.
        .target(
            name: "BringupTool",
            dependencies: ["TipRingCore", "SystemCalls", "TelephonyDSP", "LineHAL", "PortAudio", "LinuxHAL", "PortStack", "BoardSimulator"],
            swiftSettings: strict
        ),
        // The simulator's front-ends: the simulated system, the demo, `sim script`, `sim exchange`,
        // and the live board (simulated phones, real SIP and RTP) the interop tests call through.
        .target(
            name: "SimulatorApp",
            dependencies: [
                "TipRingCore", "SystemCalls", "TelephonyDSP", "LineHAL", "PortAudio", "SIPCore", "SIPAgent", "SIPTransport", "RTPMedia", "PortControl",
                "PortStack", "BoardSimulator",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Simulator/SimulatorApp",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tipring",
            dependencies: [
                "TipRingDaemon", "BringupTool", "SimulatorApp", "PortStack", "TipRingCore", "SystemCalls", "LineHAL", "BoardSimulator",
                "TelephonyDSP", "SIPCore", "SIPAgent", "SIPTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // libFuzzer targets over every parser of what peers send (scripts/fuzz.sh builds them
        // with -sanitize=fuzzer,address); a plain build replays files through them.
        .executableTarget(
            name: "tipring-fuzz",
            dependencies: ["TipRingCore", "TelephonyDSP", "LineHAL", "SIPCore", "RTPMedia", "CTipRingResolv"],
            path: "Fuzz/Sources"
        ),
        // What the tests share: the repository's root, the simulated line rig.
        .target(
            name: "TestSupport",
            dependencies: ["TipRingCore", "TelephonyDSP", "LineHAL", "BoardSimulator", "SIPCore"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TipRingCoreTests", dependencies: ["TipRingCore", "TestSupport"]),
        .testTarget(name: "SystemCallsTests", dependencies: ["SystemCalls", "TipRingCore", "SIPCore", "TestSupport"]),
        // Reads this manifest and holds it to ARCHITECTURE.md's rules.
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "TelephonyDSPTests", dependencies: ["TelephonyDSP", "TestSupport"]),
        .testTarget(name: "LineHALTests", dependencies: ["LineHAL", "BoardSimulator", "SystemCalls", "TestSupport"]),
        .testTarget(name: "PortAudioTests", dependencies: ["PortAudio", "LineHAL", "BoardSimulator", "TestSupport"]),
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore", "SIPAgent", "BoardSimulator", "TipRingCore"]),
        .testTarget(name: "SIPAgentTests", dependencies: ["SIPAgent", "SIPCore", "BoardSimulator", "TipRingCore"]),
        .testTarget(name: "SIPTransportTests", dependencies: ["SIPTransport", "SIPAgent", "SIPCore", "SystemCalls", "BoardSimulator", "TipRingCore", "TestSupport"]),
        .testTarget(name: "BoardSimulatorTests", dependencies: ["BoardSimulator", "LineHAL", "PortAudio", "TestSupport"]),
        .testTarget(name: "LinuxHALTests", dependencies: ["LinuxHAL", "LineHAL", "TipRingCore", "TestSupport"]),
        .testTarget(name: "RTPMediaTests", dependencies: ["RTPMedia", "PortAudio", "TelephonyDSP", "SIPCore", "SIPAgent", "TipRingCore", "LineHAL", "TestSupport",
                                                         .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "PortControlTests", dependencies: ["PortControl", "RTPMedia", "SimulatorApp", "PortStack", "BoardSimulator", "LineHAL", "SIPCore", "SIPAgent", "SIPTransport", "TelephonyDSP", "TipRingCore", "TestSupport"]),
        .testTarget(name: "TipRingDaemonTests", dependencies: ["TipRingDaemon", "TipRingCore", "SystemCalls", "LineHAL", "SIPCore", "SIPTransport", "TestSupport"]),
        .testTarget(name: "SimulatorAppTests", dependencies: ["SimulatorApp", "LineHAL", "TipRingCore", "TestSupport"]),
        // Everything that starts a real peer (Kamailio, baresip, sipp, dnsmasq, tshark) or the
        // built binary; the process harness they share is ProcessHarness.swift.
        .testTarget(name: "InteropTests", dependencies: [
            "TipRingDaemon", "SimulatorApp", "PortStack", "TipRingCore", "SystemCalls", "LineHAL", "SIPCore", "SIPAgent", "SIPTransport", "RTPMedia", "TelephonyDSP",
            "PortControl", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
