/// Recursive-descent parser from tokens to statements.
///
/// Precedence, lowest to highest (as Lua's priority table, with `not` below the comparisons):
///
///     or · and · not · == != < <= > >= · .. · + - · * / % @ · unary - · ^ (right) · call [] .
///
/// `^` binds tighter than unary minus and its right operand is a unary expression, so
/// `-2^2 == -4`, `2^-1 == 0.5` and `2^3^2 == 512`.
///
/// Newlines end statements except where `ignoresNewlines` is set: inside `( )`, `[ ]` and record
/// braces; a block's `{ }` switches it off again, so a function literal passed as an argument has
/// newline-terminated statements. A binary operator or `=` at the end of a line continues the
/// statement on the next.
///
/// A syntax error raised while looking at `eof` is marked incomplete: the input stopped inside an
/// unfinished construct, and the REPL reads another line instead of reporting it.
struct Parser {
    /// Deeper nesting than this is refused rather than risking the native stack (fuzzed input).
    static let maxDepth = 200

    private var tokens: [Token]
    private var pos = 0
    private let fileID: Int32
    private var ignoresNewlines = false
    private var depth = 0
    private var loopDepth = 0
    private var functionDepth = 0

    init(tokens: [Token], fileID: Int32) {
        self.tokens = tokens
        self.fileID = fileID
    }

    /// Lexes and parses a whole source.
    static func parse(_ source: String, fileID: Int32, firstLine: Int = 1) throws -> Chunk {
        let tokens = try Lexer.tokenize(source, fileID: fileID, firstLine: firstLine)
        var parser = Parser(tokens: tokens, fileID: fileID)
        return Chunk(statements: try parser.program(), fileID: fileID)
    }

    // MARK: - Token access

    private mutating func peek() -> Token {
        if ignoresNewlines {
            while tokens[pos].kind == .newline { pos += 1 }
        }
        return tokens[pos]
    }

    private mutating func check(_ kind: TokenKind) -> Bool { peek().kind == kind }

    @discardableResult
    private mutating func advance() -> Token {
        let t = peek()
        if t.kind != .eof { pos += 1 }
        return t
    }

    private mutating func match(_ kind: TokenKind) -> Bool {
        if check(kind) { advance(); return true }
        return false
    }

    private mutating func skipNewlines() {
        while tokens[pos].kind == .newline || tokens[pos].kind == .semicolon { pos += 1 }
    }

    private mutating func expect(_ kind: TokenKind, _ message: String) throws -> Token {
        if check(kind) { return advance() }
        throw error(message)
    }

    private mutating func error(_ message: String) -> LangError {
        let t = peek()
        return LangError.syntax(message, at: t.location, incomplete: t.kind == .eof)
    }

    /// Runs `body` with newline handling switched to `ignoring`, restoring it afterwards.
    private mutating func withNewlines<T>(ignored: Bool, _ body: (inout Parser) throws -> T) rethrows -> T {
        let saved = ignoresNewlines
        ignoresNewlines = ignored
        defer { ignoresNewlines = saved }
        return try body(&self)
    }

