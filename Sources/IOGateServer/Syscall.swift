import Glibc
import IOGateCore

/// The one seam for system calls: retries `EINTR` and turns `-1`/`errno` into a typed error.
@discardableResult
func syscall<T: FixedWidthInteger>(_ what: @autoclosure () -> String, _ body: () -> T) throws(IOGateError) -> T {
    while true {
        let r = body()
        if r != -1 { return r }
        let e = errno
        if e == EINTR { continue }
        throw IOGateError(.system, "\(what()): \(String(cString: strerror(e)))")
    }
}

/// The current `errno` as text.
func errnoText(_ e: Int32 = errno) -> String { String(cString: strerror(e)) }

/// Writes all of `bytes` to `fd`, retrying short writes and `EINTR`.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var off = 0
    while off < bytes.count {
        let n = send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        off += n
    }
    return true
}

/// Reads exactly `count` bytes into `buffer` at `offset`; false on EOF, timeout or error.
func readExactly(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int = 0, count: Int) -> Bool {
    var got = 0
    while got < count {
        let n = recv(fd, buffer.baseAddress! + offset + got, count - got, 0)
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        if n == 0 { return false }
        got += n
    }
    return true
}
