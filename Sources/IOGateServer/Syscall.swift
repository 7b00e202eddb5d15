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

/// Reads a whole small file (config, board, /proc entries). Returns nil when it cannot be opened.
public func readSmallFile(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while out.count < limit {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out.append(contentsOf: buf[0..<n])
    }
    return out
}

/// Reads a text file, or nil.
public func readTextFile(_ path: String) -> String? {
    readSmallFile(path).map { String(decoding: $0, as: UTF8.self) }
}

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
