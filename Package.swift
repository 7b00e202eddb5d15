// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "IOGate",
    products: [
        .library(name: "IOGate", targets: ["IOGate"]),
        .library(name: "IOGateServer", targets: ["IOGateServer"]),
        .executable(name: "iogate", targets: ["iogate"]),
        .executable(name: "iogated", targets: ["iogated"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure: addresses, windows, chunk planning, policy, boards, configuration.
        .target(name: "IOGateCore"),
        // Pure: the wire protocol codec.
        .target(name: "IOGateProtocol", dependencies: ["IOGateCore"]),
        // The only unsafe code: device open, chunked mmap, volatile access.
        .target(name: "CIOGateVolatile"),
        // System calls the Swift overlay lacks (prctl, seccomp).
        .target(name: "CIOGateSys", linkerSettings: [.linkedLibrary("seccomp")]),
        .target(name: "IOGateMapping", dependencies: ["IOGateCore", "CIOGateVolatile"]),
        // Simulated boards.
        .target(name: "IOGateMock", dependencies: ["IOGateCore"]),
        // libgpiod v1 (Debian libgpiod-dev 1.6) and the Swift module that owns its pointers.
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .target(name: "IOGateGPIO", dependencies: ["IOGateCore", "CGPIOD"]),
        .target(
            name: "IOGateServer",
            dependencies: [
                "IOGateCore", "IOGateProtocol", "IOGateMapping", "IOGateMock", "CIOGateSys", "IOGateGPIO",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Client library.
        .target(name: "IOGate", dependencies: ["IOGateCore", "IOGateProtocol"]),
        .executableTarget(
            name: "iogate",
            dependencies: [
                // iogated is not linked: naming it makes `swift run iogate demo` build the daemon the demo starts.
                "iogated",
                "IOGate", "IOGateServer", "IOGateGPIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "iogated", dependencies: ["IOGateServer"]),
        .testTarget(name: "IOGateCoreTests", dependencies: ["IOGateCore", "IOGateMock"]),
        .testTarget(name: "IOGateProtocolTests", dependencies: ["IOGateProtocol"]),
        .testTarget(
            name: "IOGateEndToEndTests",
            dependencies: ["IOGate", "IOGateServer", "IOGateGPIO", "iogate", "iogated"]),
    ],
    swiftLanguageModes: [.v5]
)

// libFuzzer targets, declared only for scripts/fuzz.sh (which sets IOGATE_FUZZ); see Fuzz/README.md.
if Context.environment["IOGATE_FUZZ"] != nil {
    package.targets += [
        .executableTarget(name: "fuzz-protocol", dependencies: ["IOGateProtocol"], path: "Fuzz/protocol"),
        .executableTarget(name: "fuzz-config", dependencies: ["IOGateCore"], path: "Fuzz/config"),
        .executableTarget(name: "fuzz-board", dependencies: ["IOGateCore"], path: "Fuzz/board"),
    ]
}
