import Glibc

/// File-descriptor operations with `EINTR` and short transfers handled once, here.
public enum Descriptor {
    /// Opens `path` close-on-exec; `mode` applies when `flags` has `O_CREAT`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try retryOnInterrupt("open \(path)") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Closes `fd`. Not retried on `EINTR`: Linux always releases the descriptor, and a retry could
    /// close one another thread has just been given.
    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Reads from `fd` until end of file or `limit` bytes, whichever comes first.
    public static func readAll(_ fd: Int32, limit: Int = 16 << 20) throws(Errno) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            // withUnsafeMutableBytes rethrows untyped errors, so the Errno travels out as a Result.
            let n = try buf.withUnsafeMutableBytes { p -> Result<Int, Errno> in
                // SAFETY: read writes at most p.count bytes into the array's own storage.
                do throws(Errno) { return .success(try retryOnInterrupt("read") { Glibc.read(fd, p.baseAddress, p.count) }) } catch {
                    return .failure(error)
                }
            }.get()
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    /// Writes all of `bytes` to `fd` (a file or pipe), retrying short writes and `EINTR`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { p in
                // SAFETY: off < p.count, so the pointer and length stay inside the array's storage.
                Glibc.write(fd, p.baseAddress! + off, p.count - off)
            }
            if n == -1 {
                if errno == EINTR { continue }
                throw Errno.current("write")
            }
            off += n
        }
    }

    /// Sends all of `bytes` on socket `fd`, retrying short sends and `EINTR`. `MSG_NOSIGNAL`: a peer
    /// that went away gives `EPIPE` here instead of killing the process with `SIGPIPE`.
    // SAFETY: reads only inside `bytes`, which the caller keeps alive for the call.
    public static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        var off = 0
        while off < bytes.count {
            // SAFETY: off < bytes.count, so the range stays inside the caller's buffer.
            off += try retryOnInterrupt("send") { Glibc.send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Sends all of `bytes` on socket `fd` (see `sendAll(_:_:)` for a buffer).
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) {
        // withUnsafeBytes rethrows untyped errors: carry the Errno out by hand.
        // SAFETY: the buffer is the array's own storage, used only during the call.
        let failure: Errno? = bytes.withUnsafeBytes { p in
            do throws(Errno) { try sendAll(fd, p) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Sends `bytes` on socket `fd` in one `send` that never waits (`MSG_DONTWAIT`); true when all
    /// of it went out, false when the socket buffer had no room for all of it or the send failed.
    public static func sendWithoutWaiting(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        let n = bytes.withUnsafeBytes { p in
            // SAFETY: the pointer and count describe the array's own storage.
            Glibc.send(fd, p.baseAddress, p.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
        return n == bytes.count
    }

    /// Receives exactly `count` bytes into `bytes[0..<count]`; false at end of stream first.
    public static func receiveExactly(_ fd: Int32, into bytes: inout [UInt8], count: Int) throws(Errno) -> Bool {
        // SAFETY: the buffer is the array's own storage; receiveExactly checks count against it.
        let result: Result<Bool, Errno> = bytes.withUnsafeMutableBytes { p in
            do throws(Errno) { return .success(try receiveExactly(fd, into: p, count: count)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// One `recv` into `buffer[offset...]`, repeated on `EINTR`: the bytes received, 0 at end of stream.
    public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) throws(Errno) -> Int {
        precondition(offset <= buffer.count, "receive offset \(offset) past a buffer of \(buffer.count) bytes")
        // SAFETY: offset <= buffer.count (checked above), and recv writes at most count - offset bytes.
        return try retryOnInterrupt("recv") { Glibc.recv(fd, buffer.baseAddress! + offset, buffer.count - offset, 0) }
    }

    /// Receives exactly `count` bytes into `buffer[offset...]`; false at end of stream first.
    // SAFETY: writes only inside `buffer` (the precondition checks the range).
    public static func receiveExactly(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0, count: Int) throws(Errno)
        -> Bool
    {
        precondition(offset + count <= buffer.count, "receive of \(count) bytes at \(offset) past a buffer of \(buffer.count)")
        var got = 0
        while got < count {
            // SAFETY: offset + count <= buffer.count (checked above), and got < count.
            let n = try retryOnInterrupt("recv") { Glibc.recv(fd, buffer.baseAddress! + offset + got, count - got, 0) }
            if n == 0 { return false }
            got += n
        }
        return true
    }

    /// Accepts one connection on listening socket `fd` and marks it close-on-exec. Retries `EINTR`
    /// and the aborted-handshake errors, and backs off for 10 ms when out of descriptors or memory
    /// (so the loop does not spin); nil once the listener is shut down or fails otherwise.
    public static func accept(_ fd: Int32) -> Int32? {
        while true {
            do throws(Errno) {
                let c = try retryOnInterrupt("accept") { Glibc.accept(fd, nil, nil) }
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                return c
            } catch {
                switch error.code {
                case ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: usleep(10_000)
                default: return nil
                }
            }
        }
    }
}

/// Reads a whole small file (configuration, board, `/proc` entries), at most `limit` bytes.
public func readFile(_ path: String, limit: Int = 16 << 20) throws(Errno) -> [UInt8] {
    let fd = try Descriptor.open(path, O_RDONLY)
    defer { Descriptor.close(fd) }
    do throws(Errno) { return try Descriptor.readAll(fd, limit: limit) } catch { throw Errno(error.code, call: "read \(path)") }
}

/// Reads a whole small file, or nil when it cannot be opened or read.
public func readSmallFile(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
    try? readFile(path, limit: limit)
}

/// Reads a text file as UTF-8, or nil.
public func readTextFile(_ path: String) -> String? {
    readSmallFile(path).map { String(decoding: $0, as: UTF8.self) }
}

/// Creates or truncates `path` with `mode` (before the umask) and writes `text` to it.
public func writeFile(_ path: String, _ text: String, mode: mode_t = 0o600) throws(Errno) {
    let fd = try Descriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
    defer { Descriptor.close(fd) }
    do throws(Errno) { try Descriptor.writeAll(fd, Array(text.utf8)) } catch { throw Errno(error.code, call: "write \(path)") }
}
