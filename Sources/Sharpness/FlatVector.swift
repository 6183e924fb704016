import CBLAS
import Foundation
import Tensor

// Flat Float32 vector kernels shared by the spectral algorithms. Dot products accumulate in
// Double (`dsdot`): Lanczos coefficients and Rayleigh quotients of 10⁵–10⁷-long vectors lose
// several digits when summed in Float32, and those digits are the eigenvalues.

/// Σ aᵢbᵢ accumulated in Double.
@inline(__always)
func dot(_ a: [Float], _ b: [Float]) -> Double {
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            cblas_dsdot(Int32(x.count), x.baseAddress, 1, y.baseAddress, 1)
        }
    }
}

/// ‖a‖₂ accumulated in Double.
@inline(__always)
func norm(_ a: [Float]) -> Double { dot(a, a).squareRoot() }

/// y ← y + αx.
@inline(__always)
func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) {
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            cblas_saxpy(Int32(xp.count), alpha, xp.baseAddress, 1, yp.baseAddress, 1)
        }
    }
}

/// x ← αx.
@inline(__always)
func scale(_ x: inout [Float], _ alpha: Float) {
    x.withUnsafeMutableBufferPointer { p in cblas_sscal(Int32(p.count), alpha, p.baseAddress, 1) }
}

/// A Rademacher vector: each entry ±1 with probability ½ (the top bit of one 64-bit draw).
func rademacher(_ n: Int, _ rng: inout RandomGenerator) -> [Float] {
    (0..<n).map { _ in rng.next() >> 63 == 0 ? 1 : -1 }
}

/// A standard Gaussian vector (Box–Muller in Double, stored as Float32).
func gaussian(_ n: Int, _ rng: inout RandomGenerator) -> [Float] {
    (0..<n).map { _ in Float(rng.normal()) }
}

/// v / ‖v‖, or nil when v is zero.
func normalized(_ v: [Float]) -> [Float]? {
    let nv = norm(v)
    guard nv > 0, nv.isFinite else { return nil }
    var out = v
    scale(&out, Float(1 / nv))
    return out
}
