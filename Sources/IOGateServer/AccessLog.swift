import Glibc
import IOGateCore
import IOGateSystem
import Synchronization

/// The audit and trace records of register accesses, made without I/O under the window lock.
///
/// `record` runs while the window lock is held, so it only appends a small value to one queue, in
/// the order the accesses happened across every client. The text is made and written after the
/// lock is released:
/// - trace lines by `drainTrace()`, which the request's thread calls before it answers, so a
///   client that has its answer finds its accesses in the trace file;
/// - audit lines by one writer thread, a few milliseconds later, many lines per `write(2)` (the
///   journal is not waited on by any request). `flush()` writes what is left when the daemon stops.
/// Records are never dropped, and each output keeps the order of the queue: whoever writes takes
/// the oldest records first, under a lock that only writers hold. Memory stays bounded: once more
/// than `backlogLimit` records wait for a standard error nobody reads (the journal stalled), each
/// request's thread waits, after releasing its locks and before answering, until the writer has
/// brought the backlog under half of it.
// @unchecked Sendable: the queues are touched only under `queueLock`, each output only under its
// write lock, and `auditReady` is a semaphore made once in init; the rest is immutable.
final class AccessLog: @unchecked Sendable {
    /// One observed access.
    struct Record {
        let write: Bool
        let address: UInt64
        let width: AccessWidth
        let value: UInt64
        /// The served window holding the access; its `window+0xOFFSET` label is made when written.
        let window: ServedRange
        let client: ClientIdentity
        let command: String
    }

    /// How long the audit writer lets records gather before it writes them.
    static let auditDelayMicroseconds: UInt32 = 2000
    /// Audit records that may wait for the writer before requests wait for it (about 100 bytes each).
    static let defaultBacklogLimit = 65536

    let tracer: Tracer?
    let audit: AuditLevel
    let logger: Logger
    /// `window+0xOFFSET` for an address in a served window (the daemon's board names it).
    let label: @Sendable (UInt64, ServedRange) -> String
    private let queueLock = Lock()
    // Guarded by queueLock.
    private var traceQueue: [Record] = []
    private var auditQueue: [Record] = []
    /// `auditQueue.count`, readable without the lock (a hint for `waitForAuditRoom`'s fast path).
    private let auditBacklog = Atomic<Int>(0)
    /// Held while records are turned into text and written: one writer at a time, oldest first.
    private let traceWriteLock = Lock()
    private let auditWriteLock = Lock()
    /// Posted when the audit queue stops being empty; the writer thread waits on it.
    private let auditReady = Semaphore()

    /// See `defaultBacklogLimit`.
    let backlogLimit: Int

    init(
        tracer: Tracer?, audit: AuditLevel, logger: Logger, backlogLimit: Int = AccessLog.defaultBacklogLimit,
        label: @escaping @Sendable (UInt64, ServedRange) -> String
    ) {
        self.backlogLimit = backlogLimit
        self.label = label
        self.tracer = tracer
        self.audit = audit
        self.logger = logger
    }

    /// Starts the audit writer thread (from `Daemon.start()`).
    func start() {
        guard audit != .none else { return }
        spawnThread(stackSize: 256 << 10) { [self] in
            // The daemon handles SIGHUP, SIGTERM and SIGINT on its signal thread with sigwait; a
            // thread that left them unblocked would take one and die of it (the daemon's init
            // runs before the signal thread blocks them).
            var set = sigset_t()
            sigemptyset(&set)
            for s in [SIGHUP, SIGTERM, SIGINT] { sigaddset(&set, s) }
            pthread_sigmask(SIG_BLOCK, &set, nil)
            writeAuditForever()
        }
    }

    /// Queues one access (under the window lock: no I/O, no formatting).
    @inline(__always)
    func record(_ r: Record) {
        let audited = audit == .all || (audit == .writes && r.write)
        let wake: Bool = queueLock.locked {
            if tracer != nil { traceQueue.append(r) }
            guard audited else { return false }
            auditQueue.append(r)
            auditBacklog.store(auditQueue.count, ordering: .relaxed)
            return auditQueue.count == 1
        }
        if wake { auditReady.post() }
    }

    /// Writes the queued trace lines, and waits while the audit backlog is over its limit; called
    /// after the window lock is released, before answering.
    func drainTrace() {
        if auditBacklog.load(ordering: .relaxed) > backlogLimit { waitForAuditRoom() }
        guard let tracer else { return }
        traceWriteLock.locked {
            let records: [Record] = queueLock.locked {
                defer { traceQueue.removeAll(keepingCapacity: true) }
                return traceQueue
            }
            guard !records.isEmpty else { return }
            var text = ""
            for r in records {
                text += TraceFormat.line(
                    write: r.write, label: label(r.address, r.window), width: r.width, value: r.value, uid: r.client.uid, pid: r.client.pid)
                text += "\n"
            }
            tracer.write(text)
        }
    }

    /// Writes every queued record now (the daemon is stopping).
    func flush() {
        drainTrace()
        writeAudit()
    }

    /// Waits until the audit writer has brought the backlog under half the limit (standard error
    /// is not being read: the journal stalled). Rare, so it polls.
    private func waitForAuditRoom() {
        while auditBacklog.load(ordering: .relaxed) > backlogLimit / 2 { usleep(1000) }
    }

    private func writeAuditForever() {
        while true {
            auditReady.wait()
            usleep(Self.auditDelayMicroseconds)  // let a burst of writes share one write(2)
            writeAudit()
        }
    }

    private func writeAudit() {
        auditWriteLock.locked {
            let records: [Record] = queueLock.locked {
                defer { auditQueue.removeAll(keepingCapacity: true) }
                return auditQueue
            }
            guard !records.isEmpty else { return }
            // The backlog counts records not yet written: these leave it once they are out.
            defer { auditBacklog.store(queueLock.locked { auditQueue.count }, ordering: .relaxed) }
            logger.info(
                lines: records.map { r in
                    "audit: uid=\(r.client.uid) pid=\(r.client.pid) comm=\(r.command) \(r.write ? "write" : "read") \(hex(r.address)) "
                        + "\(r.width.bits)-bit \(hex(r.value, digits: r.width.hexDigits))"
                })
        }
    }
}
