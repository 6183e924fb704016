/// A scope: the variables of one function call, or the globals.
///
/// Only functions open scopes (blocks do not), so a scope holds few names: they live in one array
/// of (symbol, value) slots searched linearly, which beats hashing for the handful of locals a
/// function has (and costs one allocation per call). The global scope grows an index once large.
///
/// Assignment rebinds the nearest enclosing variable of that name, else creates a local one
/// (`assign`); the builtins live outside this chain and are never rebound.
final class Environment {
    struct Slot {
        let id: Int
        var value: Value
    }

    let parent: Environment?
    private var slots: [Slot] = []
    private var index: [Int: Int]?

    init(parent: Environment?, capacity: Int = 0) {
        self.parent = parent
        if capacity > 0 { slots.reserveCapacity(capacity) }
    }

    @inline(__always)
    private func slot(_ id: Int) -> Int? {
        if let index { return index[id] }
        return slots.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                if p[i].id == id { return i }
                i += 1
            }
            return nil
        }
    }

    /// The value bound to `id` here or in an enclosing scope.
    @inline(__always)
    func lookup(_ id: Int) -> Value? {
        var env = self
        while true {
            if let i = env.slot(id) { return env.slots[i].value }
            guard let p = env.parent else { return nil }
            env = p
        }
    }

    /// Rebinds the nearest enclosing variable, else creates one here.
    @inline(__always)
    func assign(_ id: Int, _ value: Value) {
        var env = self
        while true {
            if let i = env.slot(id) {
                env.slots[i].value = value
                return
            }
            guard let p = env.parent else { break }
            env = p
        }
        append(id, value)
    }

    /// Binds `id` in this scope (parameters, or a new local).
    func define(_ id: Int, _ value: Value) {
        if let i = slot(id) {
            slots[i].value = value
        } else {
            append(id, value)
        }
    }

    /// Binds a name known to be new here (a parameter of a fresh call).
    @inline(__always)
    func bindFresh(_ id: Int, _ value: Value) { append(id, value) }

    private func append(_ id: Int, _ value: Value) {
        slots.append(Slot(id: id, value: value))
        if index != nil {
            index?[id] = slots.count - 1
        } else if slots.count > 16 {
            index = Dictionary(uniqueKeysWithValues: slots.enumerated().map { ($1.id, $0) })
        }
    }

    /// Whether `id` is bound in this scope itself.
    func has(_ id: Int) -> Bool { slot(id) != nil }

    /// Names bound in this scope, in the order they were first bound.
    var names: [String] { slots.map { Symbols.name($0.id) } }
}
