import Foundation

/// The documented generator behind every seeded draw, so a seed gives the same numbers on every
/// run and machine: xoshiro256** (Blackman & Vigna) with its state filled by SplitMix64 from the
/// 64-bit seed. `uniform()` takes the top 24 bits (k · 2⁻²⁴ ∈ [0, 1)); `normal()` is Box–Muller in
/// Double from two 53-bit uniforms, u₁ ∈ (0, 1], giving √(−2 ln u₁)·cos 2πu₂ and then, on the next
/// call, √(−2 ln u₁)·sin 2πu₂.
public struct RandomGenerator: Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spare: Double?

    public init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
        spare = nil
    }

    /// The full state (four xoshiro words, then the cached normal's bits or 0 and a flag), so a
    /// checkpoint can resume the exact stream.
    public var state: [UInt64] {
        [s.0, s.1, s.2, s.3, spare?.bitPattern ?? 0, spare == nil ? 0 : 1]
    }

    /// Restores a generator from `state`; nil when the array is not a saved state.
    public init?(state: [UInt64]) {
        guard state.count == 6, state[5] <= 1, state[0...3].contains(where: { $0 != 0 }) else { return nil }
        s = (state[0], state[1], state[2], state[3])
        spare = state[5] == 1 ? Double(bitPattern: state[4]) : nil
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), 24-bit resolution (every Float32 step in that range).
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53-bit resolution.
    @inline(__always)
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal.
    public mutating func normal() -> Double {
        if let z = spare { spare = nil; return z }
        let u1 = 1 - uniformDouble(), u2 = uniformDouble()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        spare = r * Foundation.sin(2 * Double.pi * u2)
        return r * Foundation.cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0 ..< n (Lemire's unbiased method).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// A uniformly random permutation of 0 ..< n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, int(below: i + 1)) }
        }
        return p
    }
}

/// The process-wide generator used when a caller passes none (`seed(n)` in the language resets it).
public enum GlobalRandom {
    nonisolated(unsafe) public static var generator = RandomGenerator(seed: 0)

    public static func seed(_ s: UInt64) { generator = RandomGenerator(seed: s) }
}
