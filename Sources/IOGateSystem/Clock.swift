import Glibc

/// `CLOCK_MONOTONIC` in nanoseconds: for timeouts and measurements, unaffected by clock changes.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps for `milliseconds`, continuing after signals until the time has passed.
public func sleepMilliseconds(_ milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
}

/// `value` formatted by C's `printf` conversion in `format` (one `%` conversion of a double, such as
/// `"%.2f M/s"` or `"%.6g"`): the same text Foundation's `String(format:)` gives, without Foundation.
public func formatDouble(_ format: String, _ value: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    while true {
        let n = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        guard n >= 0 else { return "" }
        if Int(n) < buffer.count { return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        buffer = [CChar](repeating: 0, count: Int(n) + 1)
    }
}
