/// Turns source text into tokens (the whole text at once; the parser indexes them).
///
/// Newlines are tokens: they end statements. The parser, not the lexer, decides where a newline
/// does not end one (inside `( )`, `[ ]` and record braces, after a binary operator), because a
/// `{` may open a record (newlines ignored) or a block (newlines matter).
///
/// Invariants: `line`/`column` always describe `pos`; the column counts Unicode scalars (UTF-8
/// continuation bytes do not advance it). The `eof` token sits just after the last token, so an
/// "expected '}'" at the end of a file points at the end of its last line, not past it.
struct Lexer {
    private let bytes: [UInt8]
    private let fileID: Int32
    private var pos = 0
    private var line: Int
    private var column = 1
    private var lastEnd: SourceLocation

    init(_ text: String, fileID: Int32, firstLine: Int = 1) {
        self.bytes = Array(text.utf8)
        self.fileID = fileID
        self.line = firstLine
        self.lastEnd = SourceLocation(fileID: fileID, line: firstLine, column: 1)
    }

    /// All tokens, ending with `eof`.
    static func tokenize(_ text: String, fileID: Int32, firstLine: Int = 1) throws -> [Token] {
        var lexer = Lexer(text, fileID: fileID, firstLine: firstLine)
        var tokens: [Token] = []
        while true {
            let t = try lexer.next()
            tokens.append(t)
            if t.kind == .eof { return tokens }
        }
    }

    private var here: SourceLocation { SourceLocation(fileID: fileID, line: line, column: column) }

    private func peek(_ k: Int = 0) -> UInt8 { pos + k < bytes.count ? bytes[pos + k] : 0 }

