import ArgumentParser
import Glibc
import IOGate
import IOGateSystem

/// `iogate`: read and write hardware registers through iogated.
struct IOGateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iogate",
        abstract: "Read and write hardware registers through the iogated broker.",
        discussion: """
            Usage: iogate [--socket PATH] <subcommand> ...
            ADDR is a physical address (0xFE20001C) or WINDOW+OFFSET (gpio+0x1c).
            Exit status: 0 success, 1 refused by policy or failed, 2 usage error, 3 daemon unreachable.
            """,
        version: "iogate 0.1.0 (protocol 3)",
        subcommands: [
            Read.self, Write.self, Modify.self, Wait.self, Dump.self, Windows.self, Boards.self, GPIO.self, Pins.self, Replay.self,
            Demo.self,
            Bench.self,
        ]
    )
}

/// Options every command that talks to the daemon shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's socket (default: $IOGATE_SOCKET, else /run/iogate/iogate.sock).")
    var socket: String?

    func connect() throws -> IOGateClient {
        try IOGateClient(socketPath: socket ?? IOGateClient.defaultSocketPath)
    }
}

/// Register width in bits, as `--width` takes it.
struct WidthOption: ParsableArguments {
    @Option(name: .long, help: "Access width in bits: 8, 16, 32 or 64.")
    var width: Int = 32

    var accessWidth: AccessWidth { AccessWidth(bits: width)! }

    /// Refuses a number that does not fit in the chosen width, as a usage error naming `field`.
    func checkFits(_ value: UInt64, _ field: String) throws {
        do { try AccessWidth(bits: width)?.check(value, field: field) } catch { throw ValidationError(error.message) }
    }

    func validate() throws {
        guard AccessWidth(bits: width) != nil else {
            throw ValidationError("--width \(width) is not supported; use 8, 16, 32 or 64")
        }
    }
}

/// Parses a number argument (hex `0x..`, binary `0b..`, decimal).
func number(_ text: String, _ what: String) throws -> UInt64 {
    guard let v = parseInteger(text) else {
        throw ValidationError("\(what) '\(text)' is not a number; use hex (0x1F), binary (0b101) or decimal")
    }
    return v
}

func address(_ text: String) throws -> AddressExpression {
    do { return try AddressExpression(parsing: text) } catch { throw ValidationError(error.message) }
}

/// Accepts `iogate --socket PATH <subcommand> ...` (the documented form) as well as the option
/// after the subcommand: a leading `--socket` is passed on through `IOGATE_SOCKET`.
func hoistingSocket(_ args: [String]) -> [String] {
    var args = args
    if args.first == "--socket", args.count >= 2 {
        setenv("IOGATE_SOCKET", args[1], 1)
        args.removeFirst(2)
    } else if let first = args.first, first.hasPrefix("--socket=") {
        setenv("IOGATE_SOCKET", String(first.dropFirst("--socket=".count)), 1)
        args.removeFirst()
    }
    return args
}

/// Runs the command line and maps every failure to the documented exit status.
@main
enum Main {
    static func main() {
        let args = hoistingSocket(Array(CommandLine.arguments.dropFirst()))
        if let read = QuickRead(args) { read.run() }
        do {
            var command = try IOGateCommand.parseAsRoot(args)
            try command.run()
        } catch let e as IOGateError {
            writeStandardError("iogate: \(e.message)\n")
            exit(e.code == .unreachable ? 3 : 1)
        } catch let e as Errno {
            // A system call of the CLI itself failed (demo and bench: temporary files, child processes).
            writeStandardError("iogate: \(e.description)\n")
            exit(1)
        } catch let e as ExitCode {
            exit(e.rawValue)
        } catch {
            if IOGateCommand.exitCode(for: error) == .success {
                print(IOGateCommand.fullMessage(for: error))
                exit(0)
            }
            writeStandardError(IOGateCommand.fullMessage(for: error) + "\n")
            exit(2)
        }
    }
}

/// `iogate read ADDR [--width N] [--socket PATH]`, the devmem-style one-process-per-access form,
/// without the argument parser: it starts in a fraction of the time (the parser's reflection asks
/// the runtime for protocol conformances, a scan of every conformance record of the binary), and
/// sends the hello and the read in one write (`IOGateClient.connectAndRead`), so a read, also of
/// `WINDOW+OFFSET`, is one round trip. Anything else (`--json`, `--count`, `--help`, a bad
/// argument) goes to the parser, which prints what it always did; the output and exit status of
/// this path are the parser's `Read` command's. It writes its line with one `write(2)`, not `print`
/// (which also asks for conformances).
struct QuickRead {
    let address: AddressExpression
    let width: AccessWidth
    let socket: String?

    init?(_ args: [String]) {
        guard args.count >= 2, args[0] == "read" else { return nil }
        var address: AddressExpression?, width = AccessWidth.word, socket: String?
        var i = 1
        while i < args.count {
            let a = args[i]
            if a == "--width" || a == "--socket" {
                guard i + 1 < args.count else { return nil }
                if a == "--socket" {
                    socket = args[i + 1]
                } else {
                    guard let bits = Int(args[i + 1]), let w = AccessWidth(bits: bits) else { return nil }
                    width = w
                }
                i += 2
                continue
            }
            guard !a.hasPrefix("-"), address == nil, let parsed = try? AddressExpression(parsing: a) else { return nil }
            address = parsed
            i += 1
        }
        guard let address else { return nil }
        (self.address, self.width, self.socket) = (address, width, socket)
    }

    func run() -> Never {
        do throws(IOGateError) {
            let value = try IOGateClient.connectAndRead(socketPath: socket ?? IOGateClient.defaultSocketPath, address, width: width)
            var line = hex(value, digits: width.hexDigits) + "\n"
            _ = line.withUTF8 { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            exit(0)
        } catch {
            writeStandardError("iogate: \(error.message)\n")
            exit(error.code == .unreachable ? 3 : 1)
        }
    }
}
