import XCTest
@testable import Tensor

/// Every bad input throws a TensorError that names the op and says what was wrong (shapes included).
final class BadInputTests: XCTestCase {
    let m23 = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])

    func testMatmulShapeMismatch() {
        assertTensorError("matmul", mentions: ["[2, 3]", "[4, 5]"]) { try m23.matmul(Tensor.zeros([4, 5])) }
        assertTensorError("matmul", mentions: ["[2, 3]", "[2, 3]"]) { try m23.matmul(m23) }
        assertTensorError("matmul", mentions: ["[2, 3]", "[3, 2]"]) { try m23.matmul(Tensor.zeros([3, 2]), transposeB: true) }
        assertTensorError("matmul", mentions: ["[2, 3, 4]", "[3, 4, 5]"]) { try Tensor.zeros([2, 3, 4]).matmul(Tensor.zeros([3, 4, 5])) }
        assertTensorError("matmul", mentions: ["[3]"]) { try Tensor.zeros([3]).matmul(Tensor.zeros([3, 1])) }
        assertTensorError("matmul", mentions: ["[2, 3]", "[2, 3, 4]"]) { try m23.matmul(Tensor.zeros([2, 3, 4])) }
    }

    /// A scalar has no axis 0: reductions and joins over it must throw, not index past its shape.
    func testAxisOnScalar() {
        let s = Tensor(scalar: 3)
        assertTensorError("sum", mentions: ["[]"]) { try s.sum(axes: [0]) }
        assertTensorError("mean", mentions: ["[]"]) { try s.mean(axes: [0]) }
        assertTensorError("max", mentions: ["[]"]) { try s.max(axes: [0]) }
        assertTensorError("argmax", mentions: ["[]"]) { try s.argmax(axis: 0) }
        assertTensorError("concat", mentions: ["[]"]) { try Tensor.concat([s, s]) }
        XCTAssertEqual(try s.sum().item(), 3)
    }

    func testNonBroadcastableElementwise() {
        assertTensorError("add", mentions: ["[2, 3]", "[4]"]) { try m23 + Tensor.zeros([4]) }
        assertTensorError("sub", mentions: ["[2, 3]", "[2, 2]"]) { try m23 - Tensor.zeros([2, 2]) }
        assertTensorError("mul", mentions: ["[2, 1, 4]", "[3, 2]"]) { try Tensor.zeros([2, 1, 4]) * Tensor.zeros([3, 2]) }
        assertTensorError("div", mentions: ["[3]", "[2]"]) { try Tensor.zeros([3]) / Tensor.zeros([2]) }
        assertTensorError("pow", mentions: ["[2, 3]", "[2]"]) { try m23.pow(Tensor.ones([2])) }
        assertTensorError("eq", mentions: ["[2, 3]", "[5]"]) { try m23.eq(Tensor.ones([5])) }
        assertTensorError("where", mentions: ["[2, 3]", "[4]"]) { try Tensor.where(Tensor.ones([2, 3]), m23, Tensor.zeros([4])) }
        assertTensorError("broadcast", mentions: ["[2, 3]", "[3, 3]"]) { try m23.broadcast(to: [3, 3]) }
        assertTensorError("broadcast", mentions: ["[2, 3]", "[3]"]) { try m23.broadcast(to: [3]) }
        assertTensorError("sumTo", mentions: ["[2, 3]", "[2]"]) { try m23.sumTo([2]) }
        assertTensorError("sumTo", mentions: ["[2, 3]", "[1, 2, 3]"]) { try m23.sumTo([1, 2, 3]) }
    }

    func testIndexOutOfRange() {
        assertTensorError("gather", mentions: ["5", "[2, 3]"]) { try m23.gather([0, 5]) }
        assertTensorError("gather", mentions: ["-3", "[2, 3]"]) { try m23.gather([-3]) }
        assertTensorError("gather", mentions: ["scalar"]) { try Tensor(scalar: 1).gather([0]) }
        assertTensorError("slice", mentions: ["[2, 3]"]) { try m23.slice(1..<3) }
        assertTensorError("slice", mentions: ["[2, 3]"]) { try m23.narrowed(axis: 1, start: 2, length: 2) }
        assertTensorError("slice", mentions: ["[2, 3]"]) { try m23.narrowed(axis: 1, start: -1, length: 1) }
        assertTensorError("slice", mentions: ["axis 2", "[2, 3]"]) { try m23.narrowed(axis: 2, start: 0, length: 1) }
        assertTensorError("item", mentions: ["[2, 3]"]) { try m23.item() }
    }

    func testCrossEntropyBadLabels() {
        assertTensorError("cross_entropy", mentions: ["label 3", "3 classes"]) { try crossEntropy(m23, labels: [0, 3]) }
        assertTensorError("cross_entropy", mentions: ["label -1"]) { try crossEntropy(m23, labels: [-1, 0]) }
        assertTensorError("cross_entropy", mentions: ["3 labels", "[2, 3]"]) { try crossEntropy(m23, labels: [0, 1, 2]) }
        assertTensorError("cross_entropy", mentions: ["[2, 3, 1]"]) { try crossEntropy(Tensor.zeros([2, 3, 1]), labels: [0, 1]) }
        assertTensorError("cross_entropy", mentions: ["1.5"]) { try crossEntropy(m23, labels: [0, 1], labelSmoothing: 1.5) }
        assertTensorError("one_hot", mentions: ["label 4", "4 classes"]) { try oneHot([4], classes: 4) }
    }

    func testConvBadInputs() {
        let x = Tensor.zeros([1, 3, 5, 5])
        assertTensorError("conv2d", mentions: ["[1, 3, 5, 5]", "[2, 2, 3, 3]"]) { try x.conv2d(Tensor.zeros([2, 2, 3, 3])) }
        assertTensorError("conv2d", mentions: ["[3, 5, 5]"]) { try Tensor.zeros([3, 5, 5]).conv2d(Tensor.zeros([2, 3, 3, 3])) }
        assertTensorError("conv2d", mentions: ["[1, 3, 5, 5]"]) { try x.conv2d(Tensor.zeros([2, 3, 7, 7])) }
        assertTensorError("conv2d", mentions: ["stride 0"]) { try x.conv2d(Tensor.zeros([2, 3, 3, 3]), stride: 0) }
        assertTensorError("conv2d", mentions: ["padding -1"]) { try x.conv2d(Tensor.zeros([2, 3, 3, 3]), padding: -1) }
    }

    func testPoolBadInputs() {
        assertTensorError("max_pool2d", mentions: ["[2, 3]"]) { try m23.maxPool2d(kernel: 2) }
        assertTensorError("avg_pool2d", mentions: ["padding 2"]) { try Tensor.zeros([1, 1, 4, 4]).avgPool2d(kernel: 2, padding: 2) }
        assertTensorError("max_pool2d", mentions: ["kernel 0"]) { try Tensor.zeros([1, 1, 4, 4]).maxPool2d(kernel: 0) }
        assertTensorError("max_pool2d", mentions: ["[1, 1, 2, 2]"]) { try Tensor.zeros([1, 1, 2, 2]).maxPool2d(kernel: 3) }
        assertTensorError("global_avgpool", mentions: ["[2, 3]"]) { try m23.globalAvgPool() }
    }

    func testReshapeAndPermute() {
        assertTensorError("reshape", mentions: ["[2, 3]", "[4, 2]"]) { try m23.reshaped([4, 2]) }
        assertTensorError("reshape", mentions: ["[2, 3]", "[4, -1]"]) { try m23.reshaped([4, -1]) }
        assertTensorError("reshape", mentions: ["[-1, -1]"]) { try m23.reshaped([-1, -1]) }
        assertTensorError("reshape", mentions: ["[-2, -3]"]) { try m23.reshaped([-2, -3]) }
        assertTensorError("permute", mentions: ["[0, 0]", "[2, 3]"]) { try m23.permuted([0, 0]) }
        assertTensorError("permute", mentions: ["[0, 1, 2]", "[2, 3]"]) { try m23.permuted([0, 1, 2]) }
        assertTensorError("permute", mentions: ["[1, 2]", "[2, 3]"]) { try m23.permuted([1, 2]) }
        assertTensorError("transpose", mentions: ["[3]"]) { try Tensor.zeros([3]).transposed() }
        assertTensorError("transpose", mentions: ["axis 5", "[2, 3]"]) { try m23.transposed(0, 5) }
    }

    func testReductionAxes() {
        assertTensorError("sum", mentions: ["axis 2", "[2, 3]"]) { try m23.sum(axes: [2]) }
        assertTensorError("sum", mentions: ["repeated"]) { try m23.sum(axes: [1, -1]) }
        assertTensorError("mean", mentions: ["axis -3", "[2, 3]"]) { try m23.mean(axes: [-3]) }
        assertTensorError("max", mentions: ["axis 3"]) { try m23.max(axes: [3]) }
        assertTensorError("max", mentions: ["[0]"]) { try Tensor.zeros([0]).max() }
        assertTensorError("var", mentions: ["axis 4"]) { try m23.variance(axes: [4]) }
        assertTensorError("logsumexp", mentions: ["axis 2", "[2, 3]"]) { try m23.logsumexp(axis: 2) }
        assertTensorError("logsumexp", mentions: ["[2, 0]"]) { try Tensor.zeros([2, 0]).logsumexp(axis: 1) }
        assertTensorError("argmax", mentions: ["axis 2"]) { try m23.argmax(axis: 2) }
    }

    func testConcatAndStack() {
        assertTensorError("concat", mentions: ["[2, 3]", "[2, 2]"]) { try Tensor.concat([m23, Tensor.zeros([2, 2])], axis: 0) }
        assertTensorError("concat", mentions: ["[2, 3]", "[3]"]) { try Tensor.concat([m23, Tensor.zeros([3])]) }
        assertTensorError("concat") { try Tensor.concat([]) }
        assertTensorError("stack", mentions: ["[2, 3]", "[3, 2]"]) { try Tensor.stack([m23, Tensor.zeros([3, 2])]) }
        assertTensorError("stack", mentions: ["axis 4"]) { try Tensor.stack([m23, m23], axis: 4) }
        assertTensorError("stack") { try Tensor.stack([]) }
    }

    func testBatchNormBadInputs() {
        let x = Tensor.zeros([4, 3])
        assertTensorError("batch_norm", mentions: ["[2]", "3 channels"]) {
            try x.batchNorm(weight: Tensor.ones([2]), bias: nil, runningMean: nil, runningVar: nil, training: true)
        }
        assertTensorError("batch_norm", mentions: ["running_var", "[4]"]) {
            try x.batchNorm(weight: nil, bias: nil, runningMean: Tensor.zeros([3]), runningVar: Tensor.ones([4]), training: true)
        }
        assertTensorError("batch_norm", mentions: ["[4, 3, 2]"]) {
            try Tensor.zeros([4, 3, 2]).batchNorm(weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true)
        }
        assertTensorError("batch_norm", mentions: ["[1, 3]"]) {
            try Tensor.zeros([1, 3]).batchNorm(weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true)
        }
        assertTensorError("batch_norm", mentions: ["running_mean"]) {
            try x.batchNorm(weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: false)
        }
    }

    func testAutogradBadInputs() throws {
        let x = Tensor([1, 2, 3]).requiringGrad()
        let y = try x * x
        assertTensorError("gradients", mentions: ["[3]", "scalar"]) { try gradients(of: y, wrt: [x]) }
        assertTensorError("gradients", mentions: ["[2]", "[3]"]) { try gradients(of: y, wrt: [x], seed: Tensor([1, 1])) }
        let f = try y.sum()
        assertTensorError("hvp", mentions: ["2 vector parts", "1 parameters"]) { try hvp(f, params: [x], v: [x, x]) }
        assertTensorError("hvp", mentions: ["[2]", "[3]"]) { try hvp(f, params: [x], v: [Tensor([1, 1])]) }
        assertTensorError("innerProduct", mentions: ["[2]", "[3]"]) { try innerProduct([Tensor([1, 1])], [x]) }
        assertTensorError("innerProduct", mentions: ["1 tensors", "2"]) { try innerProduct([x], [x, x]) }
    }

    func testCreationAndMiscBadInputs() {
        assertTensorError("tensor", mentions: ["5 values", "[2, 3]"]) { try Tensor.from([1, 2, 3, 4, 5], shape: [2, 3]) }
        assertTensorError("tensor", mentions: ["[-1, 2]"]) { try Tensor.from([], shape: [-1, 2]) }
        assertTensorError("arange", mentions: ["0"]) { try Tensor.arange(0, 1, step: 0) }
        assertTensorError("clamp", mentions: ["1.0", "-1.0"]) { try m23.clamp(min: 1, max: -1) }
        assertTensorError("assign", mentions: ["[3]", "[2, 3]"]) { try m23.copy().assign(Tensor.zeros([3])) }
        var rng = RandomGenerator(seed: 1)
        assertTensorError("dropout", mentions: ["1.0"]) { try m23.dropout(1, using: &rng) }
        assertTensorError("dropout", mentions: ["-0.5"]) { try m23.dropout(-0.5, using: &rng) }
    }

    func testFromAndArangeGoodInputs() throws {
        XCTAssertEqual(try Tensor.from([1, 2, 3, 4], shape: [2, 2]).shape, [2, 2])
        XCTAssertEqual(try Tensor.arange(0, 1, step: 0.25).scalars, [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(try Tensor.arange(5, 0, step: -2).scalars, [5, 3, 1])
        XCTAssertEqual(try Tensor.arange(0, 0).count, 0)
    }
}
