/// The kinds of token the lexer produces. Keywords are their own kinds so the parser can switch
/// on them.
enum TokenKind: Equatable {
    case number, string, identifier
    // keywords
    case kwFn, kwReturn, kwIf, kwElse, kwWhile, kwFor, kwIn, kwBreak, kwContinue
    case kwAnd, kwOr, kwNot, kwTrue, kwFalse, kwNil, kwImport
    // punctuation and operators
    case plus, minus, star, slash, percent, caret, at
    case equalEqual, bangEqual, less, lessEqual, greater, greaterEqual
    case equal, plusEqual, minusEqual, starEqual, slashEqual
    case dotDot, dot, comma, colon, semicolon
    case leftParen, rightParen, leftBracket, rightBracket, leftBrace, rightBrace
    case newline, eof

    static let keywords: [String: TokenKind] = [
        "fn": .kwFn, "return": .kwReturn, "if": .kwIf, "else": .kwElse, "while": .kwWhile,
        "for": .kwFor, "in": .kwIn, "break": .kwBreak, "continue": .kwContinue, "and": .kwAnd,
        "or": .kwOr, "not": .kwNot, "true": .kwTrue, "false": .kwFalse, "nil": .kwNil,
        "import": .kwImport,
    ]

    /// How the token is named in "expected …" messages.
    var display: String {
        switch self {
        case .number: "number"
        case .string: "string"
        case .identifier: "name"
        case .newline: "end of line"
        case .eof: "end of input"
        default: "'\(TokenKind.spelling[self] ?? "?")'"
        }
    }

    static let spelling: [TokenKind: String] = {
        var s: [TokenKind: String] = [:]
        for (k, v) in keywords { s[v] = k }
        let ops: [(TokenKind, String)] = [
            (.plus, "+"), (.minus, "-"), (.star, "*"), (.slash, "/"), (.percent, "%"), (.caret, "^"),
            (.at, "@"), (.equalEqual, "=="), (.bangEqual, "!="), (.less, "<"), (.lessEqual, "<="),
            (.greater, ">"), (.greaterEqual, ">="), (.equal, "="), (.plusEqual, "+="),
            (.minusEqual, "-="), (.starEqual, "*="), (.slashEqual, "/="), (.dotDot, ".."), (.dot, "."),
            (.comma, ","), (.colon, ":"), (.semicolon, ";"), (.leftParen, "("), (.rightParen, ")"),
            (.leftBracket, "["), (.rightBracket, "]"), (.leftBrace, "{"), (.rightBrace, "}"),
        ]
        for (k, v) in ops { s[k] = v }
        return s
    }()
}

extension TokenKind: Hashable {}

/// One token: its kind, its text (names; the decoded value of strings), its value (numbers) and
/// where it starts.
struct Token {
    let kind: TokenKind
    let text: String
    let number: Double
    let location: SourceLocation

    init(_ kind: TokenKind, text: String = "", number: Double = 0, at location: SourceLocation) {
        self.kind = kind
        self.text = text
        self.number = number
        self.location = location
    }

    /// How the token is named in messages: `'+'`, `name 'x'`, `number 3`.
    var display: String {
        switch kind {
        case .identifier: "name '\(text)'"
        case .number: "number \(formatNumber(number))"
        case .string: "string"
        default: kind.display
        }
    }
}
