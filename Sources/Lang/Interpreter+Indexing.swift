import Tensor

/// Indexing, slicing and fields. Indices are 0-based and negative ones count from the end; a
/// range `a..b` slices with both ends included, clamped to the sequence (so `x[0..100]` is all
/// of a short list, and `x[3..1]` is empty).
extension Interpreter {
    func index(_ base: Value, _ index: Value, _ loc: SourceLocation) throws -> Value {
        switch (base, index) {
        case (.list(let l), .number(let d)):
            return l.items[try position(d, count: l.items.count, base, loc)]
        case (.list(let l), .range(let r)):
            return .list(ListValue(Array(l.items[clampedSlice(r, count: l.items.count)])))
        case (.string(let s), .number(let d)):
            let chars = Array(s)
            return .string(String(chars[try position(d, count: chars.count, base, loc)]))
        case (.string(let s), .range(let r)):
            let chars = Array(s)
            return .string(String(chars[clampedSlice(r, count: chars.count)]))
        case (.range(let r), .number(let d)):
            return .number(Double(r.lo + (try position(d, count: r.count, base, loc))))
        case (.range(let r), .range(let s)):
            let slice = clampedSlice(s, count: r.count)
            return slice.isEmpty ? .list(ListValue()) : .range(RangeValue(r.lo + slice.lowerBound, r.lo + slice.upperBound - 1))
        case (.tensor(let t), .number(let d)):
            guard t.rank > 0 else { throw LangError.runtime("cannot index a scalar tensor (use item(t))", at: loc) }
            return try located({ try tensorRow(t, try position(d, count: t.shape[0], base, loc)) }, loc)
        case (.tensor(let t), .range(let r)):
            guard t.rank > 0 else { throw LangError.runtime("cannot slice a scalar tensor", at: loc) }
            return try located({ .tensor(try t.slice(clampedSlice(r, count: t.shape[0]))) }, loc)
        case (.tensor(let t), .list(let l)):
            let rows = try l.items.map { v -> Int in
                guard case .number(let d) = v, let i = wholeNumber(d) else {
                    throw LangError.runtime("tensor indices must be whole numbers, got \(describeType(v))", at: loc)
                }
                return i
            }
            return try located({ .tensor(try t.gather(rows)) }, loc)
        case (.tensor(let t), .tensor(let ix)):
            let rows = try ix.scalars.map { f -> Int in
                guard let i = wholeNumber(Double(f)) else { throw LangError.runtime("tensor indices must be whole numbers", at: loc) }
                return i
            }
            return try located({ .tensor(try t.gather(rows)) }, loc)
        case (.record(let r), .string(let k)):
            guard let v = r[k] else { throw noField(k, in: r, loc) }
            return v
        case (.object(let o), .string(let k)):
            return try field(.object(o), k, loc)
        default:
            throw LangError.runtime("cannot index \(describeType(base)) with \(describeType(index))", at: loc)
        }
    }

    func setIndex(_ base: Value, _ index: Value, _ value: Value, _ loc: SourceLocation) throws {
        switch (base, index) {
        case (.list(let l), .number(let d)):
            l.items[try position(d, count: l.items.count, base, loc)] = value
        case (.record(let r), .string(let k)):
            r[k] = value
        case (.tensor, _):
            throw LangError.runtime("tensors are immutable: build a new one (e.g. with where(), concat() or arithmetic)", at: loc)
        case (.string, _):
            throw LangError.runtime("strings are immutable: build a new one", at: loc)
        default:
            throw LangError.runtime("cannot assign to an index of \(describeType(base)) with \(describeType(index))", at: loc)
        }
    }

    func field(_ base: Value, _ name: String, _ loc: SourceLocation) throws -> Value {
        switch base {
        case .record(let r):
            guard let v = r[name] else { throw noField(name, in: r, loc) }
            return v
        case .object(let o):
            guard let v = o.field(name) else {
                let hint = closestName(to: name, in: o.fieldNames).map { " (did you mean '\($0)'?)" } ?? ""
                throw LangError.runtime("\(o.typeName) has no field '\(name)'\(hint)", at: loc)
            }
            return v
        default:
            throw LangError.runtime("cannot read field '\(name)' of \(describeType(base)) (only records have fields)", at: loc)
        }
    }

    private func noField(_ name: String, in r: RecordValue, _ loc: SourceLocation) -> LangError {
        let fields = r.keys.isEmpty ? "it has none" : "it has " + r.keys.prefix(12).joined(separator: ", ") + (r.count > 12 ? ", …" : "")
        let hint = closestName(to: name, in: r.keys).map { "did you mean '\($0)'? " } ?? ""
        return LangError.runtime("record has no field '\(name)' (\(hint)\(fields))", at: loc)
    }

    /// A 0-based position from a possibly negative index, or an "out of range" error.
    private func position(_ d: Double, count: Int, _ base: Value, _ loc: SourceLocation) throws -> Int {
        guard let i = wholeNumber(d) else {
            throw LangError.runtime("index must be a whole number, got \(formatNumber(d))", at: loc)
        }
        let j = i < 0 ? i + count : i
        guard j >= 0 && j < count else {
            throw LangError.runtime("index \(i) out of range for \(base.typeName) of length \(count)", at: loc)
        }
        return j
    }

    /// Row `i` of a tensor along its first axis; a number when that leaves no axes.
    func tensorRow(_ t: Tensor, _ i: Int) throws -> Value {
        try unwrapScalar(t.narrowed(axis: 0, start: i, length: 1).reshaped(Array(t.shape.dropFirst())))
    }

    /// A rank-0 tensor as a number; others unchanged.
    func unwrapScalar(_ t: Tensor) throws -> Value {
        t.rank == 0 ? .number(Double(try t.item())) : .tensor(t)
    }
}

/// The half-open index range a..b (inclusive, negatives from the end) selects, clamped.
func clampedSlice(_ r: RangeValue, count: Int) -> Range<Int> {
    let lo = max(0, r.lo < 0 ? r.lo + count : r.lo)
    let hi = min(count - 1, r.hi < 0 ? r.hi + count : r.hi)
    return lo <= hi ? lo..<(hi + 1) : lo > count ? count..<count : lo..<lo
}
