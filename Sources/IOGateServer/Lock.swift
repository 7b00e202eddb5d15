import Glibc

/// A plain mutex with explicit lock/unlock, so a batch can hold several windows' locks at once
/// (always taken in window order, so two batches cannot deadlock).
final class Lock: @unchecked Sendable {
    private let m: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        pthread_mutex_init(m, nil)
    }

    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(m) }
    @inline(__always) func unlock() { pthread_mutex_unlock(m) }
    /// Takes the lock only if it is free; true when taken.
    @inline(__always) func tryLock() -> Bool { pthread_mutex_trylock(m) == 0 }

    @inline(__always)
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
