import Foundation
import Glibc
import IOGate
import IOGateGPIO
import IOGateTestSupport
import Testing

/// The path of `name` on PATH (or a standard directory), if it exists.
func which(_ name: String) -> String? {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin:/bin:/usr/sbin:/sbin"
    for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
    return nil
}

/// Installs into a temporary DESTDIR with scripts/install.sh, using the binaries just built.
func installIntoDestdir(_ dest: TempDir, prefix: String = "/usr/local", uninstall: Bool = false) throws -> Run {
    try run(
        "/bin/bash", [repositoryRoot + "/scripts/install.sh"] + (uninstall ? ["--uninstall"] : ["--bin-dir", productsDirectory]),
        environment: ["DESTDIR": dest.path, "PREFIX": prefix])
}

/// The pieces that fit IOGate into a board's system: the install script, systemd units, udev
/// rules, and socket activation.
@Suite(.serialized)
struct SystemIntegrationTests {
    static let boardFiles =
        (try? FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/boards").filter { $0.hasSuffix(".toml") }) ?? []

    func mode(_ path: String) -> mode_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o7777 : nil
    }

    @Test func installScriptIntoDestdirAndBack() throws {
        let dest = TempDir()
        let r = try installIntoDestdir(dest)
        #expect(r.status == 0, "\(r.stderr)")
        let root = dest.path
        for (path, m) in [
            ("/usr/local/bin/iogate", 0o755), ("/usr/local/bin/iogated", 0o755),
            ("/usr/local/lib/systemd/system/iogated.socket", 0o644), ("/usr/local/lib/systemd/system/iogated.service", 0o644),
            ("/usr/local/lib/udev/rules.d/90-iogate.rules", 0o644), ("/etc/iogate/iogate.toml.example", 0o644),
            ("/usr/local/share/doc/iogate/README.md", 0o644),
        ] as [(String, mode_t)] {
            #expect(mode(root + path) == m, "\(path)")
        }
        #expect(!Self.boardFiles.isEmpty)
        for b in Self.boardFiles { #expect(mode(root + "/usr/local/share/iogate/boards/" + b) == 0o644, "\(b)") }
        // The installed binaries are the ones just built and they run.
        let v = try run(root + "/usr/local/bin/iogated", ["--version"])
        #expect(v.status == 0 && v.stdout.hasPrefix("iogated "))
        // With DESTDIR the running system is left alone: accounts are only announced.
        #expect(r.stdout.contains("would run: useradd --system --gid iogate"), "\(r.stdout)")
        #expect(r.stdout.contains("would run: groupadd --system gpio"))
        #expect(!r.stdout.contains("would run: systemctl"))
        // The example configuration is valid for the daemon (its board and grant are resolved
        // only on a board; here check the parse with a known board and this machine's accounts).
        let example = try String(contentsOfFile: root + "/etc/iogate/iogate.toml.example", encoding: .utf8)
        let parsed = try Config.parse(text: example, file: "iogate.toml.example")
        #expect(parsed.protectKernelLines && parsed.socket == "/run/iogate/iogate.sock" && parsed.socketGroup == "iogate")

        // A PREFIX of /usr moves everything, and the service's ExecStart follows it.
        let usr = TempDir()
        #expect(try installIntoDestdir(usr, prefix: "/usr").status == 0)
        let unit = try String(contentsOfFile: usr.path + "/usr/lib/systemd/system/iogated.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/iogated --config /etc/iogate/iogate.toml"))
        #expect(!unit.contains("/usr/local"))

        // The reverse removes every file it installed, but never the administrator's configuration.
        try "board = \"rpi4\"\n".write(toFile: root + "/etc/iogate/iogate.toml", atomically: false, encoding: .utf8)
        let u = try installIntoDestdir(dest, uninstall: true)
        #expect(u.status == 0, "\(u.stderr)")
        #expect(u.stdout.contains("kept \(root)/etc/iogate/iogate.toml"))
        #expect(u.stdout.contains("would run: userdel iogate"))
        let left = FileManager.default.enumerator(atPath: root)?.allObjects.compactMap { $0 as? String } ?? []
        let files = left.filter { path in mode(root + "/" + path) != nil && !isDirectory(root + "/" + path) }
        #expect(files == ["etc/iogate/iogate.toml"], "\(files)")
    }

