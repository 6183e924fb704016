import XCTest
@testable import Tensor

/// The direct 3×3 kernels (AVX-512 and AVX2 tiles, channel counts that are not multiples of the
/// tile, one and several cores): forward against Float64 loops, gradients against the im2col path
/// and, first and second derivatives, against finite differences.
final class DirectConvTests: XCTestCase {
    let configs: [([Int], Int, Int)] = [   // (input shape, output channels, stride)
        ([2, 3, 5, 4], 5, 1), ([3, 8, 9, 7], 9, 1), ([2, 1, 12, 14], 16, 1), ([1, 16, 14, 14], 16, 1), ([5, 2, 3, 17], 3, 1),
        // Stride 2 on even and odd sizes (odd: the last phase row and column fall in the padding).
        ([2, 3, 8, 8], 5, 2), ([3, 8, 9, 7], 9, 2), ([2, 1, 12, 14], 16, 2), ([1, 16, 14, 14], 17, 2), ([5, 2, 3, 17], 3, 2),
        ([2, 9, 1, 2], 4, 2),
    ]

    /// The CPU's kernel widths (8 and 4 with AVX-512, 4 with AVX2 only): each is tested.
    var widths: [Int] { DirectConv.lanes == 8 ? [8, 4] : [DirectConv.lanes] }

    func withDirect<T>(lanes: Int, minWidth: Int = 1, workers: Int? = nil, _ body: () throws -> T) rethrows -> T {
        let saved = (DirectConv.lanes, DirectConv.minWidth, DirectConv.minStridedWidth, WinogradConv.enabled, Parallelism.workers)
        defer { (DirectConv.lanes, DirectConv.minWidth, DirectConv.minStridedWidth, WinogradConv.enabled, Parallelism.workers) = saved }
        (DirectConv.lanes, DirectConv.minWidth, DirectConv.minStridedWidth, WinogradConv.enabled) = (lanes, minWidth, minWidth, false)
        if let workers { Parallelism.workers = workers }
        return try body()
    }

    func testThisMachineHasTheKernels() {
        // The test machines have AVX2 (CI: the same kind of machine); without it every convolution
        // would silently take im2col and these tests would test nothing.
        XCTAssertGreaterThanOrEqual(DirectConv.lanes, 4, "no AVX2/FMA: the direct kernels are not used on this CPU")
    }

    func testForwardAgainstDirectLoops() throws {
        for lanes in widths {
            for (i, (xs, o, stride)) in configs.enumerated() {
                let x = sample(xs, seed: UInt64(3000 + i)), w = sample([o, xs[1], 3, 3], seed: UInt64(3100 + i))
                let gm = try ConvGeometry(input: xs, weight: w.shape, stride: stride, padding: 1)
                let y = try withDirect(lanes: lanes) { () throws -> Tensor in
                    XCTAssertTrue(DirectConv.applies(gm))
                    return try x.conv2d(w, stride: stride, padding: 1)
                }
                let ref = referenceConv(x, w, stride: stride, padding: 1)
                assertClose(y, ref.values, shape: ref.shape, tol: 1e-5, "direct conv \(xs) → \(o), stride \(stride), \(lanes) lanes")
            }
        }
    }

