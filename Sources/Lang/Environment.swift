/// A scope at run time: the slots of a function call that closures may keep, or the globals.
///
/// Names are resolved when a function is compiled (`Compiler`): a function's locals — its
/// parameters and every name it assigns — get slot numbers, and a slot stays nil until the name
/// is bound. A function that creates no closures keeps its slots on the native stack for the call
/// and makes no Environment at all; one that does keeps them here, where its closures find them
/// (the `parent` chain mirrors the nesting of the source, ending at the globals).
///
/// The global scope is keyed by symbol id, not by slot: the REPL, `import` and `setGlobal` add
/// globals while the program runs. Symbol ids are small and dense, so it is an array.
final class Environment {
    let parent: Environment?
    /// `parent` unretained, for walking out to an enclosing scope without ARC traffic.
    let parentRef: Unmanaged<Environment>?
    /// A function scope's slots; nil while a name is unbound.
    let slots: UnsafeMutablePointer<Value?>
    private let slotCount: Int
    /// The global scope's values by symbol id (nil in function scopes).
    private var byID: UnsafeMutablePointer<Value?>?
    private var capacity = 0
    /// Global ids in the order they were first bound.
    private(set) var order: [Int] = []

    /// A function scope of `slotCount` unbound slots inside `parent`.
    init(parent: Environment, slotCount: Int) {
        self.parent = parent
        parentRef = .passUnretained(parent)
        self.slotCount = slotCount
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: nil, count: slotCount)
    }

    /// The global scope.
    init() {
        parent = nil
        parentRef = nil
        slotCount = 1
        slots = .allocate(capacity: 1)
        slots.initialize(to: nil)
        capacity = 64
        byID = .allocate(capacity: capacity)
        byID!.initialize(repeating: nil, count: capacity)
    }

    deinit {
        slots.deinitialize(count: slotCount)
        slots.deallocate()
        if let byID {
            byID.deinitialize(count: capacity)
            byID.deallocate()
        }
    }

    // MARK: - The global scope

    /// The global bound to `id`, or nil.
    @inline(__always)
    func global(_ id: Int) -> Value? {
        id < capacity ? byID.unsafelyUnwrapped[id] : nil
    }

    /// Binds a global, creating it when new.
    @inline(__always)
    func setGlobal(_ id: Int, _ value: Value) {
        if id < capacity, let p = byID, p[id] != nil {
            p[id] = value
            return
        }
        createGlobal(id, value)
    }

    @inline(never)
    private func createGlobal(_ id: Int, _ value: Value) {
        if id >= capacity { grow(to: id + 1) }
        order.append(id)
        byID.unsafelyUnwrapped[id] = value
    }

    /// Rebinds an existing global; false when there is none of that name.
    @inline(__always)
    func rebindGlobal(_ id: Int, _ value: Value) -> Bool {
        guard id < capacity, let p = byID, p[id] != nil else { return false }
        p[id] = value
        return true
    }

    private func grow(to n: Int) {
        var c = max(capacity, 64)
        while c < n { c *= 2 }
        let p = UnsafeMutablePointer<Value?>.allocate(capacity: c)
        if let old = byID {
            p.moveInitialize(from: old, count: capacity)
            old.deallocate()
        }
        (p + capacity).initialize(repeating: nil, count: c - capacity)
        byID = p
        capacity = c
    }

    /// Global names, in the order they were first bound.
    var names: [String] { order.map(Symbols.name) }
}
