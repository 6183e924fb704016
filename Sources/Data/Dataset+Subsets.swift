import Tensor

/// Subsets and reorderings. Every subset keeps the data set's order (indices ascending) unless it
/// is a shuffle; seeded choices use `RandomGenerator`, so a seed picks the same items everywhere.
extension Dataset {
    /// The first `n` items.
    ///
    ///     let small = try d.prefix(100)
    public func prefix(_ n: Int) throws -> Dataset {
        try checkSize(n, "prefix")
        return n == count ? self : rows(Array(0 ..< n))
    }

    /// The first `n` items and the rest (e.g. a validation split).
    ///
    ///     let (train, val) = try d.split(at: 50000)
    public func split(at n: Int) throws -> (Dataset, Dataset) {
        try checkSize(n, "split")
        return (rows(Array(0 ..< n)), rows(Array(n ..< count)))
    }

    /// `n` items chosen uniformly at random without replacement, kept in data order.
    ///
    ///     let d500 = try d.randomSubset(500, seed: 1)
    public func randomSubset(_ n: Int, seed: UInt64) throws -> Dataset {
        var rng = RandomGenerator(seed: seed)
        return try randomSubset(n, using: &rng)
    }

    /// `n` random items drawn with `rng` (the first n of a permutation, then sorted).
    public func randomSubset(_ n: Int, using rng: inout RandomGenerator) throws -> Dataset {
        try checkSize(n, "randomSubset")
        return rows(randomIndices(n, of: count, using: &rng))
    }

    /// `n` items with the classes as equal as possible: each class present gets ⌊n/K⌋ or one more
    /// (the extra ones to the lowest labels); a class with too few items gives all it has and the
    /// rest is shared among the others. Without a seed each class contributes its first items;
    /// with one, random items. The result is in data order.
    ///
    ///     let balanced = try d.stratifiedSubset(1000, seed: 0)   // 100 of each of 10 classes
    public func stratifiedSubset(_ n: Int, seed: UInt64? = nil) throws -> Dataset {
        try checkSize(n, "stratifiedSubset")
        var byClass: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { byClass[l, default: []].append(i) }
        let classes = byClass.keys.sorted()
        var take = [Int: Int]()
        var remaining = n
        var open = classes
        while remaining > 0, !open.isEmpty {
            let share = remaining / open.count, extra = remaining % open.count
            var stillOpen: [Int] = []
            for (j, c) in open.enumerated() {
                let have = byClass[c, default: []].count, taken = take[c, default: 0]
                let t = min(share + (j < extra ? 1 : 0), have - taken)
                take[c] = taken + t
                remaining -= t
                if taken + t < have { stillOpen.append(c) }
            }
            open = stillOpen
        }
        var rng = RandomGenerator(seed: seed ?? 0)
        var chosen: [Int] = []
        for c in classes {
            let members = byClass[c, default: []], k = take[c, default: 0]
            if seed == nil {
                chosen += members.prefix(k)
            } else {
                chosen += rng.permutation(members.count).prefix(k).map { members[$0] }
            }
        }
        return rows(chosen.sorted())
    }

    /// All items in a random order.
    ///
    ///     let mixed = d.shuffled(seed: 42)
    public func shuffled(seed: UInt64) -> Dataset {
        var rng = RandomGenerator(seed: seed)
        return shuffled(using: &rng)
    }

    /// All items in the order of `rng.permutation(count)`.
    public func shuffled(using rng: inout RandomGenerator) -> Dataset { rows(rng.permutation(count)) }

    private func checkSize(_ n: Int, _ op: String) throws {
        guard n >= 0, n <= count else {
            throw DataError(name, "\(op): asked for \(n) items but the data set has \(count)")
        }
    }
}

/// `n` distinct indices below `total`, uniformly at random, ascending.
func randomIndices(_ n: Int, of total: Int, using rng: inout RandomGenerator) -> [Int] {
    Array(rng.permutation(total).prefix(n)).sorted()
}

/// The records a loader reads for one split: the first `requested` of `total` (all when nil), or
/// a sorted random subset drawn from `rng` when one is given (one generator serves every split in
/// turn). `holds` words the error, e.g. "the file holds".
func splitIndices(_ requested: Int?, of total: Int, split: String, path: String, holds: String,
                  rng: inout RandomGenerator?) throws -> [Int] {
    let n = requested ?? total
    guard n >= 0, n <= total else {
        throw DataError(path, "asked for \(n) \(split == "train" ? "training" : "test") images but \(holds) \(total)")
    }
    guard var g = rng else { return Array(0 ..< n) }
    defer { rng = g }
    return randomIndices(n, of: total, using: &g)
}
