/// A TOML 1.0 parser (https://toml.io/en/v1.0.0) over the text's Unicode scalars.
///
/// One pass, no backtracking, each loop consumes at least one scalar, and nesting is capped at
/// `maxDepth`, so any input ends in a value or a `TOMLSyntaxError` in time linear in its length,
/// without deep recursion.
struct TOMLParser {
    /// Deepest nesting of tables and arrays accepted. Real configuration files nest a few levels;
    /// the cap bounds the recursion of the parser (and of freeing the result) on hostile input.
    static let maxDepth = 64

    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    /// Index in `s` of the current line's first scalar, for columns.
    private var lineStart = 0

    init(_ text: String) { s = Array(text.unicodeScalars) }

    // MARK: Document structure

    /// A table under construction. A class, so a header can hand back a table deep in the tree to
    /// which the following key/value lines are added; frozen into a `TOMLTable` at the end.
    private final class Node {
        /// How a table came to be; decides whether a later header or dotted key may define or extend it.
        enum Kind {
            /// Created as a parent by a header (`[a.b]` creates `a`): a later `[a]` may still define it.
            case implicit
            /// Defined by a `[header]` or `[[header]]`, or the root.
            case header
            /// Created by a dotted key (`a.b = 1` creates `a`): only more dotted keys in the same place may extend it.
            case dotted
        }

        enum Slot {
            case value(TOMLItem)
            case table(Node)
            /// An array of tables from `[[name]]` headers, with the first header's position.
            case tableArray([Node], TOMLPosition)
        }

        var kind: Kind
        var position: TOMLPosition
        let depth: Int
        var keys: [String] = []
        var slots: [String: (keyPosition: TOMLPosition, slot: Slot)] = [:]

        init(kind: Kind, position: TOMLPosition, depth: Int) {
            self.kind = kind
            self.position = position
            self.depth = depth
        }

        func set(_ key: String, _ slot: Slot, keyPosition: TOMLPosition) {
            if slots[key] == nil { keys.append(key) }
            slots[key] = (keyPosition, slot)
        }

        /// Recursion is bounded by `maxDepth`.
        func freeze() -> TOMLTable {
            var t = TOMLTable(position: position)
            t.keys = keys
            for (key, entry) in slots {
                let item: TOMLItem
                switch entry.slot {
                case .value(let v): item = v
                case .table(let n): item = TOMLItem(.table(n.freeze()), at: n.position)
                case .tableArray(let ns, let p): item = TOMLItem(.array(ns.map { TOMLItem(.table($0.freeze()), at: $0.position) }), at: p)
                }
                t.entries[key] = TOMLEntry(keyPosition: entry.keyPosition, item: item)
            }
            return t
        }
    }

    /// One part of a (possibly dotted) key, with where it is written.
    private struct KeyPart {
        var name: String
        var position: TOMLPosition
    }

    mutating func parseDocument() throws(TOMLSyntaxError) -> TOMLTable {
        if let nul = s.firstIndex(of: "\0") {
            // Report it up front: a NUL is never valid, and some tools read the text as a C string.
            var line = 1
            var start = 0
            for j in 0..<nul where s[j] == "\n" {
                line += 1
                start = j + 1
            }
            throw TOMLSyntaxError(
                position: TOMLPosition(line: line, column: nul - start + 1),
                message: "the text contains a NUL byte (U+0000), which TOML never allows")
        }
        if s.first == "\u{FEFF}" {
            // A byte-order mark is allowed at the start; columns count from after it.
            i = 1
            lineStart = 1
        }
        let root = Node(kind: .header, position: TOMLPosition(line: 1, column: 1), depth: 0)
        var current = root
        while true {
            skipBlanks()
            guard let c = peek() else { break }
            if c == "#" || c == "\n" || c == "\r" {
                try endOfLine(after: "")
                continue
            }
            if c == "[" {
                current = try parseHeader(root: root)
                try endOfLine(after: " after the table header")
            } else {
                try parseKeyValue(into: current, expected: "expected a key, a [table] header or a comment")
                try endOfLine(after: " after the value")
            }
        }
        return root.freeze()
    }

