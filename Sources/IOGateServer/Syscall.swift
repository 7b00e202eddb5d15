import IOGateCore
import IOGateSystem

// The daemon's system calls go through IOGateSystem (errno, EINTR, short transfers); these adapt
// its results to the daemon's `.system` errors and its connection loops' true/false.

/// Runs a C call that returns -1 and sets `errno` on failure, retrying `EINTR`; any other failure
/// becomes `IOGateError(.system, "what: strerror")`.
@discardableResult
func syscall<T: FixedWidthInteger>(_ what: @autoclosure () -> String, _ body: () -> T) throws(IOGateError) -> T {
    do throws(Errno) { return try retryOnInterrupt(what(), body) } catch { throw IOGateError(error) }
}

/// Sends all of `bytes` on socket `fd`; false when the peer has gone or the send failed.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    (try? Descriptor.sendAll(fd, bytes)) != nil
}

/// Reads exactly `count` bytes into `bytes[0..<count]`; false on end of stream, timeout or error.
func readExactly(_ fd: Int32, _ bytes: inout [UInt8], count: Int) -> Bool {
    (try? Descriptor.receiveExactly(fd, into: &bytes, count: count)) ?? false
}
