// The language's overhead (issue 5): a scalar loop beside python3, and `fit` from a script beside
// the same training called from Swift.
//   losscape-bench lang
import Data
import Foundation
import Lang
import NN
import Tensor
import Train

/// 10⁶ iterations of arithmetic and a function call.
let scalarLoopLsc = """
fn f(x) { return x * 0.5 + 1 }
s = 0
i = 0
while i < 1000000 {
    s = s + f(i) % 7
    i = i + 1
}
"""

let scalarLoopPython = """
def f(x):
    return x * 0.5 + 1
s = 0
i = 0
while i < 1000000:
    s = s + f(i) % 7
    i = i + 1
"""

func benchLanguage() throws -> [String: Any] {
    let ours = try median(reps: 5) {
        let interp = Interpreter()
        interp.output = { _ in }
        _ = try interp.run(scalarLoopLsc, file: "loop.lsc")
    }
    // python3's own timing of the same loop, start-up excluded.
    let py = Process()
    py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    py.arguments = ["python3", "-c", """
        import time
        src = '''\(scalarLoopPython)'''
        ts = []
        for _ in range(5):
            t = time.perf_counter(); exec(src, {}); ts.append(time.perf_counter() - t)
        print(sorted(ts)[2])
        """]
    let pipe = Pipe()
    py.standardOutput = pipe
    try py.run()
    py.waitUntilExit()
    let pyText = String(data: pipe.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
    let python = Double(pyText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan

    // fit: MLP 784-256-10 on 30,000 Fashion-MNIST images, 3 epochs, from a script and from Swift.
    ProgressReporter.isEnabled = false
    defer { ProgressReporter.isEnabled = true }
    let script = """
        data = fashion_mnist(train: 30000, test: 10)
        x = reshape(data.train.x, [30000, 784])
        d = dataset(x, data.train.y)
        net = mlp([784, 256, 10], seed: 0)
        opt = sgd(net, lr: 0.05, momentum: 0.9)
        t0 = time()
        log = fit(net, d, opt, epochs: 3, batch: 128, seed: 0)
        elapsed = time() - t0
        """
    var fromScript: [Double] = [], fromSwift: [Double] = []
    let raw = try FashionMNIST.load(train: 30000, test: 10)
    let flat = try Dataset(x: raw.train.x.reshaped([30000, 784]), y: raw.train.y)
    for _ in 0..<5 {
        let interp = Interpreter()
        interp.output = { _ in }
        _ = try interp.run(script, file: "fit.lsc")
        if case .number(let t)? = interp.global("elapsed") { fromScript.append(t) }
        let net = try MLP([784, 256, 10], seed: 0)
        let opt = try SGD(net, lr: 0.05, momentum: 0.9)
        fromSwift.append(try seconds { _ = try fit(net, flat, opt, epochs: 3, batch: 128, seed: 0) })
    }
    func med(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    return [
        "scalar_loop": ["losscape_s": round3(ours), "python3_s": round3(python), "ratio": round3(ours / python)],
        "fit_mlp_3_epochs_30k": ["script_s": round3(med(fromScript)), "swift_s": round3(med(fromSwift)),
                                 "script_over_swift": round3(med(fromScript) / med(fromSwift))],
    ]
}
