import TOMLKit

/// A parsed TOML file that remembers its text, so every error can name the file and the line.
///
/// TOMLKit reports positions only for syntax errors; for semantic errors (unknown key, wrong type)
/// the line is found by scanning the text for the key inside its table.
public struct TOMLDocument {
    public let file: String
    public let root: TOMLTable
    let lines: [Substring]

    /// Parses `text`; a syntax error names the file, line and column.
    public init(text: String, file: String, code: IOGateError.Code) throws(IOGateError) {
        self.file = file
        // Split on the scalar "\n": a Swift Character "\r\n" is not equal to "\n", so splitting the
        // characters would keep a CRLF file in one line (and hide its headers from the checks below).
        self.lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Substring($0) }
        if let n = lines.firstIndex(where: { $0.unicodeScalars.contains("\0") }) {
            throw IOGateError(code, "\(file):\(n + 1): TOML syntax error: the text contains a NUL byte")
        }
        // The brace check first: the header check parses prefixes of the text with toml++, which must
        // not meet the brace pattern either.
        if let bad = Self.abortingArrayBrace(text) {
            throw IOGateError(code, "\(file):\(bad.line):\(bad.column): TOML syntax error: expected a value or ']' in an array, saw '}'")
        }
        if let bad = Self.abortingTableHeader(lines) {
            throw IOGateError(
                code,
                "\(file):\(bad.line):\(bad.column): TOML syntax error: expected a table name (a bare key of letters, digits, '_' "
                    + "and '-', or a quoted key) after '[', saw \(bad.found.debugDescription)")
        }
        do {
            self.root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw IOGateError(code, "\(file):\(e.source.begin.line):\(e.source.begin.column): TOML syntax error: \(e.description)")
        } catch {
            throw IOGateError(code, "\(file): TOML syntax error: \(error)")
        }
    }

    /// toml++ 3 (inside TOMLKit) stops on an assertion, aborting the process, instead of reporting an
    /// error when a table header's name starts with a character no key can start with (`[.limits]`,
    /// `[=x]`, `[é]`, a lone `[`). Finds the first such header. A line counts as a header only if the
    /// text before it parses, so lines inside multi-line strings and arrays are left to toml++.
    static func abortingTableHeader(_ lines: [Substring]) -> (line: Int, column: Int, found: Unicode.Scalar)? {
        for (i, line) in lines.enumerated() {
            let s = Array(line.unicodeScalars)
            var p = i == 0 && s.first == "\u{FEFF}" ? 1 : 0
            func skipBlanks() -> Bool {
                let start = p
                while p < s.count && (s[p] == " " || s[p] == "\t") { p += 1 }
                return p > start
            }
            _ = skipBlanks()
            guard p < s.count, s[p] == "[" else { continue }
            p += 1
            if skipBlanks() && p < s.count && s[p] == "[" { continue }  // "[ [": toml++ reports it
            if p < s.count && s[p] == "[" {
                p += 1
                _ = skipBlanks()
            }
            if p == s.count && i == lines.count - 1 { continue }  // end of text: toml++ reports it
            let c: Unicode.Scalar = p < s.count ? s[p] : "\n"
            let startsKey = c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || "_-\"']".unicodeScalars.contains(c))
            guard !startsKey else { continue }
            // The text before the line, with the newline that ends it (a CRLF line's "\r" is in `lines`).
            guard (try? TOMLTable(string: lines[..<i].joined(separator: "\n") + "\n")) != nil else { continue }
            return (i + 1, p + 1, c)
        }
        return nil
    }

    /// toml++ also aborts on `}` where an array element should be (`[}`, `[1, }`). Finds the first `}`
    /// outside strings and comments whose previous significant character is `[` or `,` (never valid TOML).
    static func abortingArrayBrace(_ text: String) -> (line: Int, column: Int)? {
        let s = Array(text.unicodeScalars)
        var i = 0
        var line = 1
        var lineStart = 0
        var last: Unicode.Scalar = "\n"  // the last character outside strings, comments and blanks
        func newline() {
            line += 1
            lineStart = i + 1
        }
        while i < s.count {
            let c = s[i]
            switch c {
            case "\n":
                newline()
                i += 1
            case " ", "\t", "\r":
                i += 1
            case "#":
                while i < s.count && s[i] != "\n" { i += 1 }
            case "\"", "'":
                let multiline = i + 2 < s.count && s[i + 1] == c && s[i + 2] == c
                i += multiline ? 3 : 1
                while i < s.count {
                    if s[i] == "\\" && c == "\"" && i + 1 < s.count {
                        i += 1
                        if s[i] == "\n" { newline() }
                        i += 1
                        continue
                    }
                    if s[i] == "\n" {
                        if !multiline { break }
                        newline()
                    }
                    var run = 0
                    while i + run < s.count && s[i + run] == c { run += 1 }
                    if run >= (multiline ? 3 : 1) {
                        i += multiline ? run : 1
                        break
                    }
                    i += max(run, 1)
                }
                last = c
            case "}":
                if last == "[" || last == "," { return (line, i - lineStart + 1) }
                last = c
                i += 1
            default:
                last = c
                i += 1
            }
        }
        return nil
    }

    /// The 1-based line of the `index`th `[[name]]` header (0-based index).
    public func lineOfArrayTable(_ name: String, index: Int) -> Int? {
        var seen = 0
        for (i, raw) in lines.enumerated() {
            let l = raw.trimmingSpaces
            if l.hasPrefix("[[") && l.dropFirst(2).trimmingSpaces.hasPrefix(name) {
                let rest = l.dropFirst(2).trimmingSpaces.dropFirst(name.count).trimmingSpaces
                if rest.hasPrefix("]]") {
                    if seen == index { return i + 1 }
                    seen += 1
                }
            }
        }
        return nil
    }

    /// The 1-based line where `key` is assigned in the table starting at `tableLine`
    /// (nil: the top level), stopping at the next table header.
    public func lineOfKey(_ key: String, tableLine: Int?) -> Int? {
        var i = tableLine ?? 0
        while i < lines.count {
            let l = lines[i].trimmingSpaces
            if l.hasPrefix("[") && i + 1 != tableLine { return nil }
            var k = l.prefix { $0 != "=" }.trimmingSpaces
            if k.hasPrefix("\"") && k.hasSuffix("\"") && k.count >= 2 { k = k.dropFirst().dropLast() }
            if k == key && l.contains("=") { return i + 1 }
            i += 1
        }
        return nil
    }
}

