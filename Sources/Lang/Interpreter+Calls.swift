import Tensor

extension Interpreter {
    /// Calls a user function or a builtin with evaluated arguments. `loc` is the call's location
    /// (the `(`); keyword arguments carry their own locations for pointed errors.
    func callValue(_ callee: Value, _ positional: [Value], _ keywords: [(String, Value, SourceLocation)],
                   at loc: SourceLocation) throws -> Value {
        switch callee {
        case .function(let c):
            return try callClosure(c, positional, keywords, at: loc)
        case .builtin(let b):
            return try callBuiltin(b, positional, keywords, at: loc)
        case .object(let o as any CallableLangObject):
            return try callObject(o, positional, keywords, at: loc)
        default:
            throw LangError.runtime("cannot call \(describeType(callee)) (it is not a function)", at: loc)
        }
    }

    private func callBuiltin(_ b: Builtin, _ positional: [Value], _ keywords: [(String, Value, SourceLocation)],
                             at loc: SourceLocation) throws -> Value {
        try step(at: loc)
        let saved = currentCallSite
        currentCallSite = loc
        defer { currentCallSite = saved }
        do {
            let values = try b.bind(positional, keywords.map { ($0.0, $0.1) })
            return try b.body(BuiltinArgs(interpreter: self, builtin: b, values: values))
        } catch {
            var e = LangError.from(error)
            if e.location == nil {
                // Point at the offending keyword argument when the message names it.
                let kw = keywords.first { e.message.contains("'\($0.0)'") }
                e.location = kw?.2 ?? loc
                e.frameLocation = e.location
            }
            if e.wantsUsage {
                e.notes.append("usage: \(b.signature)")
                e.wantsUsage = false
            }
            throw e
        }
    }

    private func callObject(_ o: any CallableLangObject, _ positional: [Value],
                            _ keywords: [(String, Value, SourceLocation)], at loc: SourceLocation) throws -> Value {
        try step(at: loc)
        let saved = currentCallSite
        currentCallSite = loc
        defer { currentCallSite = saved }
        do {
            return try o.call(positional, keywords.map { (name: $0.0, value: $0.1) }, self)
        } catch {
            throw locate(error, loc)
        }
    }

    private func callClosure(_ c: Closure, _ positional: [Value], _ keywords: [(String, Value, SourceLocation)],
                             at loc: SourceLocation) throws -> Value {
        try step(at: loc)
        try pollInterrupt(at: loc)
        guard callDepth < limits.maxCallDepth, !stackGuardExhausted else {
            throw LangError.runtime("stack overflow (more than \(limits.maxCallDepth) nested calls)", at: loc)
        }
        let decl = c.decl
        let params = decl.params
        func usage(_ message: String, at l: SourceLocation = loc) -> LangError {
            var e = LangError.runtime(message, at: l)
            e.notes.append("usage: \(decl.signature)")
            return e
        }
        guard positional.count <= params.count else {
            throw usage("\(decl.name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(positional.count)")
        }
        let env = Environment(parent: c.env, capacity: params.count + 2)
        for (i, v) in positional.enumerated() { env.bindFresh(params[i].id, v) }
        for (name, v, kwLoc) in keywords {
            guard let i = params.firstIndex(where: { $0.name == name }) else {
                let hint = closestName(to: name, in: params.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                throw usage("\(decl.name) has no parameter '\(name)'\(hint)", at: kwLoc)
            }
            if env.has(params[i].id) { throw usage("\(decl.name): argument '\(name)' given twice", at: kwLoc) }
            env.bindFresh(params[i].id, v)
        }
        callDepth += 1
        defer { callDepth -= 1 }
        do {
            for p in params.dropFirst(positional.count) where keywords.isEmpty || !env.has(p.id) {
                guard let d = p.defaultValue else { throw usage("\(decl.name): missing argument '\(p.name)'") }
                env.define(p.id, try eval(d, env))
            }
            if case .returned(let v) = try exec(decl.body, env) { return v }
            return .null
        } catch var e as LangError {
            e.trace.append((decl.name, e.frameLocation ?? loc))
            e.frameLocation = loc
            throw e
        }
    }

    private var stackGuardExhausted: Bool { stackGuardRef.isExhausted }
}
