import Glibc

/// A closure handed to a new thread through pthread's `void *` argument.
private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Starts `body` on a new pthread with `stackSize` bytes of stack. The daemon runs one thread per
/// client, so it sets a stack far smaller than the 8 MiB default. Returns false when the thread
/// could not be created (then `body` never runs).
@discardableResult
public func spawnThread(stackSize: Int = 512 << 10, _ body: @escaping () -> Void) -> Bool {
    startThread(stackSize: stackSize, detached: true, body) != nil
}

/// Creates a pthread running `body`; its id, or nil when it could not be created.
private func startThread(stackSize: Int, detached: Bool, _ body: @escaping () -> Void) -> pthread_t? {
    // SAFETY: the retained box is released exactly once: by the new thread, or below if
    // pthread_create fails and no thread will ever see it.
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, stackSize)
    pthread_attr_setdetachstate(&attr, Int32(detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE))
    var tid = pthread_t()
    let r = pthread_create(
        &tid, &attr,
        { arg in
            // SAFETY: arg is the box retained above, handed over to this thread alone.
            Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box)
    if r != 0 {
        // SAFETY: no thread was created, so this is the only release of the box.
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        return nil
    }
    return tid
}

/// Runs `body(0) ... body(count - 1)` on `count` threads at once and returns when all have finished.
/// Returns false (after joining those that did start) when a thread could not be created.
@discardableResult
public func runOnThreads(_ count: Int, stackSize: Int = 1 << 20, _ body: @escaping (Int) -> Void) -> Bool {
    var threads: [pthread_t] = []
    for k in 0..<count {
        guard let t = startThread(stackSize: stackSize, detached: false, { body(k) }) else { break }
        threads.append(t)
    }
    for t in threads { pthread_join(t, nil) }
    return threads.count == count
}

/// A plain mutex with explicit lock/unlock, for holding several locks at once (a batch takes its
/// windows' locks in window order, so two batches cannot deadlock), which `Mutex`'s scoped
/// `withLock` cannot express.
public final class Lock: @unchecked Sendable {
    // @unchecked Sendable: the pthread mutex is the synchronisation; the pointer never changes.
    // SAFETY: see init: a heap cell that never moves, freed only in deinit.
    private let m: UnsafeMutablePointer<pthread_mutex_t>

    /// An unlocked mutex.
    public init() {
        // SAFETY: a heap cell of its own, so the mutex never moves (pthread mutexes must not),
        // initialised before use and destroyed and freed only in deinit.
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        pthread_mutex_init(m, nil)
    }

    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }

    /// Blocks until this thread holds the mutex.
    @inline(__always) public func lock() { pthread_mutex_lock(m) }
    /// Releases the mutex this thread holds.
    @inline(__always) public func unlock() { pthread_mutex_unlock(m) }
    /// Takes the lock only if it is free; true when taken.
    @inline(__always) public func tryLock() -> Bool { pthread_mutex_trylock(m) == 0 }

    /// Runs `body` holding the mutex.
    @inline(__always)
    public func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A counting semaphore (POSIX `sem_t`) that one thread posts and another waits on; `wait()`
/// retries when a signal interrupts it. `sem_post` is async-signal-safe and never blocks.
public final class Semaphore: @unchecked Sendable {
    // @unchecked Sendable: the semaphore is the synchronisation; the pointer never changes.
    // SAFETY: see init: a heap cell that never moves, freed only in deinit.
    private let s: UnsafeMutablePointer<sem_t>

    /// A semaphore with count `value`.
    public init(_ value: UInt32 = 0) {
        // SAFETY: a heap cell of its own, so the semaphore never moves, initialised before use and
        // destroyed and freed only in deinit.
        s = .allocate(capacity: 1)
        sem_init(s, 0, value)
    }

    deinit {
        sem_destroy(s)
        s.deallocate()
    }

    /// Adds one to the count, waking a waiter.
    public func post() { sem_post(s) }

    /// Waits until the count is above zero and takes one.
    public func wait() { while sem_wait(s) != 0 && errno == EINTR {} }
}
