import Foundation
import XCTest
import NN
import Tensor

// Shared helpers for the NN tests.

/// A fresh directory under the system temp dir, removed when the test case ends.
func makeTempDir(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "losscape-nn-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

/// Fails unless max_i |actual_i − expected_i| ≤ tol · max(1, max_i |expected_i|).
func assertClose(_ actual: [Float], _ expected: [Double], tol: Double, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let scale = max(1, expected.map { abs($0) }.max() ?? 0)
    for i in actual.indices {
        let e = abs(Double(actual[i]) - expected[i])
        if !(e <= tol * scale) {
            XCTFail("\(what): element \(i) is \(actual[i]), expected \(expected[i]) (error \(e), tolerance \(tol * scale))",
                    file: file, line: line)
            return
        }
    }
}

/// Deterministic inputs in [low, high).
func sample(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    Tensor.rand(shape, low: low, high: high, seed: seed)
}

/// Whether `error` is an NNError (for XCTAssertThrowsError bodies).
func nnError(_ error: Error, file: StaticString = #filePath, line: UInt = #line) -> String {
    guard let e = error as? NNError else {
        XCTFail("expected NNError, got \(type(of: error)): \(error)", file: file, line: line)
        return ""
    }
    return e.description
}


