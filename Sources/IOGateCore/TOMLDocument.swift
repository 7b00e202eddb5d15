/// A parsed TOML file: its root table, every key, value and table located, and the file name for
/// errors.
public struct TOMLDocument: Sendable {
    /// How errors name the file.
    public let file: String
    /// The top-level table.
    public let root: TOMLTable

    /// Parses `text` (TOML 1.0); a syntax error is `code` with `file:line:column: TOML syntax error: ...`.
    public init(text: String, file: String, code: IOGateError.Code) throws(IOGateError) {
        self.file = file
        do { self.root = try TOMLTable(parsing: text) } catch {
            throw IOGateError(code, "\(file):\(error.position.line):\(error.position.column): TOML syntax error: \(error.message)")
        }
    }
}

/// One table of a `TOMLDocument` with typed, located accessors.
public struct TOMLSection: Sendable {
    /// The document the table is in.
    public let document: TOMLDocument
    /// The table.
    public let table: TOMLTable
    /// How messages name this table, e.g. `[[grant]] #2`; empty for the top level.
    public let label: String
    /// The 1-based line of the table header, nil for the top level.
    public let line: Int?
    let code: IOGateError.Code

    /// A section for `table`, named `label` in messages, starting at `line`.
    public init(document: TOMLDocument, table: TOMLTable, label: String, line: Int?, code: IOGateError.Code) {
        self.document = document
        self.table = table
        self.label = label
        self.line = line
        self.code = code
    }

    /// The top-level table of a document.
    public init(root document: TOMLDocument, code: IOGateError.Code) {
        self.init(document: document, table: document.root, label: "", line: nil, code: code)
    }

    /// An error located at `key` in this table (or at the table itself).
    public func error(_ message: String, key: String? = nil) -> IOGateError {
        error(message, line: key.flatMap { table.entry($0)?.keyPosition.line } ?? line)
    }

    /// An error located at `line` (nil: the file as a whole).
    func error(_ message: String, line: Int?) -> IOGateError {
        let where_ = line.map { "\(document.file):\($0)" } ?? document.file
        let inTable = label.isEmpty ? "" : " in \(label)"
        return IOGateError(code, "\(where_): \(message)\(inTable)")
    }

    /// Refuses any key not in `allowed`, suggesting the closest allowed key.
    public func checkKeys(_ allowed: [String]) throws(IOGateError) {
        for key in table.keys where !allowed.contains(key) {
            var hint = ""
            if let close = allowed.min(by: { editDistance($0, key) < editDistance($1, key) }),
                editDistance(close, key) <= 2 || close.lowercased() == key.lowercased()
            {
                hint = " (did you mean '\(close)'?)"
            }
            throw error("unknown key '\(key)'\(hint); allowed keys: \(allowed.joined(separator: ", "))", key: key)
        }
    }

    /// Whether the table has `key`.
    public func has(_ key: String) -> Bool { table[key] != nil }

    /// The string at `key`, nil if absent; another type is an error.
    public func string(_ key: String) throws(IOGateError) -> String? {
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw typeError(key, v, expected: "a string") }
        return s
    }

    /// The string at `key`; absent or another type is an error.
    public func requiredString(_ key: String) throws(IOGateError) -> String {
        guard let s = try string(key) else { throw error("missing required key '\(key)' (a string)") }
        return s
    }

    /// The boolean at `key`, nil if absent; another type is an error.
    public func bool(_ key: String) throws(IOGateError) -> Bool? {
        guard let v = table[key] else { return nil }
        guard let b = v.bool else { throw typeError(key, v, expected: "true or false") }
        return b
    }

    /// A non-negative integer (hex allowed: `0xFE200000`).
    public func uint64(_ key: String) throws(IOGateError) -> UInt64? {
        guard let e = table.entry(key) else { return nil }
        return try uint64(e.item, key: key)
    }

    /// A non-negative integer that must be present.
    public func requiredUInt64(_ key: String) throws(IOGateError) -> UInt64 {
        guard let n = try uint64(key) else { throw error("missing required key '\(key)' (an integer, hex allowed)") }
        return n
    }

    /// `item` (the value of `key`, or an element of it) as a non-negative integer; errors name its line.
    func uint64(_ item: TOMLItem, key: String) throws(IOGateError) -> UInt64 {
        guard case .integer(let n) = item.value else {
            throw typeError(key, item.value, expected: "an integer (hex allowed, e.g. 0xFE200000)", line: item.position.line)
        }
        guard n >= 0 else { throw error("'\(key)' is \(n); it must not be negative", line: item.position.line) }
        return UInt64(n)
    }

    /// The array at `key` with its located elements, nil if absent; another type is an error.
    public func array(_ key: String) throws(IOGateError) -> [TOMLItem]? {
        guard let v = table[key] else { return nil }
        guard let a = v.array else { throw typeError(key, v, expected: "an array") }
        return a
    }

    /// An array of non-negative integers.
    public func uint64Array(_ key: String) throws(IOGateError) -> [UInt64]? {
        guard let a = try array(key) else { return nil }
        var out: [UInt64] = []
        for item in a { out.append(try uint64(item, key: key)) }
        return out
    }

    /// An array of strings.
    public func stringArray(_ key: String) throws(IOGateError) -> [String]? {
        guard let a = try array(key) else { return nil }
        var out: [String] = []
        for item in a {
            guard let s = item.value.string else {
                throw typeError(key, item.value, expected: "an array of strings", line: item.position.line)
            }
            out.append(s)
        }
        return out
    }

    /// The `[[name]]` array of tables, each as a located section.
    public func tables(_ name: String) throws(IOGateError) -> [TOMLSection] {
        guard let v = table[name] else { return [] }
        guard let a = v.array else { throw typeError(name, v, expected: "an array of tables ([[\(name)]])") }
        var out: [TOMLSection] = []
        for (i, item) in a.enumerated() {
            guard let t = item.value.table else {
                throw typeError(name, item.value, expected: "a table ([[\(name)]])", line: item.position.line)
            }
            out.append(TOMLSection(document: document, table: t, label: "[[\(name)]] #\(i + 1)", line: t.position.line, code: code))
        }
        return out
    }

    /// The `[name]` table, if present.
    public func subtable(_ name: String) throws(IOGateError) -> TOMLSection? {
        guard let v = table[name] else { return nil }
        guard let t = v.table else { throw typeError(name, v, expected: "a table ([\(name)])") }
        return TOMLSection(document: document, table: t, label: "[\(name)]", line: t.position.line, code: code)
    }

    func typeError(_ key: String, _ v: TOMLValue, expected: String, line: Int? = nil) -> IOGateError {
        let message = "'\(key)' is \(v.typeDescription); expected \(expected)"
        return line.map { error(message, line: $0) } ?? error(message, key: key)
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelled keys.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var prev = Array(0...b.count)
    for i in 1...a.count {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}