    /// `key = value`, added to `table` (through the dotted key's tables).
    private mutating func parseKeyValue(into table: Node, expected: String) throws(TOMLSyntaxError) {
        let key = try parseKey(expected: expected)
        guard table.depth + key.count <= Self.maxDepth else {
            throw TOMLSyntaxError(position: key[key.count - 1].position, message: "tables nest more than \(Self.maxDepth) levels deep")
        }
        guard peek() == "=" else { throw error("expected '=' after the key \(keyText(key)), saw \(seen())") }
        i += 1
        skipBlanks()
        let valuePosition = position
        let value = try parseValue(
            depth: table.depth + key.count,
            expected: "expected a value (a string, number, true or false, date, array or inline table) after '='")
        var t = table
        for (n, part) in key.enumerated().dropLast() {
            if let existing = t.slots[part.name] {
                guard case .table(let child) = existing.slot, child.kind == .dotted else {
                    throw TOMLSyntaxError(
                        position: part.position,
                        message: "the dotted key \(keyText(key)) adds to \(keyText(key[...n])), "
                            + describe(existing.slot, key: key[...n], at: existing.keyPosition)
                            + "; dotted keys can only extend tables they created")
                }
                t = child
            } else {
                let child = Node(kind: .dotted, position: part.position, depth: t.depth + 1)
                t.set(part.name, .table(child), keyPosition: part.position)
                t = child
            }
        }
        let last = key[key.count - 1]
        if let existing = t.slots[last.name] {
            throw TOMLSyntaxError(
                position: last.position,
                message: "duplicate key \(keyText(key)): " + describe(existing.slot, key: key[...], at: existing.keyPosition))
        }
        t.set(last.name, .value(TOMLItem(value, at: valuePosition)), keyPosition: last.position)
    }

