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

    /// The fast path of `f(a, b)` for a user function given positional arguments only, no more
    /// than it has parameters: they are evaluated straight into the new frame's slots. The caller
    /// keeps `c` alive.
    func callCompiled(_ c: Closure, _ fn: CompiledFunction, _ args: [Unmanaged<Node>], _ caller: Frame,
                      at loc: SourceLocation) throws -> Value {
        let n = fn.slotCount
        if fn.capturing {
            let env = Environment(parent: c.env, slotCount: n)
            try evalArguments(args, into: env.slots, caller)
            try enter(at: loc)
            return try withExtendedLifetime(env) {
                try run(c.decl, fn, Frame(slots: env.slots, env: env, interp: self), given: args.count, at: loc)
            }
        }
        let mark = slotTop
        let slots = pushSlots(n)
        defer { popSlots(slots, n, mark) }
        try evalArguments(args, into: slots, caller)
        try enter(at: loc)
        let frame = Frame(slots: slots, envRef: .passUnretained(c.env), interpRef: .passUnretained(self))
        return try run(c.decl, fn, frame, given: args.count, at: loc)
    }

    @inline(__always)
    private func evalArguments(_ args: [Unmanaged<Node>], into slots: UnsafeMutablePointer<Value?>, _ caller: Frame) throws {
        var i = 0
        while i < args.count {
            slots[i] = try args[i]._withUnsafeGuaranteedRef { try $0.eval(caller) }
            i += 1
        }
    }

    private func callClosure(_ c: Closure, _ positional: [Value], _ keywords: [(String, Value, SourceLocation)],
                             at loc: SourceLocation) throws -> Value {
        try enter(at: loc)
        let decl = c.decl
        let params = decl.params
        guard positional.count <= params.count else {
            throw usage(decl, "\(decl.name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(positional.count)", at: loc)
        }
        let fn = decl.compiled!
        let n = fn.slotCount
        let env = fn.capturing ? Environment(parent: c.env, slotCount: n) : nil
        let mark = slotTop
        let slots = env?.slots ?? pushSlots(n)
        defer { if env == nil { popSlots(slots, n, mark) } }
        for (i, v) in positional.enumerated() { slots[i] = v }
        for (name, v, kwLoc) in keywords {
            guard let i = params.firstIndex(where: { $0.name == name }) else {
                let hint = closestName(to: name, in: params.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                throw usage(decl, "\(decl.name) has no parameter '\(name)'\(hint)", at: kwLoc)
            }
            if slots[i] != nil { throw usage(decl, "\(decl.name): argument '\(name)' given twice", at: kwLoc) }
            slots[i] = v
        }
        let frame = Frame(slots: slots, env: env ?? c.env, interp: self)
        return try withExtendedLifetime(env) { try run(decl, fn, frame, given: positional.count, at: loc) }
    }

    /// `n` unbound slots for a call of a function that makes no closures: on the interpreter's
    /// slot stack, or from the heap once that is full (deep recursion).
    @inline(__always)
    private func pushSlots(_ n: Int) -> UnsafeMutablePointer<Value?> {
        let slots: UnsafeMutablePointer<Value?>
        if slotTop + n <= slotCapacity {
            slots = slotBase.unsafelyUnwrapped + slotTop
            slotTop += n
        } else {
            slots = heapSlots(n)
        }
        slots.initialize(repeating: nil, count: n)
        return slots
    }

    @inline(never)
    private func heapSlots(_ n: Int) -> UnsafeMutablePointer<Value?> {
        if slotBase == nil {
            slotCapacity = 8192
            let base = UnsafeMutablePointer<Value?>.allocate(capacity: slotCapacity)
            slotBase = base
            if n <= slotCapacity {
                slotTop = n
                return base
            }
        }
        return .allocate(capacity: n)
    }

    /// Releases what the slots hold and gives them back; `mark` is `slotTop` before the push.
    @inline(__always)
    private func popSlots(_ slots: UnsafeMutablePointer<Value?>, _ n: Int, _ mark: Int) {
        // Emptying slot by slot releases inline; `deinitialize(count:)` is a runtime call.
        var i = 0
        while i < n {
            slots[i] = nil
            i += 1
        }
        if let base = slotBase, slots >= base, slots < base + slotCapacity {
            slotTop = mark
        } else {
            slots.deallocate()
        }
    }

    /// Counts the call, polls Ctrl-C and refuses to nest too deep.
    @inline(__always)
    private func enter(at loc: SourceLocation) throws {
        try step(at: loc)
        try pollInterrupt(at: loc)
        guard callDepth < limits.maxCallDepth, !stackGuardRef.isExhausted else { throw stackOverflow(at: loc) }
    }

    @inline(never)
    private func stackOverflow(at loc: SourceLocation) -> LangError {
        LangError.runtime("stack overflow (more than \(limits.maxCallDepth) nested calls)", at: loc)
    }

    /// Binds the defaults of parameters not given, then runs the body; a runtime error leaving
    /// it records this function in the call stack.
    private func run(_ decl: FunctionDecl, _ fn: CompiledFunction, _ frame: Frame, given: Int,
                     at loc: SourceLocation) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        do {
            var i = given
            while i < fn.paramCount {
                if frame.slots[i] == nil {
                    guard let d = fn.defaults[i] else {
                        throw usage(decl, "\(decl.name): missing argument '\(decl.params[i].name)'", at: loc)
                    }
                    frame.slots[i] = try d.eval(frame)
                }
                i += 1
            }
            if case .returned(let v) = try fn.body.exec(frame) { return v }
            return .null
        } catch var e as LangError {
            e.trace.append((decl.name, e.frameLocation ?? loc))
            e.frameLocation = loc
            throw e
        }
    }

    @inline(never)
    private func usage(_ decl: FunctionDecl, _ message: String, at loc: SourceLocation) -> LangError {
        var e = LangError.runtime(message, at: loc)
        e.notes.append("usage: \(decl.signature)")
        return e
    }
}