    func testGradientsMatchIm2colOnOneAndSeveralCores() throws {
        for (i, (xs, o, stride)) in configs.enumerated() {
            let x = sample(xs, seed: UInt64(3200 + i)).requiringGrad(), w = sample([o, xs[1], 3, 3], seed: UInt64(3300 + i)).requiringGrad()
            let gm = try ConvGeometry(input: xs, weight: w.shape, stride: stride, padding: 1)
            let seedT = sample(gm.outputShape, seed: UInt64(3400 + i))
            let viaIm2col = try withDirect(lanes: 0) { try gradients(of: try x.conv2d(w, stride: stride, padding: 1), wrt: [x, w], seed: seedT) }
            for lanes in widths {
                for workers in [1, 3] {
                    let g = try withDirect(lanes: lanes, workers: workers) { try gradients(of: try x.conv2d(w, stride: stride, padding: 1), wrt: [x, w], seed: seedT) }
                    for k in 0..<2 {
                        assertClose(g[k].scalars, doubles(viaIm2col[k]), tol: 1e-5, "gradient \(k) of \(xs) → \(o), stride \(stride), \(lanes) lanes, \(workers) cores")
                    }
                    // Each gradient alone (the second-derivative ops ask for one at a time).
                    let gx = try withDirect(lanes: lanes, workers: workers) { try gradients(of: try x.conv2d(w.detached(), stride: stride, padding: 1), wrt: [x], seed: seedT)[0] }
                    assertClose(gx.scalars, doubles(viaIm2col[0]), tol: 1e-5, "dx alone, \(xs), stride \(stride)")
                    let gw = try withDirect(lanes: lanes, workers: workers) { try gradients(of: try x.detached().conv2d(w, stride: stride, padding: 1), wrt: [w], seed: seedT)[0] }
                    assertClose(gw.scalars, doubles(viaIm2col[1]), tol: 1e-5, "dW alone, \(xs), stride \(stride)")
                }
            }
        }
    }

    func testDerivativesAgainstFiniteDifferences() throws {
        for lanes in widths {
            try withDirect(lanes: lanes) {
                try checkDerivatives("direct conv∘tanh∘conv, \(lanes) lanes",
                                     [sample([2, 2, 5, 6], seed: 3500), sample([3, 2, 3, 3], seed: 3501, low: -0.5, high: 0.5),
                                      sample([2, 3, 3, 3], seed: 3502, low: -0.5, high: 0.5)]) { v in
                    try (try (try v[0].conv2d(v[1], padding: 1)).tanh()).conv2d(v[2], padding: 1)
                }
                try checkDerivatives("direct stride-2 conv∘tanh∘stride-2 conv, \(lanes) lanes",
                                     [sample([2, 2, 7, 6], seed: 3503), sample([3, 2, 3, 3], seed: 3504, low: -0.5, high: 0.5),
                                      sample([2, 3, 3, 3], seed: 3505, low: -0.5, high: 0.5)]) { v in
                    try (try (try v[0].conv2d(v[1], stride: 2, padding: 1)).tanh()).conv2d(v[2], stride: 2, padding: 1)
                }
            }
        }
    }

    func testWhichLayersTakeWhichAlgorithm() throws {
        XCTAssertGreaterThan(DirectConv.lanes, 0)
        func path(_ xs: [Int], _ o: Int, stride: Int = 1, padding: Int = 1, k: Int = 3) throws -> ConvPath {
            ConvPath(try ConvGeometry(input: xs, weight: [o, xs[1], k, k], stride: stride, padding: padding))
        }
        XCTAssertEqual(try path([128, 1, 28, 28], 16), .direct)               // ResNet-18 w16: the stem
        XCTAssertEqual(try path([128, 16, 28, 28], 16), .direct)              // layer 1
        XCTAssertEqual(try path([128, 16, 28, 28], 32, stride: 2), .direct)   // layer 2's first conv
        XCTAssertEqual(try path([128, 32, 14, 14], 32), .winograd)            // layer 2
        XCTAssertEqual(try path([128, 32, 14, 14], 64, stride: 2), .im2col)   // layer 3's first: a 7-wide output
        XCTAssertEqual(try path([128, 64, 7, 7], 64), .winograd)              // layer 3
        XCTAssertEqual(try path([128, 64, 7, 7], 128, stride: 2), .im2col)    // layer 4's first
        XCTAssertEqual(try path([128, 128, 4, 4], 128), .winograd)            // layer 4
        XCTAssertEqual(try path([128, 3, 32, 32], 64), .direct)               // w64's stem
        XCTAssertEqual(try path([128, 256, 8, 8], 256), .winograd)            // w64, layer 3
        XCTAssertEqual(try path([16, 64, 224, 224], 64), .direct)             // too large a group for Winograd
        XCTAssertEqual(try path([128, 16, 28, 28], 16, padding: 0), .im2col)
        XCTAssertEqual(try path([128, 16, 28, 28], 16, padding: 0, k: 1), .im2col)
        XCTAssertEqual(try path([128, 16, 28, 28], 32, stride: 3), .im2col)
    }
}
