import IOGateMapping

extension Daemon {
    /// Whether any access is traced or audited. Fixed for the daemon's life (`trace` and `audit`
    /// are not reloaded), so executors read it once and skip `observe` entirely when it is false.
    var observes: Bool { tracer != nil || config.audit != .none }

    /// Drops this process's resident copies of executable code (the Swift runtime, Foundation,
    /// TOML parsing, ...) once start-up is over: most of the idle daemon's RSS is start-up code it
    /// never runs again. The pages serving clients fault back in from the page cache on first use.
    func releaseStartupCode() {
        let released = CodePages.release()
        logger.debug("released \(released / 1024) KiB of start-up code pages")
    }
}