    private mutating func nest<T>(_ body: (inout Parser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth {
            throw LangError.syntax("too deeply nested (more than \(Parser.maxDepth) levels)", at: peek().location)
        }
        return try body(&self)
    }

    // MARK: - Statements

    mutating func program() throws -> [Stmt] {
        var statements: [Stmt] = []
        skipNewlines()
        while !check(.eof) {
            if check(.rightBrace) { throw error("unexpected '}' (no block is open)") }
            statements.append(try statement())
            try endOfStatement()
            skipNewlines()
        }
        return statements
    }

    private mutating func endOfStatement() throws {
        let t = peek()
        switch t.kind {
        case .newline, .semicolon, .eof, .rightBrace: return
        default: throw error("expected a newline or ';' after the statement, found \(t.display)")
        }
    }

    private mutating func block(after what: String) throws -> [Stmt] {
        skipLineBreaksBeforeBrace()
        let open = try expect(.leftBrace, "expected '{' after \(what)")
        return try nest { p in
            try p.withNewlines(ignored: false) { p in
                var body: [Stmt] = []
                p.skipNewlines()
                while !p.check(.rightBrace) {
                    if p.check(.eof) {
                        throw p.error("expected '}' to close the block opened at \(open.location.line):\(open.location.column)")
                    }
                    body.append(try p.statement())
                    try p.endOfStatement()
                    p.skipNewlines()
                }
                p.advance()
                return body
            }
        }
    }

    /// Allows `if x` / newline / `{`.
    private mutating func skipLineBreaksBeforeBrace() {
        var i = pos
        while tokens[i].kind == .newline { i += 1 }
        if tokens[i].kind == .leftBrace { pos = i }
    }

    private mutating func statement() throws -> Stmt {
        let t = peek()
        switch t.kind {
        case .kwFn:
            if tokens[pos + 1].kind == .identifier {
                advance()
                let name = advance()
                let decl = try functionRest(name: name.text, at: t.location)
                return .function(id: Symbols.id(name.text), decl)
            }
        case .kwIf:
            return try ifStatement()
        case .kwWhile:
            advance()
            let cond = try expression()
            loopDepth += 1
            defer { loopDepth -= 1 }
            return .whileLoop(cond, try block(after: "the while condition"), t.location)
        case .kwFor:
            advance()
            let name = try expect(.identifier, "expected a loop variable name after 'for'")
            _ = try expect(.kwIn, "expected 'in' after the loop variable")
            let seq = try expression()
            loopDepth += 1
            defer { loopDepth -= 1 }
            return .forLoop(id: Symbols.id(name.text), seq, try block(after: "the for sequence"), t.location)
        case .kwReturn:
            advance()
            guard functionDepth > 0 else { throw LangError.syntax("'return' outside a function", at: t.location) }
            switch peek().kind {
            case .newline, .semicolon, .rightBrace, .eof: return .returnValue(nil, t.location)
            default: return .returnValue(try expression(), t.location)
            }
        case .kwBreak, .kwContinue:
            advance()
            guard loopDepth > 0 else {
                throw LangError.syntax("'\(t.kind == .kwBreak ? "break" : "continue")' outside a loop", at: t.location)
            }
            return t.kind == .kwBreak ? .breakLoop(t.location) : .continueLoop(t.location)
        case .kwImport:
            advance()
            let path = try expect(.string, "expected a file name in quotes after 'import'")
            return .importFile(path.text, t.location)
        default:
            break
        }
        return try expressionStatement()
    }

    private mutating func ifStatement() throws -> Stmt {
        var branches: [(condition: Expr, body: [Stmt])] = []
        var elseBody: [Stmt]?
        advance()   // 'if'
        branches.append((try expression(), try block(after: "the if condition")))
        while true {
            var i = pos
            while tokens[i].kind == .newline { i += 1 }
            guard tokens[i].kind == .kwElse else { break }
            pos = i + 1
            if match(.kwIf) {
                branches.append((try expression(), try block(after: "the else-if condition")))
            } else {
                elseBody = try block(after: "'else'")
                break
            }
        }
        return .ifElse(branches, elseBody: elseBody)
    }

    private mutating func expressionStatement() throws -> Stmt {
        let start = peek().location
        let e = try expression()
        let t = peek()
        let compound: BinaryOp?
        switch t.kind {
        case .equal: compound = nil
        case .plusEqual: compound = .add
        case .minusEqual: compound = .sub
        case .starEqual: compound = .mul
        case .slashEqual: compound = .div
        default: return .expression(e, start)
        }
        let target: AssignTarget
        switch e {
        case .variable(let id, _): target = .variable(id: id)
        case .index(let base, let index, _): target = .index(base, index)
        case .field(let base, let name, _): target = .field(base, name)
        default: throw LangError.syntax("cannot assign to this expression (expected a name, x[i] or x.field before '=')", at: t.location)
        }
        advance()
        skipLineBreaks()
        let value = try expression()
        if case .variable(let id, _) = e, case .function(let decl) = value, decl.name == "fn" {
            decl.name = Symbols.name(id)
        }
        return .assign(target, compound, value, t.location)
    }

    /// After an operator at the end of a line the expression continues on the next.
    private mutating func skipLineBreaks() {
        while tokens[pos].kind == .newline { pos += 1 }
    }

    // MARK: - Functions

    private mutating func functionRest(name: String, at location: SourceLocation) throws -> FunctionDecl {
        _ = try expect(.leftParen, name == "fn" ? "expected '(' after 'fn'" : "expected '(' after the function name")
        let params: [Parameter] = try withNewlines(ignored: true) { p in
            var params: [Parameter] = []
            var seen = Set<String>()
            while !p.check(.rightParen) {
                let n = try p.expect(.identifier, "expected a parameter name")
                guard seen.insert(n.text).inserted else {
                    throw LangError.syntax("duplicate parameter '\(n.text)'", at: n.location)
                }
                var def: Expr?
                if p.match(.colon) {
                    def = try p.expression()
                } else if params.contains(where: { $0.defaultValue != nil }) {
                    throw LangError.syntax("parameter '\(n.text)' needs a default (it follows a parameter with one)", at: n.location)
                }
                params.append(Parameter(name: n.text, id: Symbols.id(n.text), defaultValue: def))
                if !p.match(.comma) { break }
            }
            _ = try p.expect(.rightParen, "expected ')' after the parameters")
            return params
        }
        let savedLoops = loopDepth
        loopDepth = 0
        functionDepth += 1
        defer { loopDepth = savedLoops; functionDepth -= 1 }
        let body = try block(after: "the parameter list")
        return FunctionDecl(name: name, params: params, body: body, location: location)
    }

    // MARK: - Expressions

    mutating func expression() throws -> Expr { try nest { p in try p.or() } }

    private mutating func or() throws -> Expr {
        var e = try and()
        while match(.kwOr) {
            skipLineBreaks()
            e = .or(e, try and())
        }
        return e
    }

    private mutating func and() throws -> Expr {
        var e = try not()
        while match(.kwAnd) {
            skipLineBreaks()
            e = .and(e, try not())
        }
        return e
    }

    private mutating func not() throws -> Expr {
        let t = peek()
        if t.kind == .kwNot {
            advance()
            return try nest { p in .not(try p.not(), t.location) }
        }
        return try comparison()
    }

    private mutating func comparison() throws -> Expr {
        var e = try range()
        while true {
            let t = peek()
            let op: BinaryOp
            switch t.kind {
            case .equalEqual: op = .eq
            case .bangEqual: op = .ne
            case .less: op = .lt
            case .lessEqual: op = .le
            case .greater: op = .gt
            case .greaterEqual: op = .ge
            default: return e
            }
            advance()
            skipLineBreaks()
            e = .binary(op, e, try range(), t.location)
        }
    }

    private mutating func range() throws -> Expr {
        let e = try additive()
        let t = peek()
        guard t.kind == .dotDot else { return e }
        advance()
        skipLineBreaks()
        return .range(e, try additive(), t.location)
    }

    private mutating func additive() throws -> Expr {
        var e = try multiplicative()
        while true {
            let t = peek()
            guard t.kind == .plus || t.kind == .minus else { return e }
            advance()
            skipLineBreaks()
            e = .binary(t.kind == .plus ? .add : .sub, e, try multiplicative(), t.location)
        }
    }

    private mutating func multiplicative() throws -> Expr {
        var e = try unary()
        while true {
            let t = peek()
            let op: BinaryOp
            switch t.kind {
            case .star: op = .mul
            case .slash: op = .div
            case .percent: op = .mod
            case .at: op = .matmul
            default: return e
            }
            advance()
            skipLineBreaks()
            e = .binary(op, e, try unary(), t.location)
        }
    }

    private mutating func unary() throws -> Expr {
        let t = peek()
        if t.kind == .minus {
            advance()
            return try nest { p in
                let operand = try p.unary()
                if case .number(let d) = operand { return .number(-d) }   // fold literals: -3 is a constant
                return .unaryMinus(operand, t.location)
            }
        }
        return try power()
    }

    private mutating func power() throws -> Expr {
        let base = try postfix()
        let t = peek()
        guard t.kind == .caret else { return base }
        advance()
        skipLineBreaks()
        return .binary(.pow, base, try nest { p in try p.unary() }, t.location)
    }

    private mutating func postfix() throws -> Expr {
        // Calls are located at the start of the callee (`f` in `f(x)`), as tracebacks show them.
        let start = peek().location
        var e = try primary()
        while true {
            let t = peek()
            switch t.kind {
            case .leftParen:
                advance()
                e = .call(e, try arguments(), start)
            case .leftBracket:
                advance()
                let index = try withNewlines(ignored: true) { p in
                    let i = try p.expression()
                    _ = try p.expect(.rightBracket, "expected ']' after the index")
                    return i
                }
                e = .index(e, index, t.location)
            case .dot:
                advance()
                let name = peek()
                // Keywords are fine as field names: `r.in`, `log.for`.
                guard name.kind == .identifier || TokenKind.spelling[name.kind].map({ $0.first?.isLetter == true }) == true else {
                    throw error("expected a field name after '.'")
                }
                advance()
                let text = name.kind == .identifier ? name.text : TokenKind.spelling[name.kind] ?? ""
                e = .field(e, text, name.location)
            default:
                return e
            }
        }
    }

    private mutating func arguments() throws -> [Argument] {
        try withNewlines(ignored: true) { p in
            var args: [Argument] = []
            var sawKeyword = false
            while !p.check(.rightParen) {
                let t = p.peek()
                // Keywords are fine as argument names too: `resnet18(in: 1)`.
                let name = t.kind == .identifier ? t.text
                    : TokenKind.spelling[t.kind].flatMap { $0.first?.isLetter == true ? $0 : nil }
                if let name, p.tokens[p.nextNonNewline(after: p.pos)].kind == .colon {
                    p.advance(); p.advance()
                    if args.contains(where: { $0.name == name }) {
                        throw LangError.syntax("keyword argument '\(name)' given twice", at: t.location)
                    }
                    args.append(Argument(name: name, value: try p.expression(), location: t.location))
                    sawKeyword = true
                } else {
                    let e = try p.expression()
                    if sawKeyword { throw LangError.syntax("positional argument after keyword arguments", at: t.location) }
                    args.append(Argument(name: nil, value: e, location: t.location))
                }
                if !p.match(.comma) { break }
            }
            _ = try p.expect(.rightParen, "expected ')' after arguments")
            return args
        }
    }

    private func nextNonNewline(after i: Int) -> Int {
        var j = i + 1
        while j < tokens.count - 1 && tokens[j].kind == .newline { j += 1 }
        return min(j, tokens.count - 1)
    }

    private mutating func primary() throws -> Expr {
        let t = peek()
        switch t.kind {
        case .number: advance(); return .number(t.number)
        case .string: advance(); return .string(t.text)
        case .kwTrue: advance(); return .bool(true)
        case .kwFalse: advance(); return .bool(false)
        case .kwNil: advance(); return .nilLiteral
        case .identifier: advance(); return .variable(id: Symbols.id(t.text), t.location)
        case .leftParen:
            advance()
            return try withNewlines(ignored: true) { p in
                let e = try p.expression()
                _ = try p.expect(.rightParen, "expected ')' to close the '(' at \(t.location.line):\(t.location.column)")
                return e
            }
        case .leftBracket:
            advance()
            return try withNewlines(ignored: true) { p in
                var items: [Expr] = []
                while !p.check(.rightBracket) {
                    items.append(try p.expression())
                    if !p.match(.comma) { break }
                }
                _ = try p.expect(.rightBracket, "expected ']' or ',' in the list")
                return .list(items, t.location)
            }
        case .leftBrace:
            advance()
            return try withNewlines(ignored: true) { p in try p.record(at: t.location) }
        case .kwFn:
            advance()
            if check(.identifier) {   // `fn name(…)` as an expression: named for tracebacks
                let name = advance()
                return .function(try functionRest(name: name.text, at: t.location))
            }
            return .function(try functionRest(name: "fn", at: t.location))
        case .eof:
            throw error("expected an expression")
        default:
            throw error("expected an expression, found \(t.display)")
        }
    }

    private mutating func record(at location: SourceLocation) throws -> Expr {
        var fields: [(key: String, value: Expr)] = []
        while !check(.rightBrace) {
            let k = peek()
            let key: String
            switch k.kind {
            case .identifier, .string: key = k.text
            default:
                guard let s = TokenKind.spelling[k.kind], s.first?.isLetter == true else {
                    throw error("expected a field name in the record (name: value)")
                }
                key = s
            }
            advance()
            if fields.contains(where: { $0.key == key }) {
                throw LangError.syntax("field '\(key)' given twice", at: k.location)
            }
            _ = try expect(.colon, "expected ':' after the field name")
            let value = try expression()
            if case .function(let decl) = value, decl.name == "fn" { decl.name = key }
            fields.append((key, value))
            if !match(.comma) { break }
        }
        _ = try expect(.rightBrace, "expected '}' or ',' in the record")
        return .record(fields, location)
    }
}