/// One table of a `TOMLDocument` with typed, located accessors.
public struct TOMLSection {
    public let document: TOMLDocument
    public let table: TOMLTable
    /// How messages name this table, e.g. `[[grant]] #2`; empty for the top level.
    public let label: String
    /// The 1-based line of the table header, nil for the top level.
    public let line: Int?
    let code: IOGateError.Code

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
        let keyLine = key.flatMap { document.lineOfKey($0, tableLine: line) }
        let where_ = (keyLine ?? line).map { "\(document.file):\($0)" } ?? document.file
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

    public func has(_ key: String) -> Bool { table[key] != nil }

    public func string(_ key: String) throws(IOGateError) -> String? {
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw typeError(key, v, expected: "a string") }
        return s
    }

    public func requiredString(_ key: String) throws(IOGateError) -> String {
        guard let s = try string(key) else { throw error("missing required key '\(key)' (a string)") }
        return s
    }

    public func bool(_ key: String) throws(IOGateError) -> Bool? {
        guard let v = table[key] else { return nil }
        guard let b = v.bool else { throw typeError(key, v, expected: "true or false") }
        return b
    }

    /// A non-negative integer (hex allowed: `0xFE200000`).
    public func uint64(_ key: String) throws(IOGateError) -> UInt64? {
        guard let v = table[key] else { return nil }
        return try uint64(value: v, key: key)
    }

    public func requiredUInt64(_ key: String) throws(IOGateError) -> UInt64 {
        guard let n = try uint64(key) else { throw error("missing required key '\(key)' (an integer, hex allowed)") }
        return n
    }

    func uint64(value v: TOMLValueConvertible, key: String) throws(IOGateError) -> UInt64 {
        guard v.type == .int, let n = v.int else { throw typeError(key, v, expected: "an integer (hex allowed, e.g. 0xFE200000)") }
        guard n >= 0 else { throw error("'\(key)' is \(n); it must not be negative", key: key) }
        return UInt64(n)
    }

    public func array(_ key: String) throws(IOGateError) -> [TOMLValueConvertible]? {
        guard let v = table[key] else { return nil }
        guard let a = v.array else { throw typeError(key, v, expected: "an array") }
        return Array(a)
    }

    public func uint64Array(_ key: String) throws(IOGateError) -> [UInt64]? {
        guard let a = try array(key) else { return nil }
        var out: [UInt64] = []
        for v in a { out.append(try uint64(value: v, key: key)) }
        return out
    }

    public func stringArray(_ key: String) throws(IOGateError) -> [String]? {
        guard let a = try array(key) else { return nil }
        var out: [String] = []
        for v in a {
            guard let s = v.string else { throw typeError(key, v, expected: "an array of strings") }
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
            guard let t = item.table else { throw typeError(name, item, expected: "a table ([[\(name)]])") }
            out.append(
                TOMLSection(
                    document: document, table: t, label: "[[\(name)]] #\(i + 1)",
                    line: document.lineOfArrayTable(name, index: i), code: code))
        }
        return out
    }

    /// The `[name]` table, if present.
    public func subtable(_ name: String) throws(IOGateError) -> TOMLSection? {
        guard let v = table[name] else { return nil }
        guard let t = v.table else { throw typeError(name, v, expected: "a table ([\(name)])") }
        // A header may have spaces inside the brackets and a trailing comment: `[ limits ]  # tuning`.
        let line = document.lines.firstIndex { raw in
            raw.prefix { $0 != "#" }.filter { $0 != " " && $0 != "\t" && $0 != "\r" } == "[\(name)]"
        }.map { $0 + 1 }
        return TOMLSection(document: document, table: t, label: "[\(name)]", line: line, code: code)
    }

    func typeError(_ key: String, _ v: TOMLValueConvertible, expected: String) -> IOGateError {
        error("'\(key)' is \(describe(v.type)); expected \(expected)", key: key)
    }

    func describe(_ t: TOMLType) -> String {
        switch t {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a floating-point number"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        default: "a date or time"
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
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
