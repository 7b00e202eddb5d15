import Glibc
import IOGateCore
import IOGateSystem

/// Where `iogate demo` and `iogate bench` find the `iogated` they start: beside `iogate` itself.
///
/// `swift run iogate demo` on a fresh clone builds only `iogate`. Declaring `iogated` as a
/// dependency would build it too, but SwiftPM then links the whole server into the CLI, so the CLI
/// builds the daemon itself instead: when it runs from a SwiftPM build folder
/// (`<package>/<scratch>/<triple>/<configuration>/iogate`) and `iogated` is not there yet, it runs
/// `swift build --product iogated` for the same folder and configuration, and says so.
enum DaemonExecutable {
    static func locate() throws(IOGateError) -> String {
        let path = FileSystem.siblingExecutable("iogated")
        if access(path, X_OK) == 0 { return path }
        let configDir = FileSystem.directory(of: path)
        let scratch = FileSystem.directory(of: FileSystem.directory(of: configDir))
        let package = FileSystem.directory(of: scratch)
        let configuration = String(configDir.split(separator: "/").last ?? "debug")
        guard ["debug", "release"].contains(configuration), access(package + "/Package.swift", R_OK) == 0,
            access(package + "/Sources/iogated", R_OK) == 0, let swift = findInPath("swift")
        else {
            throw IOGateError(
                .notFound, "iogated is not installed beside iogate (looked for \(path)); install both from the same package or build")
        }
        let argv = [
            swift, "build", "--package-path", package, "--scratch-path", scratch, "-c", configuration, "--product", "iogated",
        ]
        writeStandardError("iogate: iogated is not built yet; building it: \(argv.dropFirst().joined(separator: " "))\n")
        let status: Int32
        do { status = try ChildProcess(argv, stdout: .inherit, stderr: .inherit).wait() } catch {
            throw IOGateError(.system, "cannot run \(swift): \(error)")
        }
        guard status == 0, access(path, X_OK) == 0 else {
            throw IOGateError(.system, "building iogated failed (swift build exited \(status)); see the compiler's messages above")
        }
        return path
    }

    /// The first executable `name` in `$PATH`.
    static func findInPath(_ name: String) -> String? {
        guard let path = getenv("PATH") else { return nil }
        for dir in String(cString: path).split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 {
            return "\(dir)/\(name)"
        }
        return nil
    }
}
