import XCTest
@testable import Tensor

/// Winograd F(2×2, 3×3): forward against Float64 loops, both gradients against the im2col path
/// (odd and even plane sizes, batches that do not fill the 16 lanes or span several groups, one and
/// several cores), and first and second derivatives against finite differences.
final class WinogradConvTests: XCTestCase {
    let configs: [([Int], Int)] = [   // (input shape, output channels)
        ([2, 3, 4, 4], 5), ([3, 8, 7, 7], 9), ([17, 2, 5, 6], 3), ([1, 4, 1, 3], 2), ([40, 3, 2, 9], 4),
    ]

    /// The CPU's transform widths (AVX-512 and AVX2 with AVX-512, AVX2 alone without): each is tested.
    var widths: [Int] { DirectConv.lanes == 8 ? [8, 4] : [DirectConv.lanes] }

    func withWinograd<T>(_ on: Bool, lanes: Int = DirectConv.lanes, budget: Int? = nil, workers: Int? = nil, _ body: () throws -> T) rethrows -> T {
        let saved = (WinogradConv.enabled, WinogradConv.minChannels, WinogradConv.budget, DirectConv.enabled, DirectConv.lanes, Parallelism.workers)
        defer { (WinogradConv.enabled, WinogradConv.minChannels, WinogradConv.budget, DirectConv.enabled, DirectConv.lanes, Parallelism.workers) = saved }
        (WinogradConv.enabled, WinogradConv.minChannels, DirectConv.enabled, DirectConv.lanes) = (on, 1, false, lanes)
        if let budget { WinogradConv.budget = budget }
        if let workers { Parallelism.workers = workers }
        return try body()
    }

    func testForwardAgainstDirectLoops() throws {
        XCTAssertGreaterThan(DirectConv.lanes, 0, "no AVX2/FMA: Winograd's transforms are not used on this CPU")
        for (i, (xs, o)) in configs.enumerated() {
            let x = sample(xs, seed: UInt64(5000 + i)), w = sample([o, xs[1], 3, 3], seed: UInt64(5100 + i))
            let gm = try ConvGeometry(input: xs, weight: w.shape, stride: 1, padding: 1)
            for lanes in widths {
                for workers in [1, 2] {
                    let y = try withWinograd(true, lanes: lanes, workers: workers) { () throws -> Tensor in
                        XCTAssertTrue(WinogradConv.applies(gm))
                        return try x.conv2d(w, padding: 1)
                    }
                    let ref = referenceConv(x, w, stride: 1, padding: 1)
                    assertClose(y, ref.values, shape: ref.shape, tol: 1e-5, "Winograd conv \(xs) → \(o), \(lanes) lanes, \(workers) cores")
                }
            }
        }
    }

    func testGradientsMatchIm2colAcrossGroupsAndCores() throws {
        for (i, (xs, o)) in configs.enumerated() {
            let x = sample(xs, seed: UInt64(5200 + i)).requiringGrad(), w = sample([o, xs[1], 3, 3], seed: UInt64(5300 + i)).requiringGrad()
            let seedT = sample([xs[0], o, xs[2], xs[3]], seed: UInt64(5400 + i))
            let viaIm2col = try withWinograd(false) { try gradients(of: try x.conv2d(w, padding: 1), wrt: [x, w], seed: seedT) }
            // A budget of one image per group makes batches over 16 span several groups.
            for (lanes, workers, budget) in widths.flatMap({ l in [(l, 1, nil), (l, 3, nil), (l, 2, 1)] }) as [(Int, Int, Int?)] {
                try withWinograd(true, lanes: lanes, budget: budget, workers: workers) {
                    let g = try gradients(of: try x.conv2d(w, padding: 1), wrt: [x, w], seed: seedT)
                    for k in 0..<2 {
                        assertClose(g[k].scalars, doubles(viaIm2col[k]), tol: 1e-5, "gradient \(k) of \(xs) → \(o), \(lanes) lanes, \(workers) cores")
                    }
                    let gx = try gradients(of: try x.conv2d(w.detached(), padding: 1), wrt: [x], seed: seedT)[0]
                    assertClose(gx.scalars, doubles(viaIm2col[0]), tol: 1e-5, "dx alone, \(xs)")
                    let gw = try gradients(of: try x.detached().conv2d(w, padding: 1), wrt: [w], seed: seedT)[0]
                    assertClose(gw.scalars, doubles(viaIm2col[1]), tol: 1e-5, "dW alone, \(xs)")
                }
            }
        }
    }

    func testDerivativesAgainstFiniteDifferences() throws {
        for lanes in widths {
            try withWinograd(true, lanes: lanes) {
                try checkDerivatives("Winograd conv∘tanh∘conv, \(lanes) lanes",
                                     [sample([2, 2, 5, 4], seed: 5500), sample([3, 2, 3, 3], seed: 5501, low: -0.5, high: 0.5),
                                      sample([2, 3, 3, 3], seed: 5502, low: -0.5, high: 0.5)]) { v in
                    try (try (try v[0].conv2d(v[1], padding: 1)).tanh()).conv2d(v[2], padding: 1)
                }
            }
        }
    }
}
