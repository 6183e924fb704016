import XCTest
@testable import Tensor

final class SmokeTests: XCTestCase {
    func testSumOfSquaresAndGradient() throws {
        let x = Tensor([1, 2, 3, 4], shape: [2, 2]).requiringGrad()
        let y = try (x * x).sum()
        XCTAssertEqual(try y.item(), 30)
        let g = try gradients(of: y, wrt: [x])[0]
        XCTAssertEqual(g.scalars, [2, 4, 6, 8])
    }
}
