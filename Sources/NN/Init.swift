import Foundation
import Tensor

/// PyTorch's default initializers (`torch.nn.init`), drawing from a `RandomGenerator` so a seed
/// gives the same model on every run. The stream differs from PyTorch's (another generator), the
/// distributions are the same.
///
///     let w = Init.kaimingUniform([256, 784], a: 5.0.squareRoot(), using: &rng)
public enum Init {
    /// fan_in of a weight as PyTorch computes it: shape[1] × the receptive field (∏ shape[2...]).
    /// For a 1-D tensor, its length.
    ///
    ///     Init.fanIn([64, 3, 3, 3])   // 27
    public static func fanIn(_ shape: [Int]) -> Int {
        guard shape.count >= 2 else { return shape.first ?? 1 }
        return shape[1] * shape[2...].reduce(1, *)
    }

    /// U(low, high) entries.
    ///
    ///     let b = Init.uniform([10], low: -0.1, high: 0.1, using: &rng)
    public static func uniform(_ shape: [Int], low: Double, high: Double, using rng: inout RandomGenerator) -> Tensor {
        let t = Tensor.zeros(shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = Float(low + (high - low) * rng.uniformDouble()) }
        }
        return t
    }

    /// The bound b of `kaiming_uniform_(w, a, mode="fan_in", nonlinearity="leaky_relu")`:
    /// gain = √(2 / (1 + a²)), b = gain · √(3 / fan_in). With a = √5 (PyTorch's default for Linear
    /// and Conv2d weights), b = 1/√fan_in.
    ///
    ///     Init.kaimingUniformBound(fanIn: 784, a: 5.0.squareRoot())   // 1/28
    public static func kaimingUniformBound(fanIn: Int, a: Double) -> Double {
        // PyTorch's order of operations: gain, std = gain/√fan_in, bound = √3·std.
        let gain = (2 / (1 + a * a)).squareRoot()
        let std = gain / Double(max(fanIn, 1)).squareRoot()
        return 3.0.squareRoot() * std
    }

    /// `kaiming_uniform_` with mode fan_in and the leaky-ReLU gain for slope `a`: U(−b, b).
    ///
    ///     let w = Init.kaimingUniform([64, 3, 3, 3], a: 5.0.squareRoot(), using: &rng)
    public static func kaimingUniform(_ shape: [Int], a: Double, using rng: inout RandomGenerator) -> Tensor {
        let b = kaimingUniformBound(fanIn: fanIn(shape), a: a)
        return uniform(shape, low: -b, high: b, using: &rng)
    }

    /// PyTorch's default for a Linear or Conv2d layer: the weight by `kaiming_uniform_(a=√5)`,
    /// then (when wanted) the bias from U(−1/√fan_in, 1/√fan_in), drawn in that order.
    ///
    ///     let (w, b) = Init.pytorchDefault(weightShape: [10, 784], bias: true, using: &rng)
    public static func pytorchDefault(weightShape: [Int], bias: Bool,
                                      using rng: inout RandomGenerator) -> (weight: Tensor, bias: Tensor?) {
        let w = kaimingUniform(weightShape, a: 5.0.squareRoot(), using: &rng)
        guard bias else { return (w, nil) }
        let fan = fanIn(weightShape)
        let b = fan > 0 ? 1 / Double(fan).squareRoot() : 0
        return (w, uniform([weightShape[0]], low: -b, high: b, using: &rng))
    }
}