    /// `[a.b]` or `[[a.b]]`: finds or creates the table the following lines go into.
    private mutating func parseHeader(root: Node) throws(TOMLSyntaxError) -> Node {
        let start = position
        i += 1
        let isArray = peek() == "["
        if isArray { i += 1 }
        let key = try parseKey(
            expected: "expected a table name (a bare key of letters, digits, '_' and '-', or a quoted key) after '\(isArray ? "[[" : "[")'")
        let close = isArray ? "]]" : "]"
        guard peek() == "]", !isArray || peek(1) == "]" else {
            if peek() == "]" { i += 1 }  // "[[a]": the second ']' is missing
            throw error("expected '\(close)' to close the table header \(isArray ? "[[" : "[")\(keyText(key)), saw \(seen())")
        }
        i += isArray ? 2 : 1
        let name = "\(isArray ? "[[" : "[")\(keyText(key))\(close)"
        var t = root
        for (n, part) in key.enumerated() {
            let isLast = n == key.count - 1
            guard let existing = t.slots[part.name] else {
                let child = Node(kind: isLast ? .header : .implicit, position: start, depth: t.depth + 1)
                guard child.depth <= Self.maxDepth else {
                    throw TOMLSyntaxError(position: part.position, message: "tables nest more than \(Self.maxDepth) levels deep")
                }
                t.set(part.name, isLast && isArray ? .tableArray([child], start) : .table(child), keyPosition: part.position)
                t = child
                continue
            }
            switch existing.slot {
            case .table(let child) where !isLast:
                t = child
            case .tableArray(let elements, _) where !isLast:
                t = elements[elements.count - 1]
            case .tableArray(let elements, let p) where isArray:
                let child = Node(kind: .header, position: start, depth: t.depth + 1)
                t.slots[part.name] = (existing.keyPosition, .tableArray(elements + [child], p))
                t = child
            case .table(let child) where !isArray && child.kind == .implicit:
                child.kind = .header
                child.position = start
                t = child
            default:
                let what = isLast ? "cannot define \(name): " : "cannot put \(name) inside \(keyText(key[...n])): "
                throw TOMLSyntaxError(
                    position: part.position, message: what + describe(existing.slot, key: key[...n], at: existing.keyPosition))
            }
        }
        return t
    }

    /// What an existing slot is, for errors about redefining it.
    private func describe(_ slot: Node.Slot, key: ArraySlice<KeyPart>, at keyPosition: TOMLPosition) -> String {
        let k = keyText(key)
        switch slot {
        case .value(let v):
            let inline = v.value.table != nil ? " (an inline table, which cannot be extended)" : ""
            return "\(k) is already \(v.value.typeDescription)\(inline), set at line \(keyPosition.line)"
        case .table(let n):
            switch n.kind {
            case .header: return "table \(k) is already defined at line \(n.position.line)"
            case .dotted: return "table \(k) is already defined by dotted keys at line \(n.position.line)"
            case .implicit: return "table \(k) already exists (created by the header at line \(n.position.line))"
            }
        case .tableArray(_, let p):
            return "\(k) is already an array of tables ([[\(k)]], line \(p.line))"
        }
    }

    private func keyText<C: Collection>(_ key: C) -> String where C.Element == KeyPart {
        key.map { tomlKey($0.name) }.joined(separator: ".")
    }

    // MARK: Keys

    /// A simple or dotted key, and the blanks after it.
    private mutating func parseKey(expected: String) throws(TOMLSyntaxError) -> [KeyPart] {
        var parts: [KeyPart] = []
        var expected = expected
        while true {
            skipBlanks()
            let p = position
            guard let c = peek() else { throw error("\(expected), saw \(seen())") }
            let name: String
            if c == "\"" {
                name = try parseBasicString()
            } else if c == "'" {
                name = try parseLiteralString()
            } else if isBareKeyScalar(c) {
                let start = i
                while let d = peek(), isBareKeyScalar(d) { i += 1 }
                name = string(start..<i)
            } else {
                throw error("\(expected), saw \(seen())")
            }
            parts.append(KeyPart(name: name, position: p))
            guard parts.count <= Self.maxDepth else {
                throw TOMLSyntaxError(position: p, message: "a key has more than \(Self.maxDepth) parts")
            }
            skipBlanks()
            guard peek() == "." else { return parts }
            i += 1
            expected = "expected a key after '.' in \(keyText(parts))."
        }
    }

    // MARK: Values

    private mutating func parseValue(depth: Int, expected: String) throws(TOMLSyntaxError) -> TOMLValue {
        guard let c = peek() else { throw error("\(expected), saw \(seen())") }
        switch c {
        case "\"":
            return .string(peek(1) == "\"" && peek(2) == "\"" ? try parseMultilineString(literal: false) : try parseBasicString())
        case "'":
            return .string(peek(1) == "'" && peek(2) == "'" ? try parseMultilineString(literal: true) : try parseLiteralString())
        case "[":
            return try parseArray(depth: depth)
        case "{":
            return try parseInlineTable(depth: depth)
        case "t", "f":
            let word = c == "t" ? "true" : "false"
            guard matches(word) else { throw error("\(expected), saw \(seenWord())") }
            i += word.unicodeScalars.count
            return .bool(c == "t")
        case "i", "n", "+", "-", "0"..."9":
            return try parseNumberOrDate(expected: expected)
        default:
            throw error("\(expected), saw \(seenWord())")
        }
    }

    private mutating func parseArray(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard depth <= Self.maxDepth else { throw error("arrays and tables nest more than \(Self.maxDepth) levels deep") }
        i += 1
        var items: [TOMLItem] = []
        while true {
            try skipBlanksCommentsAndNewlines()
            if peek() == "]" {
                i += 1
                return .array(items)
            }
            let p = position
            items.append(TOMLItem(try parseValue(depth: depth + 1, expected: "expected a value or ']' in the array"), at: p))
            try skipBlanksCommentsAndNewlines()
            switch peek() {
            case ",": i += 1
            case "]":
                i += 1
                return .array(items)
            default: throw error("expected ',' or ']' after an array element, saw \(seen())")
            }
        }
    }

    /// `{ a = 1, b.c = 2 }`: on one line, no trailing comma (TOML 1.0). The result is a plain value,
    /// so later headers and dotted keys cannot extend it.
    private mutating func parseInlineTable(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard depth <= Self.maxDepth else { throw error("arrays and tables nest more than \(Self.maxDepth) levels deep") }
        let node = Node(kind: .header, position: position, depth: depth)
        i += 1
        skipBlanks()
        if peek() == "}" {
            i += 1
            return .table(node.freeze())
        }
        var expected = "expected a key or '}' in the inline table"
        while true {
            try parseKeyValue(into: node, expected: expected)
            skipBlanks()
            switch peek() {
            case ",":
                i += 1
                expected = "expected a key after ',' in the inline table (TOML 1.0 allows no trailing comma)"
            case "}":
                i += 1
                return .table(node.freeze())
            default:
                throw error("expected ',' or '}' in the inline table (which must be on one line), saw \(seen())")
            }
        }
    }

    // MARK: Strings

    /// `"..."` with escapes, on one line.
    private mutating func parseBasicString() throws(TOMLSyntaxError) -> String {
        i += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek(), c != "\n", c != "\r" else { throw error("expected '\"' to close the string, saw \(seen())") }
            switch c {
            case "\"":
                i += 1
                return String(out)
            case "\\":
                out.append(try parseEscape())
            default:
                try checkTextScalar(c, in: "a string")
                out.append(c)
                i += 1
            }
        }
    }

    /// `'...'`: no escapes, on one line.
    private mutating func parseLiteralString() throws(TOMLSyntaxError) -> String {
        i += 1
        let start = i
        while true {
            guard let c = peek(), c != "\n", c != "\r" else { throw error("expected \"'\" to close the literal string, saw \(seen())") }
            if c == "'" {
                i += 1
                return string(start..<(i - 1))
            }
            try checkTextScalar(c, in: "a literal string")
            i += 1
        }
    }

    /// `"""..."""` or `'''...'''`: a newline right after the opening quotes is dropped, CRLF becomes LF,
    /// and up to two quotes may touch the closing three.
    private mutating func parseMultilineString(literal: Bool) throws(TOMLSyntaxError) -> String {
        let quote: Unicode.Scalar = literal ? "'" : "\""
        let open = position
        i += 3
        if peek() == "\n" || (peek() == "\r" && peek(1) == "\n") { try newline() }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else {
                throw TOMLSyntaxError(
                    position: open,
                    message:
                        "expected \(String(repeating: String(quote), count: 3)) to close the multi-line string opened here, saw end of file"
                )
            }
            switch c {
            case quote:
                var run = 0
                while peek(run) == quote && run < 5 { run += 1 }
                i += run
                if run >= 3 {
                    for _ in 0..<(run - 3) { out.append(quote) }
                    return String(out)
                }
                for _ in 0..<run { out.append(quote) }
            case "\n", "\r":
                try newline()
                out.append("\n")
            case "\\" where !literal:
                // A backslash ending a line drops it and the blanks and newlines that follow.
                var j = i + 1
                while peek(j - i) == " " || peek(j - i) == "\t" { j += 1 }
                if peek(j - i) == "\n" || (peek(j - i) == "\r" && peek(j - i + 1) == "\n") {
                    i = j
                    while let d = peek(), d == " " || d == "\t" || d == "\n" || d == "\r" {
                        if d == "\n" || d == "\r" { try newline() } else { i += 1 }
                    }
                } else {
                    out.append(try parseEscape())
                }
            default:
                try checkTextScalar(c, in: "a string")
                out.append(c)
                i += 1
            }
        }
    }

    /// A backslash escape in a basic string.
    private mutating func parseEscape() throws(TOMLSyntaxError) -> Unicode.Scalar {
        let start = position
        i += 1
        guard let c = peek() else { throw error("expected an escape character after '\\', saw \(seen())") }
        i += 1
        switch c {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let count = c == "u" ? 4 : 8
            var v: UInt32 = 0
            for _ in 0..<count {
                guard let d = peek(), let h = hexValue(d) else {
                    throw error("expected \(count) hexadecimal digits after '\\\(c)', saw \(seen())")
                }
                v = v << 4 | h
                i += 1
            }
            guard let scalar = Unicode.Scalar(v) else {
                throw TOMLSyntaxError(
                    position: start,
                    message: "\\\(c)\(hexDigits(v, count: count)) is not a Unicode scalar value (allowed: 0 to D7FF and E000 to 10FFFF)")
            }
            return scalar
        default:
            i -= 1
            let escape = c.value >= 0x21 && c.value < 0x7F ? "'\\\(c)'" : "'\\' followed by \(describeScalar(c))"
            throw TOMLSyntaxError(
                position: start, message: "invalid escape \(escape); allowed: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX")
        }
    }

    /// Refuses control characters other than tab in strings and comments.
    private func checkTextScalar(_ c: Unicode.Scalar, in what: String) throws(TOMLSyntaxError) {
        if (c.value < 0x20 && c != "\t") || c.value == 0x7F {
            let hint = what == "a string" ? "; write it as the escape \\u\(hexDigits(c.value, count: 4))" : ""
            throw error("control character U+\(hexDigits(c.value, count: 4)) is not allowed in \(what)\(hint)")
        }
    }

    // MARK: Numbers and dates

    private mutating func parseNumberOrDate(expected: String) throws(TOMLSyntaxError) -> TOMLValue {
        var digits = 0
        while let d = peek(digits), isDigit(d) { digits += 1 }
        if digits == 4 && peek(4) == "-" { return try parseDate() }
        if digits == 2 && peek(2) == ":" { return try parseTime() }
        let start = i
        var negative = false
        if let c = peek(), c == "+" || c == "-" {
            negative = c == "-"
            i += 1
        }
        for word in ["inf", "nan"] where matches(word) {
            i += 3
            return .float(word == "nan" ? .nan : negative ? -.infinity : .infinity)
        }
        guard let first = peek(), isDigit(first) else {
            throw error("\(i == start ? expected : "expected a digit, 'inf' or 'nan' after the sign"), saw \(seenWord())")
        }
        if first == "0", let r = peek(1), let radix: UInt32 = r == "x" ? 16 : r == "o" ? 8 : r == "b" ? 2 : nil {
            guard i == start else {
                throw TOMLSyntaxError(
                    position: position(of: start), message: "a sign is not allowed on a hexadecimal, octal or binary integer")
            }
            i += 2
            return .integer(try parseRadixInteger(radix: radix, prefix: "0\(r)"))
        }
        let intStart = i
        var text = negative ? "-" : ""
        try scanDigits(into: &text, what: "a digit")
        if i - intStart > 1 && first == "0" {
            throw TOMLSyntaxError(position: position(of: intStart), message: "leading zeros are not allowed in a decimal number")
        }
        var isFloat = false
        if peek() == "." {
            i += 1
            text += "."
            try scanDigits(into: &text, what: "a digit after the decimal point")
            isFloat = true
        }
        if let e = peek(), e == "e" || e == "E" {
            i += 1
            text += "e"
            if let c = peek(), c == "+" || c == "-" {
                text.unicodeScalars.append(c)
                i += 1
            }
            try scanDigits(into: &text, what: "a digit in the exponent")
            isFloat = true
        }
        if isFloat {
            guard let d = Double(text), d.isFinite else {
                throw TOMLSyntaxError(position: position(of: start), message: "\(text) is too large for a 64-bit floating-point number")
            }
            return .float(d)
        }
        // Decimal digits only here (scanDigits accepts nothing else), so the only failure is range.
        guard let n = Int64(text) else {
            throw TOMLSyntaxError(
                position: position(of: start),
                message: "\(text) does not fit in a 64-bit signed integer (-9223372036854775808 to 9223372036854775807)")
        }
        return .integer(n)
    }

    /// Digits, with single `_` between digits, appended to `text` without the underscores.
    private mutating func scanDigits(into text: inout String, what: String) throws(TOMLSyntaxError) {
        guard let first = peek(), isDigit(first) else { throw error("expected \(what), saw \(seen())") }
        while let c = peek() {
            if isDigit(c) {
                text.unicodeScalars.append(c)
                i += 1
            } else if c == "_" {
                guard let n = peek(1), isDigit(n) else { throw error("an underscore in a number must be between two digits") }
                i += 1
            } else {
                return
            }
        }
    }

    /// The digits after `0x`, `0o` or `0b`: non-negative, at most 2^63 - 1.
    private mutating func parseRadixInteger(radix: UInt32, prefix: String) throws(TOMLSyntaxError) -> Int64 {
        let start = i - 2
        let name = radix == 16 ? "hexadecimal" : radix == 8 ? "octal" : "binary"
        var value: UInt64 = 0
        var any = false
        while let c = peek() {
            if let d = hexValue(c), d < radix {
                let (m, o1) = value.multipliedReportingOverflow(by: UInt64(radix))
                let (sum, o2) = m.addingReportingOverflow(UInt64(d))
                guard !o1 && !o2 && sum <= UInt64(Int64.max) else {
                    var end = i
                    while end < s.count, let d = hexValue(s[end]) ?? (s[end] == "_" ? 0 : nil), d < radix { end += 1 }
                    throw TOMLSyntaxError(
                        position: position(of: start),
                        message:
                            "\(string(start..<end)) does not fit in a 64-bit signed integer (TOML integers are at most 0x7FFFFFFFFFFFFFFF)")
                }
                value = sum
                any = true
                i += 1
            } else if c == "_" && any {
                guard let n = peek(1), let d = hexValue(n), d < radix else {
                    throw error("an underscore in a number must be between two digits")
                }
                i += 1
            } else {
                break
            }
        }
        guard any else { throw error("expected a \(name) digit after '\(prefix)', saw \(seen())") }
        if let c = peek(), isBareKeyScalar(c) || c == "." {
            throw error("expected a \(name) digit, saw \(seen())")
        }
        return Int64(value)
    }

    /// `YYYY-MM-DD`, optionally followed by a time (after `T` or a space) and an offset.
    private mutating func parseDate() throws(TOMLSyntaxError) -> TOMLValue {
        let start = i
        let year = try fixedDigits(4, "a 4-digit year")
        try expectScalar("-", in: "a date (YYYY-MM-DD)")
        let monthAt = position
        let month = try fixedDigits(2, "a 2-digit month")
        try expectScalar("-", in: "a date (YYYY-MM-DD)")
        let dayAt = position
        let day = try fixedDigits(2, "a 2-digit day")
        guard (1...12).contains(month) else {
            throw TOMLSyntaxError(position: monthAt, message: "month \(month) is out of range (01 to 12)")
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else {
            throw TOMLSyntaxError(position: dayAt, message: "day \(day) is out of range for month \(month) (01 to \(days))")
        }
        if let c = peek(), c == "T" || c == "t" || (c == " " && peek(1).map(isDigit) == true) {
            i += 1
            _ = try parseTime()
            if let c = peek(), c == "Z" || c == "z" {
                i += 1
            } else if let c = peek(), c == "+" || c == "-" {
                i += 1
                let hourAt = position
                let h = try fixedDigits(2, "a 2-digit offset hour")
                try expectScalar(":", in: "a time offset (+HH:MM)")
                let minuteAt = position
                let m = try fixedDigits(2, "a 2-digit offset minute")
                guard h <= 23 else { throw TOMLSyntaxError(position: hourAt, message: "offset hour \(h) is out of range (00 to 23)") }
                guard m <= 59 else { throw TOMLSyntaxError(position: minuteAt, message: "offset minute \(m) is out of range (00 to 59)") }
            }
        }
        return .datetime(string(start..<i))
    }

    /// `HH:MM:SS` with an optional fraction.
    private mutating func parseTime() throws(TOMLSyntaxError) -> TOMLValue {
        let start = i
        let hourAt = position
        let h = try fixedDigits(2, "a 2-digit hour")
        try expectScalar(":", in: "a time (HH:MM:SS)")
        let minuteAt = position
        let m = try fixedDigits(2, "a 2-digit minute")
        try expectScalar(":", in: "a time (HH:MM:SS; TOML 1.0 requires the seconds)")
        let secondAt = position
        let sec = try fixedDigits(2, "2-digit seconds")
        guard h <= 23 else { throw TOMLSyntaxError(position: hourAt, message: "hour \(h) is out of range (00 to 23)") }
        guard m <= 59 else { throw TOMLSyntaxError(position: minuteAt, message: "minute \(m) is out of range (00 to 59)") }
        guard sec <= 60 else { throw TOMLSyntaxError(position: secondAt, message: "second \(sec) is out of range (00 to 60)") }
        if peek() == "." {
            i += 1
            guard let d = peek(), isDigit(d) else { throw error("expected a digit of the fraction of a second, saw \(seen())") }
            while let d = peek(), isDigit(d) { i += 1 }
        }
        return .datetime(string(start..<i))
    }

    private mutating func fixedDigits(_ count: Int, _ what: String) throws(TOMLSyntaxError) -> Int {
        var v = 0
        for _ in 0..<count {
            guard let d = peek(), isDigit(d) else { throw error("expected \(what), saw \(seen())") }
            v = v * 10 + Int(d.value - 48)
            i += 1
        }
        return v
    }

    private mutating func expectScalar(_ c: Unicode.Scalar, in what: String) throws(TOMLSyntaxError) {
        guard peek() == c else { throw error("expected '\(c)' in \(what), saw \(seen())") }
        i += 1
    }

    // MARK: Blanks, comments and newlines

    private mutating func skipBlanks() {
        while let c = peek(), c == " " || c == "\t" { i += 1 }
    }

    /// Blanks, then an optional comment, then a newline or the end of the text.
    private mutating func endOfLine(after what: String) throws(TOMLSyntaxError) {
        skipBlanks()
        if peek() == "#" { try skipComment() }
        guard peek() != nil else { return }
        guard peek() == "\n" || peek() == "\r" else { throw error("expected the end of the line\(what), saw \(seen())") }
        try newline()
    }

    /// Inside arrays: any mix of blanks, comments and newlines.
    private mutating func skipBlanksCommentsAndNewlines() throws(TOMLSyntaxError) {
        while let c = peek() {
            switch c {
            case " ", "\t": i += 1
            case "#": try skipComment()
            case "\n", "\r": try newline()
            default: return
            }
        }
    }

    /// From `#` to the end of the line (not the newline itself).
    private mutating func skipComment() throws(TOMLSyntaxError) {
        i += 1
        while let c = peek(), c != "\n" {
            if c == "\r" && peek(1) == "\n" { return }
            try checkTextScalar(c, in: "a comment")
            i += 1
        }
    }

    /// Consumes `\n` or `\r\n`; a lone `\r` is an error.
    private mutating func newline() throws(TOMLSyntaxError) {
        if peek() == "\r" {
            guard peek(1) == "\n" else { throw error("a carriage return (U+000D) must be followed by a line feed") }
            i += 1
        }
        i += 1
        line += 1
        lineStart = i
    }

    // MARK: Scalars

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? { i + ahead < s.count ? s[i + ahead] : nil }

    private func matches(_ word: String) -> Bool {
        var j = i
        for c in word.unicodeScalars {
            guard j < s.count, s[j] == c else { return false }
            j += 1
        }
        return true
    }

    private func string(_ range: Range<Int>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s[range])
        return String(v)
    }

    private var position: TOMLPosition { TOMLPosition(line: line, column: i - lineStart + 1) }

    /// The position of an earlier index on the current line.
    private func position(of index: Int) -> TOMLPosition { TOMLPosition(line: line, column: index - lineStart + 1) }

    private func error(_ message: String) -> TOMLSyntaxError { TOMLSyntaxError(position: position, message: message) }

    /// The scalar at the cursor, for "saw ..." in messages.
    private func seen() -> String {
        guard let c = peek() else { return "end of file" }
        if c == "\n" || (c == "\r" && peek(1) == "\n") { return "end of line" }
        return describeScalar(c)
    }

    /// The word at the cursor (up to 20 bare-key characters), for "saw ..." where a word was expected.
    private func seenWord() -> String {
        var j = i
        while j < s.count && j - i < 20 && (isBareKeyScalar(s[j]) || s[j] == "." || s[j] == "+") { j += 1 }
        return j > i + 1 ? "'\(string(i..<j))'" : seen()
    }
}

/// A scalar as messages show it: quoted if printable, with its code point if not ASCII, by name if blank.
func describeScalar(_ c: Unicode.Scalar) -> String {
    switch c.value {
    case 0x21..<0x7F: "'\(c)'"
    case 0x20: "a space"
    case 0x09: "a tab"
    case 0..<0x20, 0x7F: "control character U+\(hexDigits(c.value, count: 4))"
    default: "'\(c)' (U+\(hexDigits(c.value, count: 4)))"
    }
}

private func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

private func hexValue(_ c: Unicode.Scalar) -> UInt32? {
    switch c {
    case "0"..."9": c.value - 48
    case "a"..."f": c.value - 87
    case "A"..."F": c.value - 55
    default: nil
    }
}
