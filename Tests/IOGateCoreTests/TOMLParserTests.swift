import IOGateCore
import Testing

/// A document the parser must accept, and its root table in inline syntax (`TOMLTable.description`).
struct ValidTOML: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var expected: String
    var testDescription: String { name }
}

/// A document the parser must refuse, where, and a fragment of the message.
struct InvalidTOML: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var line: Int
    var column: Int
    var fragment: String
    var testDescription: String { name }
}

private let validDocuments: [ValidTOML] = [
    ValidTOML(name: "empty", text: "", expected: "{}"),
    ValidTOML(name: "comments and blank lines", text: "# one\n\n   # two\t\u{E9}\n\t\n", expected: "{}"),
    ValidTOML(name: "no final newline", text: "a = 1", expected: "{ a = 1 }"),
    ValidTOML(name: "bare keys", text: "a-b_c1 = 1\n1234 = 2\nA = 3\n-_- = 4", expected: "{ a-b_c1 = 1, 1234 = 2, A = 3, -_- = 4 }"),
    ValidTOML(
        name: "quoted keys", text: "\"a b\" = 1\n'c.d' = 2\n\"\" = 3\n\"\\u00E9\" = 4",
        expected: #"{ "a b" = 1, "c.d" = 2, "" = 3, "é" = 4 }"#),
    ValidTOML(name: "keys that look like values", text: "true = 1\n3.14 = 2\ninf = 3", expected: "{ true = 1, 3 = { 14 = 2 }, inf = 3 }"),
    ValidTOML(
        name: "dotted keys", text: "a.b.c = 1\na.b.d = 2\n a . \"x y\" = 3\n",
        expected: #"{ a = { b = { c = 1, d = 2 }, "x y" = 3 } }"#),
    ValidTOML(name: "blanks around everything", text: " \t a\t=\t1  # trailing\n\t[ t . u ]\t# c\n", expected: "{ a = 1, t = { u = {} } }"),
    ValidTOML(
        name: "basic string escapes", text: #"s = "tab\tq\"b\\ \u00E9 \U0001F600 \b\f\n\r""#,
        expected: #"{ s = "tab\tq\"b\\ é 😀 \u0008\u000C\n\r" }"#),
    ValidTOML(name: "hash inside a string", text: "a = \"# not a comment\" # a comment", expected: ##"{ a = "# not a comment" }"##),
    ValidTOML(name: "literal string", text: #"s = 'C:\path\"x' "#, expected: #"{ s = "C:\\path\\\"x" }"#),
    ValidTOML(name: "unicode and tabs in strings", text: "a = \"日本\tx\"\nb = '\tü'", expected: "{ a = \"日本\\tx\", b = \"\\tü\" }"),
    ValidTOML(
        name: "empty strings", text: "a = \"\"\nb = ''\nc = \"\"\"\"\"\"\nd = ''''''", expected: #"{ a = "", b = "", c = "", d = "" }"#),
    ValidTOML(
        name: "multi-line basic string", text: "s = \"\"\"\none\ntwo \\\n   \n    three\\n\"\"\"", expected: #"{ s = "one\ntwo three\n" }"#),
    ValidTOML(name: "line-ending backslash with blanks", text: "s = \"\"\"a \\  \t\n  b\"\"\"", expected: #"{ s = "a b" }"#),
    ValidTOML(
        name: "quotes before the closing quotes", text: "s = \"\"\"a\"\"b\"\"\"\"\nt = \"\"\"\"\"x\"\"\"\"\"",
        expected: #"{ s = "a\"\"b\"", t = "\"\"x\"\"" }"#),
    ValidTOML(
        name: "multi-line literal string", text: "s = '''\nraw \\n\n  it's'''\nt = ''''x'''''",
        expected: #"{ s = "raw \\n\n  it's", t = "'x''" }"#),
    ValidTOML(name: "CRLF line ends", text: "a = 1\r\nb = \"\"\"x\r\ny\"\"\" # c\r\n[t]\r\n", expected: #"{ a = 1, b = "x\ny", t = {} }"#),
    ValidTOML(name: "byte-order mark", text: "\u{FEFF}a = 1\n", expected: "{ a = 1 }"),
    ValidTOML(
        name: "integers",
        text: """
            a = +99
            b = -17
            c = 0
            d = 1_000
            e = 0xDEAD_beef
            f = 0o755
            g = 0b1101
            h = -9223372036854775808
            i = 9223372036854775807
            j = 0x7FFFFFFFFFFFFFFF
            k = -0
            l = +0
            m = 0x00FF
            """,
        expected:
            "{ a = 99, b = -17, c = 0, d = 1000, e = 3735928559, f = 493, g = 13, h = -9223372036854775808, i = 9223372036854775807, j = 9223372036854775807, k = 0, l = 0, m = 255 }"
    ),
    ValidTOML(
        name: "floats",
        text: """
            a = 1.5
            b = -0.01
            c = 5e+22
            d = 1e06
            e = -2E-2
            f = 6.626e-34
            g = 224_617.445_991
            h = inf
            i = +inf
            j = -inf
            k = nan
            l = -nan
            m = 0.0
            n = 0e0
            o = 1e-400
            """,
        expected:
            "{ a = 1.5, b = -0.01, c = 5e+22, d = 1000000.0, e = -0.02, f = 6.626e-34, g = 224617.445991, h = inf, i = inf, j = -inf, k = nan, l = nan, m = 0.0, n = 0.0, o = 0.0 }"
    ),
    ValidTOML(name: "booleans", text: "t = true\nf = false", expected: "{ t = true, f = false }"),
    ValidTOML(
        name: "dates and times",
        text: """
            a = 1979-05-27T07:32:00Z
            b = 1979-05-27T00:32:00.999999-07:00
            c = 1979-05-27 07:32:00
            d = 1979-05-27
            e = 07:32:00
            f = 00:32:00.5
            g = 2000-02-29t23:59:60z
            h = 1979-05-27 # a date, then a comment
            """,
        expected:
            "{ a = 1979-05-27T07:32:00Z, b = 1979-05-27T00:32:00.999999-07:00, c = 1979-05-27 07:32:00, d = 1979-05-27, e = 07:32:00, f = 00:32:00.5, g = 2000-02-29t23:59:60z, h = 1979-05-27 }"
    ),
    ValidTOML(
        name: "arrays",
        text: """
            a = [1, 2, 3]
            b = [ "x", 'y', \"\"\"z\"\"\" ]
            c = [[1, 2], ["a"], []]
            d = [
              1, # one
              2,
            ]
            e = [1, "mixed", 2.5, {x = 1}, 1979-05-27]
            f = [ # comment
            ]
            """,
        expected:
            #"{ a = [1, 2, 3], b = ["x", "y", "z"], c = [[1, 2], ["a"], []], d = [1, 2], e = [1, "mixed", 2.5, { x = 1 }, 1979-05-27], f = [] }"#
    ),
    ValidTOML(
        name: "inline tables", text: "p = { x = 1, y.z = 2, \"q\" = { }, r = [ { s = 1 } ] }",
        expected: "{ p = { x = 1, y = { z = 2 }, q = {}, r = [{ s = 1 }] } }"),
    ValidTOML(
        name: "tables", text: "[a]\nx = 1\n[b.c]\ny = 2\n[b]\nz = 3\n[ d . 'e' ] # comment\n",
        expected: "{ a = { x = 1 }, b = { c = { y = 2 }, z = 3 }, d = { e = {} } }"),
    ValidTOML(
        name: "arrays of tables", text: "[[g]]\nn = 1\n[[g]]\nn = 2\n[g.sub]\nm = 3\n[[g.list]]\n[[ g.list ]]\nk = 1\n",
        expected: "{ g = [{ n = 1 }, { n = 2, sub = { m = 3 }, list = [{}, { k = 1 }] }] }"),
    ValidTOML(
        name: "sub-table under dotted keys",
        text: "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
        expected: #"{ fruit = { apple = { color = "red", taste = { sweet = true }, texture = { smooth = true } } } }"#),
    ValidTOML(name: "implicit table defined later", text: "[x.y.z]\n[x]\na = 1", expected: "{ x = { y = { z = {} }, a = 1 } }"),
    ValidTOML(name: "array of tables under an implicit table", text: "[[a.b]]\n[a]\nc = 1", expected: "{ a = { b = [{}], c = 1 } }"),
    ValidTOML(
        name: "a configuration file",
        text: """
            # IOGate daemon configuration
            device = "/dev/mem"
            board = "auto"
            socket_mode = "0660"

            [limits]
            max_batch = 256

            [[grant]]
            group = "gpio"
            windows = ["gpio", "pwm"]   # two windows
            access = "rw"

            [[grant]]
            uid = 1000
            IoBase = [0xFE20_1000, 0xFE204000]
            IoLen  = [0x200, 0x200]
            access = "ro"
            """,
        expected:
            #"{ device = "/dev/mem", board = "auto", socket_mode = "0660", limits = { max_batch = 256 }, grant = [{ group = "gpio", windows = ["gpio", "pwm"], access = "rw" }, { uid = 1000, IoBase = [4263514112, 4263526400], IoLen = [512, 512], access = "ro" }] }"#
    ),
]

private let deep = String(repeating: "[", count: 70)
private let longKey = (0..<70).map { "k\($0)" }.joined(separator: ".")

private let invalidDocuments: [InvalidTOML] = [
    // Characters the text may not contain.
    InvalidTOML(name: "NUL byte", text: "a = 1\n\0", line: 2, column: 1, fragment: "NUL byte (U+0000)"),
    InvalidTOML(name: "NUL byte in a string", text: "a = \"x\0\"", line: 1, column: 7, fragment: "NUL byte"),
    InvalidTOML(
        name: "control character in a string", text: "a = \"x\u{01}\"", line: 1, column: 7,
        fragment: "control character U+0001 is not allowed in a string; write it as the escape \\u0001"),
    InvalidTOML(
        name: "DEL in a literal string", text: "a = 'x\u{7F}'", line: 1, column: 7, fragment: "U+007F is not allowed in a literal string"),
    InvalidTOML(
        name: "control character in a comment", text: "a = 1 # x\u{1B}", line: 1, column: 10, fragment: "U+001B is not allowed in a comment"
    ),
    InvalidTOML(name: "control character in a multi-line string", text: "a = \"\"\"\n\u{08}\"\"\"", line: 2, column: 1, fragment: "U+0008"),
    InvalidTOML(
        name: "lone carriage return", text: "a = 1\rb = 2", line: 1, column: 6,
        fragment: "carriage return (U+000D) must be followed by a line feed"),
    InvalidTOML(name: "lone carriage return in a string", text: "a = '''x\ry'''", line: 1, column: 9, fragment: "carriage return"),
    InvalidTOML(name: "byte-order mark after the start", text: "a = 1\n\u{FEFF}b = 2", line: 2, column: 1, fragment: "(U+FEFF)"),
    InvalidTOML(
        name: "non-ASCII bare key", text: "é = 1", line: 1, column: 1,
        fragment: "expected a key, a [table] header or a comment, saw 'é' (U+00E9)"),
    // Keys and key/value pairs.
    InvalidTOML(name: "missing '='", text: "a 1", line: 1, column: 3, fragment: "expected '=' after the key a, saw '1'"),
    InvalidTOML(name: "key and value on two lines", text: "a\n= 1", line: 1, column: 2, fragment: "saw end of line"),
    InvalidTOML(
        name: "missing value at the end", text: "a =", line: 1, column: 4,
        fragment: "expected a value (a string, number, true or false, date, array or inline table) after '=', saw end of file"),
    InvalidTOML(name: "missing value", text: "a = \nb = 1", line: 1, column: 5, fragment: "after '=', saw end of line"),
    InvalidTOML(
        name: "two pairs on a line", text: "a = 1 b = 2", line: 1, column: 7,
        fragment: "expected the end of the line after the value, saw 'b'"),
    InvalidTOML(name: "empty dotted part", text: "a..b = 1", line: 1, column: 3, fragment: "expected a key after '.' in a., saw '.'"),
    InvalidTOML(name: "unquoted value", text: "a = hello", line: 1, column: 5, fragment: "saw 'hello'"),
    InvalidTOML(name: "capitalised boolean", text: "a = True", line: 1, column: 5, fragment: "saw 'True'"),
    InvalidTOML(name: "truncated boolean", text: "a = tru", line: 1, column: 5, fragment: "saw 'tru'"),
    InvalidTOML(
        name: "multi-line string as a key", text: "\"\"\"a\"\"\" = 1", line: 1, column: 3, fragment: "expected '=' after the key \"\""),
    // Duplicate keys and redefined tables.
    InvalidTOML(
        name: "duplicate key", text: "a = 1\na = 2", line: 2, column: 1, fragment: "duplicate key a: a is already an integer, set at line 1"
    ),
    InvalidTOML(name: "duplicate quoted key", text: "a = 1\n\"a\" = 2", line: 2, column: 1, fragment: "duplicate key a"),
    InvalidTOML(name: "duplicate dotted key", text: "a.b = 1\na.b = 2", line: 2, column: 3, fragment: "duplicate key a.b"),
    InvalidTOML(name: "value then dotted key", text: "a = 1\na.b = 2", line: 2, column: 1, fragment: "a is already an integer"),
    InvalidTOML(
        name: "dotted table then value", text: "a.b = 1\na = 2", line: 2, column: 1,
        fragment: "table a is already defined by dotted keys at line 1"),
    InvalidTOML(
        name: "table defined twice", text: "[a]\n[a]", line: 2, column: 2,
        fragment: "cannot define [a]: table a is already defined at line 1"),
    InvalidTOML(
        name: "header over a key", text: "[a]\nb = 1\n[a.b]", line: 3, column: 4, fragment: "b is already an integer, set at line 2"),
    InvalidTOML(
        name: "header over an inline table", text: "a = {x = 1}\n[a]", line: 2, column: 2,
        fragment: "an inline table, which cannot be extended"),
    InvalidTOML(
        name: "header inside an inline table", text: "a = {x = 1}\n[a.b]", line: 2, column: 2, fragment: "cannot put [a.b] inside a"),
    InvalidTOML(name: "dotted key into an inline table", text: "a = {x = 1}\na.y = 2", line: 2, column: 1, fragment: "inline table"),
    InvalidTOML(
        name: "dotted key into a header's table", text: "[a.b]\nc = 1\n[a]\nb.d = 2", line: 4, column: 1,
        fragment: "dotted keys can only extend tables they created"),
    InvalidTOML(
        name: "dotted key into an implicit table", text: "[a.b.c]\nz = 9\n[a]\nb.c.t = 1", line: 4, column: 1,
        fragment: "dotted keys can only extend tables they created"),
    InvalidTOML(
        name: "header over dotted keys", text: "[fruit]\napple.color = \"red\"\n[fruit.apple]", line: 3, column: 8,
        fragment: "table fruit.apple is already defined by dotted keys at line 2"),
    InvalidTOML(name: "static array then array of tables", text: "a = []\n[[a]]", line: 2, column: 3, fragment: "a is already an array"),
    InvalidTOML(
        name: "array of tables then table", text: "[[a]]\n[a]", line: 2, column: 2,
        fragment: "a is already an array of tables ([[a]], line 1)"),
    InvalidTOML(
        name: "table then array of tables", text: "[a]\n[[a]]", line: 2, column: 3, fragment: "table a is already defined at line 1"),
    InvalidTOML(name: "dotted key into an array of tables", text: "[[a.b]]\n[a]\nb.y = 2", line: 3, column: 1, fragment: "array of tables"),
    InvalidTOML(name: "duplicate key in an inline table", text: "a = {x = 1, x = 2}", line: 1, column: 13, fragment: "duplicate key x"),
    // Strings.
    InvalidTOML(
        name: "invalid escape", text: #"a = "\q""#, line: 1, column: 6,
        fragment: #"invalid escape '\q'; allowed: \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX"#),
    InvalidTOML(name: "escape \\e (TOML 1.1)", text: #"a = "\e""#, line: 1, column: 6, fragment: #"invalid escape '\e'"#),
    InvalidTOML(name: "escape \\x (TOML 1.1)", text: #"a = "\x41""#, line: 1, column: 6, fragment: #"invalid escape '\x'"#),
    InvalidTOML(name: "backslash then blank in a string", text: "a = \"\\ \"", line: 1, column: 6, fragment: "'\\' followed by a space"),
    InvalidTOML(
        name: "short \\u escape", text: #"a = "\u00""#, line: 1, column: 10, fragment: #"expected 4 hexadecimal digits after '\u', saw '"'"#
    ),
    InvalidTOML(
        name: "surrogate \\u escape", text: #"a = "\uD800""#, line: 1, column: 6, fragment: #"\uD800 is not a Unicode scalar value"#),
    InvalidTOML(
        name: "\\U escape out of range", text: #"a = "\U00110000""#, line: 1, column: 6,
        fragment: #"\U00110000 is not a Unicode scalar value"#),
    InvalidTOML(
        name: "invalid escape in a multi-line string", text: "a = \"\"\"\nx\\qy\"\"\"", line: 2, column: 2, fragment: "invalid escape '\\q'"
    ),
    InvalidTOML(
        name: "backslash, blank, text in a multi-line string", text: "a = \"\"\"x\\  y\"\"\"", line: 1, column: 9,
        fragment: "followed by a space"),
    InvalidTOML(
        name: "unterminated string", text: "a = \"abc", line: 1, column: 9, fragment: "expected '\"' to close the string, saw end of file"),
    InvalidTOML(name: "string across lines", text: "a = \"abc\nb = 1", line: 1, column: 9, fragment: "saw end of line"),
    InvalidTOML(
        name: "unterminated literal string", text: "a = 'abc\n", line: 1, column: 9, fragment: "expected \"'\" to close the literal string"),
    InvalidTOML(
        name: "unterminated multi-line string", text: "a = \"\"\"abc\n\n", line: 1, column: 5, fragment: "opened here, saw end of file"),
    InvalidTOML(name: "six closing quotes", text: "a = \"\"\"x\"\"\"\"\"\"", line: 1, column: 14, fragment: "saw '\"'"),
    // Integers.
    InvalidTOML(name: "leading zero", text: "a = 01", line: 1, column: 5, fragment: "leading zeros are not allowed"),
    InvalidTOML(name: "leading zero after a sign", text: "a = -01", line: 1, column: 6, fragment: "leading zeros"),
    InvalidTOML(name: "leading zero in a float", text: "a = 00.5", line: 1, column: 5, fragment: "leading zeros"),
    InvalidTOML(
        name: "integer overflow", text: "a = 9223372036854775808", line: 1, column: 5, fragment: "does not fit in a 64-bit signed integer"),
    InvalidTOML(name: "negative integer overflow", text: "a = -9223372036854775809", line: 1, column: 5, fragment: "does not fit"),
    InvalidTOML(name: "hex overflow", text: "a = 0x8000000000000000", line: 1, column: 5, fragment: "0x8000000000000000 does not fit"),
    InvalidTOML(
        name: "long hex overflow", text: "a = 0xFFFF_FFFF_FFFF_FFFF_FF", line: 1, column: 5,
        fragment: "0xFFFF_FFFF_FFFF_FFFF_FF does not fit"),
    InvalidTOML(name: "binary overflow", text: "a = 0b1" + String(repeating: "0", count: 63), line: 1, column: 5, fragment: "does not fit"),
    InvalidTOML(
        name: "sign on hex", text: "a = +0x1", line: 1, column: 5,
        fragment: "a sign is not allowed on a hexadecimal, octal or binary integer"),
    InvalidTOML(
        name: "upper-case hex prefix", text: "a = 0X1", line: 1, column: 6,
        fragment: "expected the end of the line after the value, saw 'X'"),
    InvalidTOML(
        name: "empty hex", text: "a = 0x", line: 1, column: 7, fragment: "expected a hexadecimal digit after '0x', saw end of file"),
    InvalidTOML(name: "bad hex digit", text: "a = 0xZZ", line: 1, column: 7, fragment: "expected a hexadecimal digit after '0x', saw 'Z'"),
    InvalidTOML(name: "bad binary digit", text: "a = 0b102", line: 1, column: 9, fragment: "expected a binary digit, saw '2'"),
    InvalidTOML(name: "bad octal digit", text: "a = 0o8", line: 1, column: 7, fragment: "expected a octal digit after '0o'"),
    InvalidTOML(
        name: "double underscore", text: "a = 1__0", line: 1, column: 6, fragment: "an underscore in a number must be between two digits"),
    InvalidTOML(name: "trailing underscore", text: "a = 1_", line: 1, column: 6, fragment: "underscore"),
    InvalidTOML(name: "leading underscore", text: "a = _1", line: 1, column: 5, fragment: "after '=', saw '_1'"),
    InvalidTOML(
        name: "underscore after hex prefix", text: "a = 0x_1", line: 1, column: 7,
        fragment: "expected a hexadecimal digit after '0x', saw '_'"),
    InvalidTOML(name: "lone sign", text: "a = +", line: 1, column: 6, fragment: "expected a digit, 'inf' or 'nan' after the sign"),
    // Floats.
    InvalidTOML(name: "no digit after the point", text: "a = 1.", line: 1, column: 7, fragment: "expected a digit after the decimal point"),
    InvalidTOML(name: "point then exponent", text: "a = 1.e5", line: 1, column: 7, fragment: "after the decimal point, saw 'e'"),
    InvalidTOML(name: "no digit before the point", text: "a = .5", line: 1, column: 5, fragment: "after '=', saw '.5'"),
    InvalidTOML(name: "empty exponent", text: "a = 1e", line: 1, column: 7, fragment: "expected a digit in the exponent"),
    InvalidTOML(name: "float overflow", text: "a = 1e400", line: 1, column: 5, fragment: "too large for a 64-bit floating-point number"),
    InvalidTOML(name: "upper-case inf", text: "a = Inf", line: 1, column: 5, fragment: "saw 'Inf'"),
    // Dates and times.
    InvalidTOML(name: "month out of range", text: "a = 1979-13-01", line: 1, column: 10, fragment: "month 13 is out of range"),
    InvalidTOML(
        name: "day out of range", text: "a = 1979-04-31", line: 1, column: 13, fragment: "day 31 is out of range for month 4 (01 to 30)"),
    InvalidTOML(name: "29 February of a common year", text: "a = 1900-02-29", line: 1, column: 13, fragment: "day 29"),
    InvalidTOML(name: "one-digit month", text: "a = 1979-5-27", line: 1, column: 11, fragment: "expected a 2-digit month"),
    InvalidTOML(name: "hour out of range", text: "a = 1979-05-27T25:00:00", line: 1, column: 16, fragment: "hour 25 is out of range"),
    InvalidTOML(name: "time without seconds", text: "a = 07:32", line: 1, column: 10, fragment: "TOML 1.0 requires the seconds"),
    InvalidTOML(name: "empty fraction", text: "a = 07:32:00.", line: 1, column: 14, fragment: "expected a digit of the fraction"),
    InvalidTOML(name: "offset out of range", text: "a = 1979-05-27T07:32:00+24:00", line: 1, column: 25, fragment: "offset hour 24"),
    InvalidTOML(name: "T without a time", text: "a = 1979-05-27T", line: 1, column: 16, fragment: "expected a 2-digit hour"),
    // Arrays.
    InvalidTOML(
        name: "missing comma", text: "a = [1 2]", line: 1, column: 8, fragment: "expected ',' or ']' after an array element, saw '2'"),
    InvalidTOML(name: "leading comma", text: "a = [,]", line: 1, column: 6, fragment: "expected a value or ']' in the array, saw ','"),
    InvalidTOML(name: "double comma", text: "a = [1,,2]", line: 1, column: 8, fragment: "saw ','"),
    InvalidTOML(name: "brace in an array", text: "a = [}", line: 1, column: 6, fragment: "expected a value or ']' in the array, saw '}'"),
    InvalidTOML(name: "unclosed array", text: "a = [1,\n", line: 2, column: 1, fragment: "saw end of file"),
    InvalidTOML(
        name: "unclosed array before a key", text: "a = [1, 2\nb = 1", line: 2, column: 1,
        fragment: "expected ',' or ']' after an array element, saw 'b'"),
    // Inline tables.
    InvalidTOML(
        name: "trailing comma in an inline table", text: "a = {x = 1,}", line: 1, column: 12, fragment: "TOML 1.0 allows no trailing comma"),
    InvalidTOML(
        name: "newline in an inline table", text: "a = {x = 1\n}", line: 1, column: 11, fragment: "must be on one line), saw end of line"),
    InvalidTOML(
        name: "unclosed inline table", text: "a = {", line: 1, column: 6,
        fragment: "expected a key or '}' in the inline table, saw end of file"),
    InvalidTOML(name: "bracket in an inline table", text: "a = { x = [1, [}] }", line: 1, column: 16, fragment: "saw '}'"),
    // Table headers.
    InvalidTOML(name: "header starting with '.'", text: "[.x]", line: 1, column: 2, fragment: "expected a table name (a bare key"),
    InvalidTOML(name: "empty header", text: "[]", line: 1, column: 2, fragment: "expected a table name"),
    InvalidTOML(
        name: "unclosed header", text: "[a", line: 1, column: 3, fragment: "expected ']' to close the table header [a, saw end of file"),
    InvalidTOML(
        name: "half-closed array header", text: "[[a]\n", line: 1, column: 5,
        fragment: "expected ']]' to close the table header [[a, saw end of line"),
    InvalidTOML(
        name: "extra bracket", text: "[a]]", line: 1, column: 4, fragment: "expected the end of the line after the table header, saw ']'"),
    InvalidTOML(name: "key after a header", text: "[a] b = 1", line: 1, column: 5, fragment: "after the table header, saw 'b'"),
    InvalidTOML(
        name: "spaced array header", text: "[ [a]]", line: 1, column: 3,
        fragment: "expected a table name (a bare key of letters, digits, '_' and '-', or a quoted key) after '[', saw '['"),
    InvalidTOML(name: "trailing dot in a header", text: "[a.]", line: 1, column: 4, fragment: "expected a key after '.' in a., saw ']'"),
    InvalidTOML(name: "header continued on the next line", text: "[a\n]", line: 1, column: 3, fragment: "saw end of line"),
    // Nesting limits: bounded recursion on hostile input. `a` is at level 1, so the 64th '[' (column
    // 68) is the deepest allowed; the 64th '{b = ' (column 320) is allowed but its key 'b' would be level 65.
    // 65 key parts: the 65th part, k64, starts at column 247 (10 parts of 2 letters, 54 of 3, 64 dots).
    InvalidTOML(name: "deeply nested arrays", text: "a = " + deep, line: 1, column: 69, fragment: "nest more than 64 levels deep"),
    InvalidTOML(
        name: "deeply nested inline tables", text: "a = " + String(repeating: "{b = ", count: 70), line: 1, column: 321,
        fragment: "nest more than 64 levels deep"),
    InvalidTOML(name: "key with too many parts", text: longKey + " = 1", line: 1, column: 247, fragment: "a key has more than 64 parts"),
    InvalidTOML(
        name: "header with too many parts", text: "[" + longKey + "]", line: 1, column: 248, fragment: "a key has more than 64 parts"),
    InvalidTOML(
        name: "tables nested through headers and dotted keys",
        text: "[" + (0..<40).map { "h\($0)" }.joined(separator: ".") + "]\n" + (0..<30).map { "d\($0)" }.joined(separator: ".") + " = 1",
        line: 2, column: 107, fragment: "tables nest more than 64 levels deep"),
    // Inputs the fuzzers found crashing the former parser (toml++ inside TOMLKit); see FuzzRegressionTests.
    InvalidTOML(
        name: "fuzz: replacement character header", text: "[[\u{FFFD}grant]]\nuid = 1\n", line: 1, column: 3,
        fragment: "saw '\u{FFFD}' (U+FFFD)"),
    InvalidTOML(name: "fuzz: '=' header", text: "[=x]\n", line: 1, column: 2, fragment: "expected a table name"),
    InvalidTOML(name: "fuzz: comment in a header", text: "[[ #c\n", line: 1, column: 4, fragment: "saw '#'"),
    InvalidTOML(name: "fuzz: lone '[' before a blank line", text: "[\n\n", line: 1, column: 2, fragment: "saw end of line"),
    InvalidTOML(name: "fuzz: lone '[' with CRLF", text: "[\r\n", line: 1, column: 2, fragment: "saw end of line"),
    InvalidTOML(name: "fuzz: BOM then bad header", text: "\u{FEFF}[.x]\n", line: 1, column: 2, fragment: "saw '.'"),
    InvalidTOML(
        name: "fuzz: CRLF then '[[['", text: "# comment\r\n[[[mao[maow_grro\"\n", line: 2, column: 3, fragment: "expected a table name"),
    InvalidTOML(name: "fuzz: brace after a comma", text: "windows = [\"gpio\",} \"nosuch\"]", line: 1, column: 19, fragment: "saw '}'"),
    InvalidTOML(name: "fuzz: brace after blank lines in an array", text: "w = [ # c\n\n }", line: 3, column: 2, fragment: "saw '}'"),
    InvalidTOML(
        name: "fuzz: brace above a bad header", text: "[[grant]]\nuid = 2000\nIoBase = [[}[[[\n[\u{FF}grant]]\n", line: 3, column: 12,
        fragment: "saw '}'"),
]

@Suite struct TOMLParserTests {
    @Test(arguments: validDocuments)
    func valid(_ c: ValidTOML) throws {
        let table = try TOMLTable(parsing: c.text)
        #expect(table.description == c.expected)
    }

    @Test(arguments: invalidDocuments)
    func invalid(_ c: InvalidTOML) {
        let error = expectThrows(TOMLSyntaxError.self) { try TOMLTable(parsing: c.text) }
        guard let error else { return }
        #expect(error.position == TOMLPosition(line: c.line, column: c.column), "\(error)")
        #expect(error.message.contains(c.fragment), "\(error)")
    }

    /// Every key, value and table remembers where it is written.
    @Test func positions() throws {
        let text = """
            a = 1
            dotted.key = "x"
            [t]
              list = [
                10,
                  20,
              ]
            [[arr]]
            [[arr]]
            inline = { y = 2 }
            [x.y]
            """
        let root = try TOMLTable(parsing: text)
        #expect(root.position == TOMLPosition(line: 1, column: 1))
        #expect(root.keys == ["a", "dotted", "t", "arr", "x"])
        #expect(root.entry("a")?.keyPosition == TOMLPosition(line: 1, column: 1))
        #expect(root.entry("a")?.item.position == TOMLPosition(line: 1, column: 5))
        let dotted = try #require(root["dotted"]?.table)
        #expect(dotted.position == TOMLPosition(line: 2, column: 1))
        #expect(dotted.entry("key")?.keyPosition == TOMLPosition(line: 2, column: 8))
        let t = try #require(root["t"]?.table)
        #expect(t.position == TOMLPosition(line: 3, column: 1))
        let list = try #require(t.entry("list"))
        #expect(list.keyPosition == TOMLPosition(line: 4, column: 3))
        #expect(list.item.value.array?.map(\.position) == [TOMLPosition(line: 5, column: 5), TOMLPosition(line: 6, column: 7)])
        let arr = try #require(root["arr"]?.array)
        #expect(arr.map(\.position.line) == [8, 9])
        #expect(arr[1].value.table?.position.line == 9)
        #expect(arr[1].value.table?["inline"]?.table?.position == TOMLPosition(line: 10, column: 10))
        // An implicit table takes the position of the header that created it.
        let x = try #require(root["x"]?.table)
        #expect(x.position == TOMLPosition(line: 11, column: 1))
        #expect(x["y"]?.table?.position == TOMLPosition(line: 11, column: 1))
    }

    /// Nesting up to the limit is fine.
    @Test func nestingUpToTheLimit() throws {
        let table = try TOMLTable(parsing: "a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64))
        #expect(table["a"]?.description == String(repeating: "[", count: 64) + String(repeating: "]", count: 64))
    }

    /// A redefined implicit table moves to its own header.
    @Test func implicitTableTakesItsHeaderPosition() throws {
        let root = try TOMLTable(parsing: "[a.b]\n\n[a]\nc = 1\n")
        #expect(root["a"]?.table?.position == TOMLPosition(line: 3, column: 1))
    }

    /// Columns count Unicode scalars, not bytes, and start after a byte-order mark.
    @Test func columnsCountScalars() {
        for (text, column) in [("a = \"é\u{1}\"", 7), ("\u{FEFF}a = \"\u{1}\"", 6), ("a = '日本語'x", 10)] {
            let error = expectThrows(TOMLSyntaxError.self) { try TOMLTable(parsing: text) }
            #expect(error?.position == TOMLPosition(line: 1, column: column), "\(text.debugDescription): \(error.map { "\($0)" } ?? "")")
        }
    }

    /// Values convert back to TOML text that parses to the same values.
    @Test(arguments: validDocuments)
    func descriptionRoundTrips(_ c: ValidTOML) throws {
        let table = try TOMLTable(parsing: c.text)
        // Arrays of tables print as arrays of inline tables, which parse back as plain values.
        let reparsed = try TOMLTable(parsing: "x = " + table.description)
        #expect(reparsed["x"]?.description == table.description)
    }

    /// `TOMLDocument` names the file, line and column of a syntax error, with the caller's code.
    @Test func documentErrorFormat() {
        let error = expectThrows(IOGateError.self) { try TOMLDocument(text: "a = 1\nb = [1,, 2]\n", file: "/etc/x.toml", code: .board) }
        #expect(error?.code == .board)
        #expect(error?.message == "/etc/x.toml:2:8: TOML syntax error: expected a value or ']' in the array, saw ','")
    }

    /// Every error lands inside the text, and no input crashes or hangs: mutations of valid
    /// documents (a deterministic stand-in for the libFuzzer targets, which CI runs separately).
    @Test func mutatedDocumentsFailCleanly() throws {
        var rng = SplitMix64(seed: 0x10_6A7E)
        let pieces: [String] = [
            "[", "]", "{", "}", "\"", "'", "\"\"\"", "'''", "=", ",", ".", "\n", "\r", "\r\n", "#", "\\", "\\u", "0x", "_", "-", "+", "e",
            "1", "\u{0}", "\u{FEFF}", "é", " ", "\t", "[[", "]]", "inf", "T", ":",
        ]
        var accepted = 0
        var refused = 0
        for seed in validDocuments {
            for _ in 0..<60 {
                var scalars = Array(seed.text.unicodeScalars)
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let at = scalars.isEmpty ? 0 : Int(rng.next() % UInt64(scalars.count + 1))
                    switch rng.next() % 3 {
                    case 0: scalars.insert(contentsOf: pieces[Int(rng.next() % UInt64(pieces.count))].unicodeScalars, at: at)
                    case 1: if at < scalars.count { scalars.remove(at: at) }
                    default: if at < scalars.count { scalars[at] = pieces[Int(rng.next() % UInt64(pieces.count))].unicodeScalars.first! }
                    }
                }
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                let text = String(view)
                do {
                    _ = try TOMLTable(parsing: text)
                    accepted += 1
                } catch {
                    refused += 1
                    let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
                    #expect(error.position.line >= 1 && error.position.line <= lines.count, "\(text.debugDescription): \(error)")
                    let lineLength = lines[min(error.position.line, lines.count) - 1].count
                    #expect(error.position.column >= 1 && error.position.column <= lineLength + 2, "\(text.debugDescription): \(error)")
                    #expect(!error.message.isEmpty)
                }
            }
        }
        #expect(accepted > 0 && refused > 0, "accepted \(accepted), refused \(refused)")
    }
}

/// A small deterministic generator, so the mutation test is reproducible.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