    func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    @Test(.enabled(if: which("systemd-analyze") != nil, "systemd-analyze is not installed (Debian package systemd)"))
    func systemdAnalyzeVerifyAcceptsTheInstalledUnits() throws {
        let dest = TempDir()
        #expect(try installIntoDestdir(dest).status == 0)
        // verify checks that ExecStart's program exists: point the units at the DESTDIR copy.
        let units = TempDir()
        for u in ["iogated.socket", "iogated.service"] {
            let text = try String(contentsOfFile: dest.path + "/usr/local/lib/systemd/system/" + u, encoding: .utf8)
            try text.replacingOccurrences(of: "/usr/local/bin/", with: dest.path + "/usr/local/bin/")
                .write(toFile: units.file(u), atomically: false, encoding: .utf8)
        }
        let r = try run(which("systemd-analyze")!, ["verify", units.file("iogated.socket"), units.file("iogated.service")])
        // verify exits 0 on unknown keys but prints them: any output is a finding.
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty && r.stdout.isEmpty, "\(r.stdout)\(r.stderr)")

        // The check has teeth: a misspelt key is reported.
        try "[Service]\nExecStart=/bin/true\nNoNewPrivilege=yes\n".write(
            toFile: units.file("bad.service"), atomically: false, encoding: .utf8)
        let bad = try run(which("systemd-analyze")!, ["verify", units.file("bad.service")])
        #expect(bad.stderr.contains("Unknown key 'NoNewPrivilege'"), "\(bad.stderr)")
    }

    @Test func unitsAreCommentedAndHardened() throws {
        let service = try String(contentsOfFile: repositoryRoot + "/systemd/iogated.service", encoding: .utf8)
        for setting in [
            "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateNetwork=yes",
            "CapabilityBoundingSet=CAP_SYS_RAWIO CAP_SETUID CAP_SETGID", "DeviceAllow=/dev/mem rw",
            "DevicePolicy=closed", "ProtectKernelTunables=yes", "RestrictAddressFamilies=AF_UNIX",
            "MemoryDenyWriteExecute=yes", "SystemCallArchitectures=native", "LockPersonality=yes",
        ] {
            #expect(service.contains("\n" + setting + "\n"), "\(setting)")
        }
        let socket = try String(contentsOfFile: repositoryRoot + "/systemd/iogated.socket", encoding: .utf8)
        for setting in ["ListenStream=/run/iogate/iogate.sock", "SocketGroup=iogate", "SocketMode=0660"] {
            #expect(socket.contains("\n" + setting + "\n"), "\(setting)")
        }
        // Every setting line has a comment right above it (or above its group of related lines).
        for (file, text) in [("iogated.service", service), ("iogated.socket", socket)] {
            var commented = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("#") { commented = true; continue }
                if line.isEmpty || line.hasPrefix("[") { commented = false; continue }
                #expect(commented, "\(file): '\(line)' has no comment")
            }
        }
    }

    /// udev 252 (Debian 12) has no `udevadm verify` (new in 253). `udevadm test` parses every rules
    /// file in the rules directories and reports each bad line as `file:line message`, so the
    /// rules are mounted over /etc/udev/rules.d in a private mount namespace and tested against
    /// /dev/null's device (this machine has no GPIO chip to test them on).
    @Test(
        .enabled(
            if: which("udevadm") != nil && which("unshare") != nil && getuid() == 0,
            "needs udevadm (Debian package udev), unshare and root"))
    func udevRulesParse() throws {
        let dir = TempDir()
        try FileManager.default.copyItem(atPath: repositoryRoot + "/udev/90-iogate.rules", toPath: dir.file("90-iogate.rules"))
        try "KERNEL==\"x\", BOGUS=\"1\"\nSUBSYSTEM=\"gpio\"\n".write(toFile: dir.file("91-bad.rules"), atomically: false, encoding: .utf8)
        let script = """
            set -e
            mount --bind \(dir.path) /etc/udev/rules.d
            mkdir -p /run/udev && mount -t tmpfs none /run/udev
            if [ -d /dev/char ]; then mount -t tmpfs none /dev/char; fi
            udevadm test --action=add /sys/devices/virtual/mem/null 2>&1
            """
        let r = try run(which("unshare")!, ["--mount", "--propagation", "private", "/bin/sh", "-c", script])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let findings = r.stdout.split(separator: "\n").filter { $0.contains("rules.d/9") && !$0.hasPrefix("Reading rules file") }
        // The control file shows the parser reports errors this way.
        #expect(findings.contains { $0.contains("91-bad.rules:1 Invalid key 'BOGUS'") }, "\(r.stdout)")
        // Ours has none, apart from naming a group this machine may not have yet (install.sh creates it).
        let ours = findings.filter { $0.contains("90-iogate.rules") && !$0.contains("Unknown group 'gpio'") }
        #expect(ours.isEmpty, "\(ours)")
    }

    /// Starts iogated the way systemd does: the listening socket as fd 3, LISTEN_FDS=1 and
    /// LISTEN_PID equal to the daemon's own pid (python3 binds, then execs in the same process).
    @Test(.enabled(if: which("python3") != nil, "python3 is needed to pass a socket as fd 3"))
    func socketActivation() throws {
        let dir = TempDir()
        let sock = dir.file("act.sock")
        let config = dir.file("iogate.toml")
        try """
        device = "mock"
        board = "rpi4"
        socket = "\(sock)"
        audit = "none"
        [[grant]]
        uid = \(getuid())
        windows = ["gpio"]
        access = "rw"
        """.write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o600)
        let activator = """
            import os, socket, sys
            path = sys.argv[1]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            os.chmod(path, 0o640)   # the mode systemd would set (SocketMode): the daemon must keep it
            s.listen(16)
            if s.fileno() != 3:
                os.dup2(s.fileno(), 3)
            os.set_inheritable(3, True)
            env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="iogated.socket")
            os.execve(sys.argv[2], sys.argv[2:], env)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which("python3")!)
        p.arguments = ["-c", activator, sock, productsDirectory + "/iogated", "--config", config, "--boards", repositoryRoot + "/boards"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var stderrText = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !stderrText.contains("iogated: ready") && p.isRunning {
            let d = err.fileHandleForReading.availableData
            stderrText += String(decoding: d, as: UTF8.self)
        }
        #expect(stderrText.contains("iogated: ready"), "\(stderrText)")
        var before = stat()
        #expect(lstat(sock, &before) == 0)
        // Served on the inherited socket: same inode, the activator's mode, and clients work.
        #expect(before.st_mode & 0o777 == 0o640)
        let c = try IOGateClient(socketPath: sock)
        try c.gpio(17).setFunction(.output, c)
        try c.gpio(17).set(true, c)
        #expect(try c.gpio(17).get(c))
        let cli = try iogate(sock, ["read", "gpio+0x34"])
        #expect(cli.stdout == "0x00020000\n", "\(cli.stderr)")
        // The daemon kept the activator's socket rather than binding its own.
        #expect(!stderrText.contains("cannot bind"))
        // SIGTERM: the daemon stops, and the socket file (systemd's) is left in place.
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        var after = stat()
        #expect(lstat(sock, &after) == 0, "the daemon removed a socket that systemd owns")
        #expect(after.st_ino == before.st_ino)
    }

    /// A socket from systemd is only taken when LISTEN_PID is this process: an inherited
    /// environment meant for another process (here pid 1) must not make the daemon use fd 3.
    @Test func listenPIDForAnotherProcessIsIgnored() throws {
        let dir = TempDir()
        let sock = dir.file("own.sock")
        try
            "device = \"mock\"\nboard = \"rpi4\"\nsocket = \"\(sock)\"\n[[grant]]\nuid = \(getuid())\nwindows = [\"gpio\"]\naccess = \"rw\"\n"
            .write(toFile: dir.file("c.toml"), atomically: false, encoding: .utf8)
        chmod(dir.file("c.toml"), 0o600)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: productsDirectory + "/iogated")
        p.arguments = ["--config", dir.file("c.toml"), "--boards", repositoryRoot + "/boards"]
        p.environment = ProcessInfo.processInfo.environment.merging(["LISTEN_FDS": "1", "LISTEN_PID": "1"]) { $1 }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !text.contains("iogated: ready") && p.isRunning {
            text += String(decoding: err.fileHandleForReading.availableData, as: UTF8.self)
        }
        #expect(text.contains("iogated: ready"), "\(text)")
        // It bound its own socket (the documented default mode 0660) and serves it.
        var st = stat()
        #expect(lstat(sock, &st) == 0 && st.st_mode & 0o777 == 0o660)
        #expect(try IOGateClient(socketPath: sock).windows().count == 1)
    }
}

/// The libgpiod binding against this machine's kernel, and `iogate gpio lines`.
@Suite struct GPIODBindingTests {
    let source = LibgpiodLineSource()

    @Test func listsWhatTheKernelExposesOrSaysThereIsNothing() throws {
        let names = source.chipNames()
        let cli = try run(productsDirectory + "/iogate", ["gpio", "lines"])
        let json = try run(productsDirectory + "/iogate", ["gpio", "lines", "--json"])
        if names.isEmpty {
            // This machine (a container without GPIO hardware) has no /dev/gpiochip*.
            #expect(try source.chips().isEmpty)
            #expect(cli.status == 0 && cli.stdout.hasPrefix("no GPIO chips"), "\(cli.stdout)\(cli.stderr)")
            #expect(json.status == 0 && json.stdout == "[]\n")
        } else {
            let chips = try source.chips()
            #expect(chips.map(\.name) == names)
            for c in chips {
                #expect(!c.lines.isEmpty)
                #expect(c.lines.map(\.offset) == Array(0..<c.lines.count))
                #expect(cli.stdout.contains("\(c.name) [\(c.label)]"))
                // Single lines read back the same as the full listing.
                let again = try source.lines(chip: c.name, offsets: [0])
                #expect(again.first?.offset == 0)
            }
            #expect(json.status == 0)
            let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(parsed?.count == chips.count)
        }
    }

    @Test func missingChipErrorNamesTheDevice() {
        do {
            _ = try GPIOChip(name: "gpiochip987")
            Issue.record("opened a chip that does not exist")
        } catch {
            #expect(error.message.contains("/dev/gpiochip987"), "\(error.message)")
        }
    }

    @Test func aDeviceThatIsNotAGPIOChipIsRefused() {
        // /dev/null is a character device, but libgpiod (v1 and v2) checks through sysfs that a
        // node belongs to the gpio subsystem before using it.
        do {
            _ = try GPIOChip(path: "/dev/null")
            Issue.record("opened /dev/null as a GPIO chip")
        } catch {
            #expect(error.message.hasPrefix("cannot open GPIO chip /dev/null: "), "\(error.message)")
        }
    }

    @Test func chipsAreOpenedFromTheSourcesDirectory() {
        let dir = TempDir()
        do {
            _ = try LibgpiodLineSource(devDirectory: dir.path).lines(chip: "gpiochip0", offsets: [0])
            Issue.record("read a line of a chip that is not in \(dir.path)")
        } catch {
            #expect(error.message.contains("\(dir.path)/gpiochip0"), "\(error.message)")
        }
    }

    @Test func compiledAPIMatchesTheLoadedLibrary() {
        // The shim picks its libgpiod branch from the headers it was compiled with; the library
        // loaded at run time must have the same major version (v1 1.x.y, v2 2.x.y).
        let api = GPIOChip.libgpiodAPI
        let version = GPIOChip.libgpiodVersion
        #expect(api == 1 || api == 2)
        #expect(version.split(separator: ".").first.map(String.init) == String(api), "API \(api), library \(version)")
    }

    @Test func onlyCharacterDevicesNamedGpiochipNCount() throws {
        let dir = TempDir()
        for name in ["gpiochip0", "gpiochipX", "gpiomem"] {
            #expect(FileManager.default.createFile(atPath: dir.file(name), contents: Data()))
        }
        #expect(LibgpiodLineSource(devDirectory: dir.path).chipNames().isEmpty)
        #expect(LibgpiodLineSource(devDirectory: "/dev").chipNames().allSatisfy { $0.hasPrefix("gpiochip") })
    }

    @Test func sysfsDeviceAndAddress() {
        #expect(GPIOChipInfo(name: "gpiochip0", label: "x", device: "fe200000.gpio", lines: []).physicalAddress == 0xFE20_0000)
        #expect(GPIOChipInfo(name: "gpiochip0", label: "x", device: "gpio-sim.0", lines: []).physicalAddress == nil)
        #expect(GPIOChipInfo(name: "gpiochip0", label: "x", device: nil, lines: []).physicalAddress == nil)
        #expect(LibgpiodLineSource.sysfsDevice(chip: "gpiochip987") == nil)
    }

    @Test func gpioLinesUsageErrorsKeepPinSyntax() throws {
        #expect(try run(productsDirectory + "/iogate", ["gpio", "lines", "extra"]).status == 2)
        #expect(try run(productsDirectory + "/iogate", ["gpio", "17", "get", "--json"]).status == 2)
        #expect(try run(productsDirectory + "/iogate", ["gpio", "17"]).status == 2)
        let help = try run(productsDirectory + "/iogate", ["gpio", "--help"])
        #expect(help.stdout.contains("iogate gpio lines [--json]"))
    }
}
