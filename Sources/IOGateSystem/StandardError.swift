// SAFETY: `@preconcurrency` only in this file: Swift 6 refuses to read C's `stderr` (a mutable global) from
// concurrent code; the C library sets it before `main` and nothing here reassigns it, and stdio
// locks the stream on every call. Every other file writes to standard error through this function.
@preconcurrency import Glibc

/// Writes `text` to standard error with one `fputs`: stdio locks the stream for the call, so text
/// written by several threads at once (log lines, a batch of audit records) never interleaves.
public func writeStandardError(_ text: String) {
    fputs(text, stderr)
}
