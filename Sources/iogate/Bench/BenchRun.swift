import Glibc
import IOGate
import IOGateSystem
import Synchronization

/// One run of `iogate bench`: a private iogated on a sparse file, the C baselines beside it, and
/// every measurement taken in the same run so that ratios compare like with like.
final class BenchRun {
    /// How long and how often to measure.
    struct Plan {
        var rounds: Int
        var latencyTrips: Int
        var batch256Trips: Int
        var batch4096Trips: Int
        var clientSeconds: Double
        var clientRounds: Int
        var spawnSeconds: Double
        var idleClients: Int

        static let quick = Plan(
            rounds: 3, latencyTrips: 2000, batch256Trips: 1000, batch4096Trips: 100,
            clientSeconds: 0.4, clientRounds: 1, spawnSeconds: 0.8, idleClients: 200)
        static let full = Plan(
            rounds: 7, latencyTrips: 5000, batch256Trips: 4000, batch4096Trips: 400,
            clientSeconds: 1.0, clientRounds: 3, spawnSeconds: 3, idleClients: 200)
    }

    /// The window's physical address (= file offset) and its length: 1 GiB granted and mapped.
    static let base: UInt64 = 0x4000_0000
    static let length: UInt64 = 1 << 30

    let plan: Plan
    let dir: String
    let bin: String
    let memFile: String
    /// Results in report order: key, value.
    private(set) var results: [(String, Double)] = []
    var progress: (String) -> Void = { writeStandardError("bench: \($0)\n") }

