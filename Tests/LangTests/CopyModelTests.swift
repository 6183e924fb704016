import Tensor
import XCTest
@testable import Lang

/// `copy(model)`: a new model with the same values, flags and mode, trained independently.
final class CopyModelTests: XCTestCase {
    private func tensor(_ interp: Interpreter, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        guard case .tensor(let t)? = interp.global(name) else {
            XCTFail("\(name) is not a tensor", file: file, line: line)
            return []
        }
        return t.scalars
    }

    func testCopyOfAModelIsIndependentWithEqualOutputs() throws {
        let interp = Interpreter()
        var out = ""
        interp.output = { out += $0 }
        try interp.run("""
            d = blobs(60, classes: 3, seed: 0)
            net = mlp([2, 8, 3], seed: 0)
            freeze(net, "fc1")
            eval_mode(net)
            snap = copy(net)
            print(type(snap), snap == net, snap.training, snap.trainable_params == net.trainable_params)
            y0 = net(d.x)
            y1 = snap(d.x)
            p0 = params(snap)
            fit(net, d, sgd(net, lr: 0.5), epochs: 1, batch: 16, seed: 0)
            p1 = params(snap)
            moved = params(net)
            y2 = snap(d.x)
            both = copy([net, net])
            print(both[0] == both[1], both[0] == net)
            """)
        XCTAssertEqual(out, "model false false true\ntrue false\n")
        XCTAssertEqual(tensor(interp, "y0"), tensor(interp, "y1"))
        XCTAssertEqual(tensor(interp, "y1"), tensor(interp, "y2"))
        XCTAssertEqual(tensor(interp, "p0"), tensor(interp, "p1"))
        XCTAssertNotEqual(tensor(interp, "p0"), tensor(interp, "moved"))
    }
}
