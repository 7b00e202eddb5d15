import ArgumentParser
import Glibc
import IOGate
import IOGateSystem

/// `iogate bench`: measures a private iogated against C baselines built and run in the same run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure iogated against C baselines (socket echo, batch server, volatile loop, one process per access) in the same run.",
        discussion: """
            Starts its own iogated on a sparse file with 1 GiB of windows granted, compiles the C baselines \
            from Benchmarks/c with the system C compiler (cc -O2), and prints medians with ratios and the \
            targets of docs/PERFORMANCE.md. PASS/MISS is informational. Progress goes to stderr.
            """)

    @Flag(name: .long, help: "A short run (well under 30 s).") var quick = false
    @Flag(name: .long, help: "Print one JSON object instead of the table.") var json = false
    @Option(
        name: .long,
        help:
            "Pin the daemon, the clients and the baselines to this CPU (default: the scheduler's choice, plus explicit same-CPU and cross-CPU runs)."
    ) var cpu: Int?
    @Option(
        name: .long,
        help:
            "Directory of the C baseline sources (default: $IOGATE_BENCH_C, else Benchmarks/c above the executable or the current directory)."
    ) var cSources: String?

    func validate() throws {
        if let cpu, !BenchSystem.affinity().contains(cpu) {
            throw ValidationError(
                "--cpu \(cpu) is not one of the CPUs this process may use: \(BenchSystem.affinity().map(String.init).joined(separator: ", "))"
            )
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let started = BenchSystem.now()
        if let cpu { BenchSystem.pin(to: [cpu]) }
        let sources = try BenchSystem.locateCSources(cSources)
        let bench = try BenchRun(plan: quick ? .quick : .full, cSources: sources)
        try bench.run(pinned: cpu)
        bench.record("bench_seconds", Double(BenchSystem.now() - started) / 1e9)
        if json {
            let fields = bench.results.map { "\"\($0.0)\": \($0.1.isFinite ? formatDouble("%.6g", $0.1) : "null")" }
            print("{" + fields.joined(separator: ", ") + "}")
        } else {
            print(Self.table(bench))
        }
    }

    /// The human-readable report: one row per figure, with its baseline, ratio and target.
    static func table(_ b: BenchRun) -> String {
        struct Row { var what, ours, base, ratio, target, verdict: String }
        var rows: [Row] = []
        func f(_ v: Double, _ digits: Int = 1) -> String { v.isFinite ? formatDouble("%.\(digits)f", v) : "-" }
        func rate(_ v: Double) -> String {
            !v.isFinite
                ? "-"
                : v >= 1e6
                    ? formatDouble("%.2f M/s", v / 1e6) : v >= 1e3 ? formatDouble("%.1f k/s", v / 1e3) : formatDouble("%.0f /s", v)
        }
        func verdict(_ ok: Bool) -> String { ok ? "PASS" : "MISS" }
        let pinnedRows = b["same_cpu_single_op_p50_us"].isFinite
        func latency(_ label: String, _ prefix: String, judged: Bool = true) {
            let o = b["\(prefix)single_op_p50_us"], c = b["\(prefix)baseline_c_p50_us"]
            rows.append(
                Row(
                    what: label, ours: f(o) + " us", base: f(c) + " us (C echo)", ratio: f(o / c, 2) + "x",
                    target: judged ? "<= 1.10x" : "", verdict: judged ? verdict(o / c <= 1.10) : "info"))
        }
        // Unpinned, the scheduler may put IOGate and the C echo in different modes (one CPU vs two),
        // so that ratio is not a comparison; the pinned rows below are the ones judged.
        latency("single op p50 round trip", "", judged: !pinnedRows)
        if pinnedRows {
            latency("  same CPU", "same_cpu_")
            latency("  across CPUs", "cross_cpu_")
        }
        // Both sides of a batch row use the same encoding: compact (0x21) when the daemon speaks
        // protocol version 2, which is what the library then sends; the version 1 row is info.
        let encoding = b["batch_protocol_version"] >= 2 ? "compact" : "v1"
        let b256 = b["batch256_ops_per_s"], c256 = b["baseline_c_batch256_ops_per_s"]
        rows.append(
            Row(
                what: "batch of 256 reads", ours: rate(b256), base: rate(c256) + " (C, \(encoding))", ratio: f(b256 / c256, 2) + "x",
                target: ">= 0.9x", verdict: verdict(b256 / c256 >= 0.9)))
        let b4k = b["batch4096_ops_per_s"], c4k = b["baseline_c_batch4096_ops_per_s"]
        rows.append(
            Row(
                what: "batch of 4096 reads", ours: rate(b4k), base: rate(c4k) + " (C, \(encoding))", ratio: f(b4k / c4k, 2) + "x",
                target: ">= 0.6x, 100 M/s", verdict: verdict(b4k / c4k >= 0.6 && b4k >= 100e6)))
        let v1 = b["batch4096_v1_ops_per_s"], cv1 = b["baseline_c_batch4096_v1_ops_per_s"]
        if v1.isFinite {
            rows.append(
                Row(
                    what: "  v1 encoding (0x20)", ours: rate(v1), base: rate(cv1) + " (C, v1)", ratio: f(v1 / cv1, 2) + "x", target: "",
                    verdict: "info"))
        }
        let d = b["direct_access_ns"], dc = b["baseline_c_direct_access_ns"]
        rows.append(
            Row(
                what: "volatile 32-bit load in daemon", ours: f(d, 2) + " ns", base: f(dc, 2) + " ns (C loop)", ratio: f(d / dc, 2) + "x",
                target: "< 2 ns", verdict: verdict(d < 2)))
        let s = b["single_op_ops_per_s"], p = b["process_per_access_per_s"]
        rows.append(
            Row(
                what: "single ops vs process per access", ours: rate(s), base: rate(p) + " (devmem)", ratio: f(s / p, 0) + "x",
                target: ">= 40x", verdict: verdict(s / p >= 40)))
        let one = b["clients1_ops_per_s"], eight = b["clients8_ops_per_s"], fair = b["clients8_slowest_to_mean"]
        // With everything pinned to one CPU, eight clients cannot run faster than one: the scaling
        // target is judged only in an unpinned run.
        let oneCPU = b["pinned_cpu"] >= 0
        rows.append(
            Row(
                what: "8 clients, total single ops", ours: rate(eight), base: rate(one) + " (1 client)", ratio: f(eight / one, 2) + "x",
                target: oneCPU ? "(unpinned)" : ">= 1.5x", verdict: oneCPU ? "info" : verdict(eight / one >= 1.5)))
        rows.append(
            Row(what: "8 clients, slowest / mean", ours: f(fair, 2), base: "", ratio: "", target: ">= 0.5", verdict: verdict(fair >= 0.5)))
        let rss = b["idle_rss_kb"], per = b["idle_client_rss_kb"]
        rows.append(
            Row(
                what: "idle daemon RSS, 1 GiB mapped", ours: f(rss, 0) + " KiB", base: "", ratio: "", target: "<= 8192 KiB",
                verdict: verdict(rss <= 8192)))
        rows.append(
            Row(what: "RSS per idle client", ours: f(per) + " KiB", base: "", ratio: "", target: "< 32 KiB", verdict: verdict(per < 32)))
        let wq = b["write_p50_us_audit_none"], wl = b["write_p50_us_audit_writes"]
        rows.append(
            Row(
                what: "single write p50, audit \"writes\"", ours: f(wl) + " us", base: f(wq) + " us (audit none)",
                ratio: f(wl / wq, 2) + "x", target: "<= 1.15x", verdict: verdict(wl / wq <= 1.15)))
        let cli = b["iogate_cli_per_s"]
        rows.append(
            Row(
                what: "`iogate read` process per access", ours: rate(cli), base: rate(p) + " (devmem)", ratio: f(cli / p, 2) + "x",
                target: ">= 0.33x", verdict: verdict(cli / p >= 0.33)))

        let header = Row(what: "measure", ours: "iogate", base: "baseline", ratio: "ratio", target: "target", verdict: "")
        let all = [header] + rows
        let widths = [
            all.map(\.what.count).max()!, all.map(\.ours.count).max()!, all.map(\.base.count).max()!, all.map(\.ratio.count).max()!,
            all.map(\.target.count).max()!,
        ]
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        let pinned = b["pinned_cpu"]
        var lines = [
            "iogate bench: \(f(b["cpus_online"], 0)) CPUs online; \(pinned >= 0 ? "everything pinned to CPU \(f(pinned, 0))" : "scheduler's choice (same-CPU and cross-CPU rows pinned explicitly)"); medians; \(f(b["bench_seconds"])) s",
            "",
        ]
        for r in all {
            lines.append(
                [
                    pad(r.what, widths[0]), pad(r.ours, widths[1]), pad(r.base, widths[2]), pad(r.ratio, widths[3]),
                    pad(r.target, widths[4]), r.verdict,
                ].joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
