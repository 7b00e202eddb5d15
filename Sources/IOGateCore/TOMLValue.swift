/// A place in a TOML text: 1-based line, and 1-based column counted in Unicode scalars.
public struct TOMLPosition: Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line.
    public var line: Int
    /// The 1-based column, in Unicode scalars from the start of the line.
    public var column: Int

    /// Creates a position.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`.
    public var description: String { "\(line):\(column)" }
}

/// A TOML value, as parsed by `TOMLTable(parsing:)`.
public enum TOMLValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// An offset or local date-time, local date or local time, kept as written (range-checked):
    /// callers only need to say that a date is not what they expected.
    case datetime(String)
    case array([TOMLItem])
    case table(TOMLTable)

    /// The value's type with its article, for messages: "a string", "an integer", ...
    public var typeDescription: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a floating-point number"
        case .bool: "a boolean"
        case .datetime: "a date or time"
        case .array: "an array"
        case .table: "a table"
        }
    }

    /// The string, if this is one.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The integer, if this is one.
    public var integer: Int64? { if case .integer(let n) = self { n } else { nil } }
    /// The boolean, if this is one.
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The elements, if this is an array (a static array or an array of tables).
    public var array: [TOMLItem]? { if case .array(let a) = self { a } else { nil } }
    /// The table, if this is one.
    public var table: TOMLTable? { if case .table(let t) = self { t } else { nil } }

    /// The value in TOML inline syntax (tables as inline tables, keys in file order); tests compare it.
    public var description: String {
        switch self {
        case .string(let s): tomlQuoted(s)
        case .integer(let n): String(n)
        case .float(let d): d.isNaN ? "nan" : d == .infinity ? "inf" : d == -.infinity ? "-inf" : String(d)
        case .bool(let b): String(b)
        case .datetime(let d): d
        case .array(let a): "[" + a.map(\.value.description).joined(separator: ", ") + "]"
        case .table(let t): t.description
        }
    }
}

/// A value and where it starts in the text.
public struct TOMLItem: Equatable, Sendable {
    /// The value.
    public var value: TOMLValue
    /// Where its first character is.
    public var position: TOMLPosition

    /// Creates a located value.
    public init(_ value: TOMLValue, at position: TOMLPosition) {
        self.value = value
        self.position = position
    }
}

/// A key of a table with where the key and its value are written.
public struct TOMLEntry: Equatable, Sendable {
    /// Where the key is written (for a dotted key `a.b = 1`, the part naming this table's key;
    /// for a table created by a header, the header's part).
    public var keyPosition: TOMLPosition
    /// The value and its position.
    public var item: TOMLItem
}

/// A TOML table: its keys in file order, each located.
public struct TOMLTable: Equatable, Sendable, CustomStringConvertible {
    /// Where the table is defined: its `[header]` or `[[header]]`, its inline `{`, or the key that
    /// created it (a dotted key, or a header naming a table below it). The root is at 1:1.
    public internal(set) var position: TOMLPosition
    /// The keys, in the order they first appear in the text.
    public internal(set) var keys: [String] = []
    var entries: [String: TOMLEntry] = [:]

    init(position: TOMLPosition) { self.position = position }

    /// Parses a whole TOML 1.0 document into its root table.
    public init(parsing text: String) throws(TOMLSyntaxError) {
        var parser = TOMLParser(text)
        self = try parser.parseDocument()
    }

    /// The value of `key`, if the table has it.
    public subscript(key: String) -> TOMLValue? { entries[key]?.item.value }

    /// The located entry of `key`, if the table has it.
    public func entry(_ key: String) -> TOMLEntry? { entries[key] }

    /// The table in TOML inline-table syntax, keys in file order.
    public var description: String {
        if keys.isEmpty { return "{}" }
        return "{ " + keys.map { "\(tomlKey($0)) = \(entries[$0]!.item.value)" }.joined(separator: ", ") + " }"
    }
}

/// A syntax error without the file name: where it is and what was expected and seen.
public struct TOMLSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where the offending text starts.
    public var position: TOMLPosition
    /// What was expected and what was seen.
    public var message: String

    /// `line:column: message`.
    public var description: String { "\(position): \(message)" }
}

/// A key as TOML would write it: bare if it can be, else a basic string.
func tomlKey(_ key: String) -> String {
    !key.isEmpty && key.unicodeScalars.allSatisfy(isBareKeyScalar) ? key : tomlQuoted(key)
}

/// The characters of a bare key (TOML 1.0: ASCII letters, digits, `_` and `-`).
func isBareKeyScalar(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
}

/// `s` as a TOML basic string, escaping quotes, backslashes and control characters.
func tomlQuoted(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if c.value < 0x20 || c.value == 0x7F {
                out += "\\u" + hexDigits(c.value, count: 4)
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }
    return out + "\""
}

/// `value` in upper-case hex, zero-padded to `count` digits.
func hexDigits(_ value: UInt32, count: Int) -> String {
    let s = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, count - s.count)) + s
}