    init(plan: Plan, cSources: String) throws {
        self.plan = plan
        dir = try makeTemporaryDirectory("iogate-bench")
        bin = dir + "/bin"
        memFile = dir + "/mem"
        try FileSystem.makeDirectory(bin)
        try BenchSystem.compileBaselines(from: cSources, into: bin)
        // A sparse file standing in for physical memory, with a recognisable first page.
        let fd = open(memFile, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0, ftruncate(fd, off_t(Self.base + Self.length)) == 0 else {
            throw IOGateError(.system, "cannot create the sparse file \(memFile): \(String(cString: strerror(errno)))")
        }
        let page = (0..<1024).map { UInt32(0xA500_0000) | UInt32($0) }
        // SAFETY: the array's own storage, written during the call.
        _ = page.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(Self.base)) }
        close(fd)
    }

    deinit { try? FileSystem.removeTree(dir) }

    func record(_ key: String, _ value: Double) { results.append((key, value)) }

    // MARK: Daemons and servers

    /// Starts iogated on the sparse file with the whole 1 GiB granted to this uid.
    func startDaemon(name: String, audit: String) throws -> (BenchChild, String) {
        let socket = "\(dir)/\(name).sock"
        let config = "\(dir)/\(name).toml"
        try writeFile(
            config,
            """
            # iogate bench: a private daemon on a sparse file, 1 GiB granted to this user.
            device = "\(memFile)"
            socket = "\(socket)"
            socket_mode = "0600"
            audit = "\(audit)"

            [[grant]]
            uid = \(getuid())
            IoBase = [\(hex(Self.base))]
            IoLen = [\(hex(Self.length))]
            access = "rw"
            """, mode: 0o600)
        let child = try BenchChild(
            [try DaemonExecutable.locate(), "--config", config], logPath: "\(dir)/\(name).log", waitForReady: false)
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while monotonicNanoseconds() < deadline {
            if !child.process.isRunning {
                throw IOGateError(.unreachable, "the bench's iogated exited with status \(child.process.terminationStatus): \(child.log)")
            }
            if FileSystem.exists(socket), (try? IOGateClient(socketPath: socket)) != nil { return (child, socket) }
            usleep(20_000)
        }
        throw IOGateError(.unreachable, "the bench's iogated did not open \(socket) within 10 s: \(child.log)")
    }

    func startCServer(_ name: String, _ args: [String]) throws -> (BenchChild, String) {
        let socket = "\(dir)/\(name).sock"
        return (try BenchChild(["\(bin)/\(name)", socket] + args, logPath: "\(dir)/\(name).log", waitForReady: true), socket)
    }

    /// Runs the C client; returns (p50 ns, operations per second).
    func cClient(_ args: [String]) throws -> (Double, Double) {
        let out = try BenchSystem.output(["\(bin)/echo_client"] + args).split(separator: " ")
        guard out.count == 2, let p50 = Double(out[0]), let rate = Double(out[1].filter { !$0.isWhitespace }) else {
            throw IOGateError(.system, "echo_client printed \(out)")
        }
        return (p50, rate)
    }

    // MARK: Measurements

    /// Single reads through the library: (p50 ns, operations per second).
    func iogateLatency(_ gate: IOGateClient, trips: Int, write: Bool = false) throws -> (Double, Double) {
        var lat = [UInt64](repeating: 0, count: trips)
        for i in 0..<(trips / 10) { _ = try gate.read(Self.base + UInt64(i & 1023) * 4) }
        let t0 = BenchSystem.now()
        for i in 0..<trips {
            let a = BenchSystem.now()
            let address = Self.base + UInt64(i & 1023) * 4
            if write { try gate.write(address + 0x1000, UInt64(i)) } else { _ = try gate.read(address) }
            lat[i] = BenchSystem.now() - a
        }
        let total = BenchSystem.now() - t0
        lat.sort()
        return (Double(lat[trips / 2]), Double(trips) / (Double(total) / 1e9))
    }

    /// Batches of `size` 32-bit reads: operations per second.
    func iogateBatch(_ gate: IOGateClient, size: Int, trips: Int) throws -> Double {
        let ops = (0..<size).map { BatchOp.read(Self.base + UInt64($0 % 1024) * 4) }
        for _ in 0..<max(1, trips / 10) { _ = try gate.batch(ops) }
        let t0 = BenchSystem.now()
        for _ in 0..<trips { _ = try gate.batch(ops) }
        return Double(trips * size) / (Double(BenchSystem.now() - t0) / 1e9)
    }

    /// The daemon's access path, measured inside an `iogated` process (`--measure-loads`), so the
    /// client binary need not link the mapping code: `MappedRegion.load` inlined, and through the
    /// `RegisterSpace` existential as `ClientAccess` calls it. Nanoseconds per access, best of 5.
    func directAccess() throws -> (inlined: Double, existential: Double) {
        let out = try BenchSystem.output([
            try DaemonExecutable.locate(), "--measure-loads", memFile, hex(Self.base), "20000000",
        ])
        let fields = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        guard fields.count == 2 else { throw IOGateError(.system, "iogated --measure-loads printed '\(out)'; expected two numbers") }
        return (fields[0], fields[1])
    }

    /// Spawns `argv` repeatedly for about `seconds`: processes per second.
    func perProcess(_ argv: [String], seconds: Double, maxCount: Int) throws -> Double {
        let t0 = BenchSystem.now()
        var n = 0
        while n < maxCount && Double(BenchSystem.now() - t0) < seconds * 1e9 {
            let status = BenchSystem.spawnAndWait(argv)
            guard status == 0 else { throw IOGateError(.system, "\(argv.joined(separator: " ")) exited with status \(status)") }
            n += 1
        }
        return Double(n) / (Double(BenchSystem.now() - t0) / 1e9)
    }

    /// `count` clients on their own threads doing single reads for `seconds`: ops/s of each.
    func concurrent(socket: String, count: Int, seconds: Double) throws -> [Double] {
        struct Counts {
            var counts: [Int]
            var failure: Error?
        }
        // A class around the Mutex: the threads' closures capture it by reference (a Mutex itself
        // cannot be copied into a closure).
        final class Slots: Sendable {
            let state: Mutex<Counts>
            init(_ n: Int) { state = Mutex(Counts(counts: Array(repeating: 0, count: n))) }
        }
        let slots = Slots(count)
        let gates = try (0..<count).map { _ in try IOGateClient(socketPath: socket) }
        let start = BenchSystem.now() + 50_000_000
        let end = start + UInt64(seconds * 1e9)
        let started = runOnThreads(count, stackSize: 1 << 20) { k in
            let gate = gates[k]
            while BenchSystem.now() < start { usleep(1000) }
            var n = 0
            var failure: Error?
            do {
                while BenchSystem.now() < end {
                    _ = try gate.read(Self.base + UInt64((n + k) & 1023) * 4)
                    n += 1
                }
            } catch {
                failure = error
            }
            slots.state.withLock { s in
                s.counts[k] = n
                if let failure { s.failure = failure }
            }
        }
        guard started else { throw IOGateError(.system, "cannot start \(count) client threads") }
        let (counts, failure) = slots.state.withLock { s in (s.counts, s.failure) }
        if let e = failure { throw e }
        return counts.map { Double($0) / seconds }
    }

    /// Runs every measurement. `pinned` is the CPU everything runs on, or nil for the scheduler's choice.
    func run(pinned: Int?) throws {
        let allCPUs = BenchSystem.affinity()
        let base = Self.base
        record("cpus_online", Double(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        record("pinned_cpu", Double(pinned ?? -1))

        progress("starting iogated on a 1 GiB window of a sparse file (audit = \"none\")")
        let (daemon, socket) = try startDaemon(name: "iogated", audit: "none")
        usleep(200_000)
        let idleRSS = BenchSystem.residentKiB(daemon.pid) ?? -1
        record("idle_rss_kb", Double(idleRSS))
        let gate = try IOGateClient(socketPath: socket)
        let first = try gate.read(base + 8)
        guard first == 0xA500_0002 else {
            throw IOGateError(.system, "bench sanity check: read \(hex(first)) at \(hex(base + 8)), expected 0xA5000002")
        }
        let (echo, echoSocket) = try startCServer("echo_server", [])
        let (batchServer, batchSocket) = try startCServer("batch_server", [memFile, hex(base), hex(Self.length)])
        defer { echo.stop(); batchServer.stop(); daemon.stop() }

        // Single operations, alternating with the C echo in every round.
        progress("single-operation round trips vs a C echo (\(plan.rounds) rounds of \(plan.latencyTrips))")
        var ours: [Double] = [], theirs: [Double] = [], oursRate: [Double] = [], theirsRate: [Double] = []
        for _ in 0..<plan.rounds {
            let c = try cClient(["echo", echoSocket, String(plan.latencyTrips)])
            let s = try iogateLatency(gate, trips: plan.latencyTrips)
            theirs.append(c.0); theirsRate.append(c.1); ours.append(s.0); oursRate.append(s.1)
        }
        record("single_op_p50_us", BenchSystem.median(ours) / 1000)
        record("baseline_c_p50_us", BenchSystem.median(theirs) / 1000)
        record("single_op_ops_per_s", BenchSystem.median(oursRate))
        record("baseline_c_echo_ops_per_s", BenchSystem.median(theirsRate))

        // Both scheduling modes explicitly, when the scheduler has a choice.
        if pinned == nil && allCPUs.count >= 2 {
            for (mode, serverCPU, clientCPU) in [("same_cpu", allCPUs[0], allCPUs[0]), ("cross_cpu", allCPUs[0], allCPUs[1])] {
                progress(
                    "single-operation round trips, \(mode.split(separator: "_").joined(separator: " ")) (server on CPU \(serverCPU), client on CPU \(clientCPU))"
                )
                BenchSystem.pinProcess(daemon.pid, to: [serverCPU])
                BenchSystem.pinProcess(echo.pid, to: [serverCPU])
                BenchSystem.pin(to: [clientCPU])
                var o: [Double] = [], t: [Double] = []
                for _ in 0..<max(1, plan.rounds / 2) {
                    t.append(try cClient(["echo", echoSocket, String(plan.latencyTrips)]).0)
                    o.append(try iogateLatency(gate, trips: plan.latencyTrips).0)
                }
                BenchSystem.pin(to: allCPUs)
                BenchSystem.pinProcess(daemon.pid, to: allCPUs)
                BenchSystem.pinProcess(echo.pid, to: allCPUs)
                record("\(mode)_single_op_p50_us", BenchSystem.median(o) / 1000)
                record("\(mode)_baseline_c_p50_us", BenchSystem.median(t) / 1000)
            }
        }

        // The library sends compact batches (0x21) to a version 2 daemon, so the C client does too;
        // the version 1 encoding (0x20) is measured as well, both sides, for the record.
        let compact = gate.serverHello.version >= Opcode.compactBatch.sinceVersion
        record("batch_protocol_version", Double(gate.serverHello.version))
        let v1Gate = try IOGateClient(socketPath: socket, maxVersion: 1)
        for (size, version1) in [(256, false), (4096, false), (4096, true)] {
            let trips = size == 256 ? plan.batch256Trips : plan.batch4096Trips
            let encoding = version1 || !compact ? "batch" : "compact"
            progress("batches of \(size) reads (\(encoding) encoding) vs a C batch server (\(plan.rounds) rounds of \(trips))")
            var o: [Double] = [], t: [Double] = []
            for _ in 0..<plan.rounds {
                t.append(try cClient([encoding, batchSocket, String(trips), String(size), hex(base)]).1)
                o.append(try iogateBatch(version1 ? v1Gate : gate, size: size, trips: trips))
            }
            let suffix = version1 ? "_v1" : ""
            record("batch\(size)\(suffix)_ops_per_s", BenchSystem.median(o))
            record("baseline_c_batch\(size)\(suffix)_ops_per_s", BenchSystem.median(t))
        }

        progress("direct volatile 32-bit loads in-process vs a C loop")
        let direct = try directAccess()
        let cLoop = try BenchSystem.output(["\(bin)/volatile_loop", memFile, hex(base), "100000000"]).split(separator: " ")
        record("direct_access_ns", direct.existential)
        record("direct_access_inlined_ns", direct.inlined)
        record("baseline_c_direct_access_ns", Double(cLoop.first ?? "") ?? .nan)

        progress("one process per access (devmem-style C program, and the iogate CLI)")
        record(
            "process_per_access_per_s",
            try perProcess(["\(bin)/devmem_once", memFile, hex(base + 8)], seconds: plan.spawnSeconds, maxCount: 5000))
        record(
            "iogate_cli_per_s",
            try perProcess(
                [FileSystem.siblingExecutable("iogate"), "--socket", socket, "read", hex(base + 8)], seconds: plan.spawnSeconds,
                maxCount: 2000))

        progress("1 and 8 concurrent clients (\(plan.clientRounds) rounds of \(plan.clientSeconds) s)")
        var one: [Double] = [], eight: [Double] = [], fairness: [Double] = []
        for _ in 0..<plan.clientRounds {
            one.append(try concurrent(socket: socket, count: 1, seconds: plan.clientSeconds)[0])
            let each = try concurrent(socket: socket, count: 8, seconds: plan.clientSeconds)
            let total = each.reduce(0, +)
            eight.append(total)
            fairness.append(each.min()! / (total / Double(each.count)))
        }
        record("clients1_ops_per_s", BenchSystem.median(one))
        record("clients8_ops_per_s", BenchSystem.median(eight))
        record("clients8_slowest_to_mean", BenchSystem.median(fairness))

        progress("memory: \(plan.idleClients) idle clients")
        usleep(100_000)
        let before = BenchSystem.residentKiB(daemon.pid) ?? -1
        var idle: [IOGateClient] = []
        for _ in 0..<plan.idleClients { idle.append(try IOGateClient(socketPath: socket)) }
        usleep(300_000)
        let after = BenchSystem.residentKiB(daemon.pid) ?? -1
        idle.removeAll()
        record("rss_after_bench_kb", Double(before))
        record("idle_client_rss_kb", Double(after - before) / Double(plan.idleClients))

        progress("audit = \"writes\": single-write round trips against a second daemon")
        let (audited, auditedSocket) = try startDaemon(name: "iogated-audit", audit: "writes")
        defer { audited.stop() }
        let auditedGate = try IOGateClient(socketPath: auditedSocket)
        var quiet: [Double] = [], logged: [Double] = []
        for _ in 0..<max(1, plan.rounds / 2) {
            quiet.append(try iogateLatency(gate, trips: plan.latencyTrips, write: true).0)
            logged.append(try iogateLatency(auditedGate, trips: plan.latencyTrips, write: true).0)
        }
        record("write_p50_us_audit_none", BenchSystem.median(quiet) / 1000)
        record("write_p50_us_audit_writes", BenchSystem.median(logged) / 1000)
        record("audit_write_ratio", self["write_p50_us_audit_writes"] / self["write_p50_us_audit_none"])
        // Issue 15's names for figures recorded above under their first names (both kept).
        record("cli_process_per_s", self["iogate_cli_per_s"])
        record("devmem_process_per_s", self["process_per_access_per_s"])
    }

    subscript(_ key: String) -> Double {
        results.first { $0.0 == key }?.1 ?? .nan
    }
}
