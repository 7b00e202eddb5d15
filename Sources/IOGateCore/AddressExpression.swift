/// An address as a person writes it: a physical address (`0xFE20001C`) or `WINDOW+OFFSET` (`gpio+0x1c`).
public enum AddressExpression: Hashable, Sendable {
    case physical(UInt64)
    case window(name: String, offset: UInt64)

    /// Parses `0x...`, decimal, `name`, or `name+offset`.
    public init(parsing text: String) throws(IOGateError) {
        let t = text.trimmingCharacters(in: " ")
        if let n = parseInteger(t) {
            self = .physical(n)
            return
        }
        let parts = t.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }), name.first!.isLetter else {
            throw IOGateError(.malformed, "address '\(text)' is not a number (0xFE20001C) or WINDOW+OFFSET (gpio+0x1c)")
        }
        var offset: UInt64 = 0
        if parts.count == 2 {
            guard let o = parseInteger(Substring(parts[1])) else {
                throw IOGateError(.malformed, "offset '\(parts[1])' in '\(text)' is not a number; expected e.g. gpio+0x1c")
            }
            offset = o
        }
        self = .window(name: name, offset: offset)
    }
}

/// Parses `0x`-prefixed hex, `0b` binary, `0o` octal or decimal, with optional `_` separators.
public func parseInteger<S: StringProtocol>(_ s: S) -> UInt64? {
    let t = s.replacingUnderscores()
    let lower = t.lowercased()
    // UInt64(_:radix:) accepts a leading sign ("+1", "0x+1F" would parse); only digits are allowed here.
    guard !lower.contains("+"), !lower.contains("-") else { return nil }
    if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
    if lower.hasPrefix("0b") { return UInt64(lower.dropFirst(2), radix: 2) }
    if lower.hasPrefix("0o") { return UInt64(lower.dropFirst(2), radix: 8) }
    return UInt64(lower, radix: 10)
}

extension StringProtocol {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
