// swift-tools-version: 6.0
import PackageDescription

// Release builds of the CLI are linked fully static: a process per access (`iogate read` in a shell
// loop) then skips the dynamic loader's relocations and symbol lookups, most of what was left of its
// start-up (docs/PERFORMANCE.md). Not with Swift 6.0 (Debian 13's packaged toolchain, which builds the
// arm64 packages and the README's on-board build): its static Foundation, which the argument parser
// pulls in, needs ICU archives Debian does not ship. IOGATE_STATIC_CLI=0 turns it off elsewhere too.
#if compiler(>=6.1)
    let staticCLI = Context.environment["IOGATE_STATIC_CLI"] != "0"
#else
    let staticCLI = false
#endif

let package = Package(
    name: "IOGate",
    products: [
        .library(name: "IOGate", targets: ["IOGate"]),
        .library(name: "IOGateServer", targets: ["IOGateServer"]),
        .executable(name: "iogate", targets: ["iogate"]),
        .executable(name: "iogated", targets: ["iogated"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // Pure: addresses, windows, chunk planning, policy, boards, configuration.
        .target(name: "IOGateCore"),
        // Pure: the wire protocol codec.
        .target(name: "IOGateProtocol", dependencies: ["IOGateCore"]),
        // The only code that touches device memory: device open, chunked mmap, guarded register accesses.
        .target(name: "CIOGateVolatile"),
        // CPU affinity for the bench (glibc hides it behind _GNU_SOURCE; a static CLI has no dlsym).
        .target(name: "CIOGateAffinity"),
        // System calls the Swift overlay lacks (prctl, seccomp).
        .target(name: "CIOGateSys", linkerSettings: [.linkedLibrary("seccomp")]),
        .target(name: "IOGateMapping", dependencies: ["IOGateCore", "CIOGateVolatile"]),
        // The system seam: errno, EINTR, descriptors, Unix socket addresses, child processes,
        // temporary directories, threads and board-file lookup, on Glibc alone (no Foundation, so no ICU).
        .target(name: "IOGateSystem", dependencies: ["IOGateCore"]),
        // Simulated boards.
        .target(name: "IOGateMock", dependencies: ["IOGateCore", "IOGateSystem"]),
        // One C API over libgpiod v1 (Debian 12) or v2 (Debian 13, Raspberry Pi OS), whichever
        // <gpiod.h> is installed (libgpiod-dev); both link as -lgpiod, all pkg-config adds on Debian.
        .target(name: "CGPIOD", linkerSettings: [.linkedLibrary("gpiod")]),
        // The Swift module that owns the shim's pointers.
        .target(name: "IOGateGPIO", dependencies: ["IOGateCore", "IOGateSystem", "CGPIOD"]),
        .target(
            name: "IOGateServer",
            dependencies: [
                "IOGateCore", "IOGateProtocol", "IOGateMapping", "IOGateMock", "CIOGateSys", "IOGateGPIO", "IOGateSystem",
            ]),
        // Client library.
        .target(name: "IOGate", dependencies: ["IOGateCore", "IOGateProtocol", "IOGateSystem"]),
        .executableTarget(
            name: "iogate",
            dependencies: [
                // Not the server: demo and bench start iogated as a process, and board lookup is in IOGateSystem.
                "IOGate", "IOGateSystem", "IOGateGPIO", "CIOGateAffinity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Fully static in release builds (see `staticCLI`); debug builds and the tests link as usual.
            linkerSettings: staticCLI ? [.unsafeFlags(["-static-executable"], .when(platforms: [.linux], configuration: .release))] : []),
        .executableTarget(name: "iogated", dependencies: ["IOGateServer"]),
        .testTarget(name: "IOGateCoreTests", dependencies: ["IOGateCore", "IOGateMock"]),
        .testTarget(name: "IOGateProtocolTests", dependencies: ["IOGateProtocol"]),
        // Fixtures the test targets share (temporary directories, running the products, a daemon
        // process, an in-process daemon's configuration and log); not a product.
        .target(
            name: "IOGateTestSupport", dependencies: ["IOGate", "IOGateCore", "IOGateServer", "IOGateSystem"],
            path: "Tests/IOGateTestSupport"),
        // The server in this process: checked access, batch checking, session framing, the kernel-line
        // guard; no process is spawned.
        .testTarget(
            name: "IOGateServerTests",
            dependencies: ["IOGateServer", "IOGate", "IOGateCore", "IOGateProtocol", "IOGateSystem", "IOGateGPIO", "IOGateTestSupport"]),
        .testTarget(
            name: "IOGateEndToEndTests",
            dependencies: ["IOGate", "IOGateServer", "IOGateSystem", "IOGateGPIO", "IOGateTestSupport", "iogate", "iogated"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, declared only for scripts/fuzz.sh (which sets IOGATE_FUZZ); see Fuzz/README.md.
if Context.environment["IOGATE_FUZZ"] != nil {
    package.targets += [
        .executableTarget(name: "fuzz-protocol", dependencies: ["IOGateProtocol"], path: "Fuzz/protocol"),
        .executableTarget(name: "fuzz-config", dependencies: ["IOGateCore"], path: "Fuzz/config"),
        .executableTarget(name: "fuzz-board", dependencies: ["IOGateCore"], path: "Fuzz/board"),
    ]
}
