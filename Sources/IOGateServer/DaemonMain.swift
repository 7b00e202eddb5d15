import Glibc
import IOGateCore
import IOGateSystem

/// The `iogated` command line: `iogated [--config FILE] [--boards DIR] [--check]`.
public enum DaemonMain {
    static let usage = """
        usage: iogated [--config FILE] [--boards DIR] [--check | --seccomp-selftest | --measure-loads FILE BASE COUNT]
          --config FILE  configuration (default /etc/iogate/iogate.toml)
          --boards DIR   board files that add to or override the built-in boards
                         (default: $IOGATE_BOARDS, /etc/iogate/boards, /usr/share/iogate/boards, ./boards)
          --check        check the configuration and board, map nothing, and exit
          --seccomp-selftest  install the daemon's seccomp filter in this process and show that forbidden calls fail
          --measure-loads FILE BASE COUNT  time COUNT volatile 32-bit loads from FILE at BASE (for iogate bench)
        """

    /// Runs the daemon; returns the process exit status.
    public static func run(_ args: [String]) -> Int32 {
        var configPath = "/etc/iogate/iogate.toml"
        var boardsDir: String?
        var checkOnly = false
        var i = 1
        while i < args.count {
            switch args[i] {
            case "--config" where i + 1 < args.count: configPath = args[i + 1]; i += 1
            case "--boards" where i + 1 < args.count: boardsDir = args[i + 1]; i += 1
            case "--check": checkOnly = true
            case "--seccomp-selftest":
                let (lines, ok) = Privileges.seccompSelfTest()
                for l in lines { print(l) }
                print(ok ? "seccomp self-test: every forbidden call was refused" : "seccomp self-test: FAILED")
                return ok ? 0 : 1
            case "--measure-loads" where i + 3 < args.count:
                guard let base = parseInteger(args[i + 2]), let count = Int(args[i + 3]), count > 0 else {
                    writeStandardError("iogated: error: --measure-loads needs FILE BASE COUNT (BASE a number, COUNT > 0)\n")
                    return 2
                }
                do {
                    let ns = try LoadMeasurement.run(file: args[i + 1], base: base, count: count)
                    print(formatDouble("%.3f", ns.inlined), formatDouble("%.3f", ns.existential))
                    return 0
                } catch {
                    writeStandardError("iogated: error: \(error.message)\n")
                    return 1
                }
            case "-h", "--help": print(usage); return 0
            case "--version": print("iogated 0.1.0 (protocol 3)"); return 0
            default:
                writeStandardError("iogated: error: unknown or incomplete argument '\(args[i])'\n\(usage)\n")
                return 2
            }
            i += 1
        }
        let logger = Logger.standardError(label: "iogated", level: .info)
        do {
            let config = try ConfigLoader.load(configPath)
            let catalog = config.board == nil ? nil : try BoardDirectory.catalog(boardsDir)
            let daemon = try Daemon(config: config, boards: catalog, logger: logger)
            if checkOnly {
                print(
                    "iogated: \(configPath) is valid: \(daemon.policy.grants.count) grants over \(PhysicalRange.union(daemon.policy.allRanges).count) windows\(daemon.board.map { " of board \($0.id)" } ?? "")"
                )
                return 0
            }
            installSignalHandling(daemon)
            try daemon.start()
            writeStandardError("iogated: ready on \(config.socket)\n")
            daemon.serve()
            if let replay = daemon.replay {
                // The replay's verdict is the exit status: 0 only when every recorded access was made.
                if let failed = replay.verdict() {
                    writeStandardError("iogated: replay failed: \(failed.message)\n")
                    return 1
                }
                writeStandardError("iogated: replay complete: all \(replay.recordCount) recorded accesses matched\n")
            }
            return 0
        } catch {
            writeStandardError("iogated: error: \(error.message)\n")
            return 1
        }
    }

    /// Blocks SIGTERM/SIGINT/SIGHUP in every thread and handles them on one thread with sigwait.
    static func installSignalHandling(_ daemon: Daemon) {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        spawnThread(stackSize: 256 << 10) {
            var sig: Int32 = 0
            while sigwait(&set, &sig) == 0 {
                if sig == SIGHUP {
                    daemon.reload()
                } else {
                    daemon.stop()  // serve() returns on the main thread once requests in flight finish
                    return
                }
            }
        }
    }
}