    private mutating func advance() {
        guard pos < bytes.count else { return }
        let b = bytes[pos]
        pos += 1
        if b == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1
        }
    }

    mutating func next() throws -> Token {
        skipSpaceAndComments()
        let start = here
        guard pos < bytes.count else { return Token(.eof, at: lastEnd) }
        let c = peek()
        if c == UInt8(ascii: "\n") {
            advance()
            return Token(.newline, at: start)
        }
        let token: Token
        if isDigit(c) {
            token = try number(start)
        } else if isIdentStart(c) {
            token = identifier(start)
        } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            token = try string(start, quote: c)
        } else {
            token = try punctuation(start)
        }
        lastEnd = here
        return token
    }

    private mutating func skipSpaceAndComments() {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                advance()
            } else if c == UInt8(ascii: "\\") && peek(1) == UInt8(ascii: "\n") {
                advance(); advance()   // explicit line continuation
            } else if c == UInt8(ascii: "#") {
                while pos < bytes.count && bytes[pos] != UInt8(ascii: "\n") { advance() }
            } else {
                return
            }
        }
    }

    private mutating func number(_ start: SourceLocation) throws -> Token {
        var text = ""
        func digits(_ lexer: inout Lexer) {
            while isDigit(lexer.peek()) || (lexer.peek() == UInt8(ascii: "_") && isDigit(lexer.peek(1))) {
                if lexer.peek() != UInt8(ascii: "_") { text.append(Character(UnicodeScalar(lexer.peek()))) }
                lexer.advance()
            }
        }
        digits(&self)
        // A '.' is a decimal point only before a digit: `1..3` is a range, `x.1` is not a thing.
        if peek() == UInt8(ascii: ".") && isDigit(peek(1)) {
            text.append(".")
            advance()
            digits(&self)
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            let sign = peek(1) == UInt8(ascii: "+") || peek(1) == UInt8(ascii: "-")
            if isDigit(peek(sign ? 2 : 1)) {
                text.append("e")
                advance()
                if sign { text.append(Character(UnicodeScalar(peek()))); advance() }
                digits(&self)
            }
        }
        if isIdentStart(peek()) {
            throw LangError.syntax("malformed number: unexpected '\(Character(UnicodeScalar(peek())))' after \(text)", at: here)
        }
        guard let value = Double(text) else { throw LangError.syntax("malformed number '\(text)'", at: start) }
        return Token(.number, text: text, number: value, at: start)
    }

    private mutating func identifier(_ start: SourceLocation) -> Token {
        let from = pos
        while isIdentStart(peek()) || isDigit(peek()) { advance() }
        let text = String(decoding: bytes[from..<pos], as: UTF8.self)
        return Token(TokenKind.keywords[text] ?? .identifier, text: text, at: start)
    }

    private mutating func string(_ start: SourceLocation, quote: UInt8) throws -> Token {
        advance()
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count, peek() != UInt8(ascii: "\n") else {
                throw LangError.syntax("unterminated string (expected a closing \(Character(UnicodeScalar(quote))) on the same line)", at: start)
            }
            let c = peek()
            if c == quote { advance(); break }
            if c != UInt8(ascii: "\\") { out.append(c); advance(); continue }
            let escLoc = here
            advance()
            let e = peek()
            advance()
            switch e {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "0"): out.append(0)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
            case UInt8(ascii: "u"):
                guard peek() == UInt8(ascii: "{") else { throw LangError.syntax("expected '{' after \\u (write \\u{263A})", at: here) }
                advance()
                var hex = ""
                while isHexDigit(peek()) && hex.count < 8 { hex.append(Character(UnicodeScalar(peek()))); advance() }
                guard peek() == UInt8(ascii: "}"), let v = UInt32(hex, radix: 16), let scalar = UnicodeScalar(v) else {
                    throw LangError.syntax("invalid \\u{…} escape (expected hex digits of a Unicode scalar and '}')", at: escLoc)
                }
                advance()
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw LangError.syntax("unknown escape '\\\(e == 0 ? "" : String(Character(UnicodeScalar(e))))' (expected one of \\n \\t \\r \\0 \\\\ \\\" \\' \\u{…})", at: escLoc)
            }
        }
        return Token(.string, text: String(decoding: out, as: UTF8.self), at: start)
    }

    private mutating func punctuation(_ start: SourceLocation) throws -> Token {
        let c = peek(), d = peek(1)
        func two(_ kind: TokenKind, _ lexer: inout Lexer) -> Token {
            lexer.advance(); lexer.advance()
            return Token(kind, at: start)
        }
        func one(_ kind: TokenKind, _ lexer: inout Lexer) -> Token {
            lexer.advance()
            return Token(kind, at: start)
        }
        let eq = d == UInt8(ascii: "=")
        switch c {
        case UInt8(ascii: "+"): return eq ? two(.plusEqual, &self) : one(.plus, &self)
        case UInt8(ascii: "-"): return eq ? two(.minusEqual, &self) : one(.minus, &self)
        case UInt8(ascii: "*"): return eq ? two(.starEqual, &self) : one(.star, &self)
        case UInt8(ascii: "/"): return eq ? two(.slashEqual, &self) : one(.slash, &self)
        case UInt8(ascii: "%"): return one(.percent, &self)
        case UInt8(ascii: "^"): return one(.caret, &self)
        case UInt8(ascii: "@"): return one(.at, &self)
        case UInt8(ascii: "="): return eq ? two(.equalEqual, &self) : one(.equal, &self)
        case UInt8(ascii: "<"): return eq ? two(.lessEqual, &self) : one(.less, &self)
        case UInt8(ascii: ">"): return eq ? two(.greaterEqual, &self) : one(.greater, &self)
        case UInt8(ascii: "!"):
            if eq { return two(.bangEqual, &self) }
            throw LangError.syntax("unexpected '!' (write 'not' for negation, '!=' for inequality)", at: start)
        case UInt8(ascii: "."): return d == UInt8(ascii: ".") ? two(.dotDot, &self) : one(.dot, &self)
        case UInt8(ascii: ","): return one(.comma, &self)
        case UInt8(ascii: ":"): return one(.colon, &self)
        case UInt8(ascii: ";"): return one(.semicolon, &self)
        case UInt8(ascii: "("): return one(.leftParen, &self)
        case UInt8(ascii: ")"): return one(.rightParen, &self)
        case UInt8(ascii: "["): return one(.leftBracket, &self)
        case UInt8(ascii: "]"): return one(.rightBracket, &self)
        case UInt8(ascii: "{"): return one(.leftBrace, &self)
        case UInt8(ascii: "}"): return one(.rightBrace, &self)
        default:
            // Decode the whole scalar so the message names the character the user typed.
            var end = pos + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            let ch = String(decoding: bytes[pos..<end], as: UTF8.self)
            throw LangError.syntax("unexpected character '\(ch)'", at: start)
        }
    }
}

@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) private func isHexDigit(_ c: UInt8) -> Bool {
    isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
}
@inline(__always) private func isIdentStart(_ c: UInt8) -> Bool {
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95
}
