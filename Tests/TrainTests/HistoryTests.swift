import XCTest
import Tensor
@testable import Train

final class HistoryTests: XCTestCase {
    func testJSONRoundTripIsBitExact() throws {
        var h = History(columns: ["epoch", "lr", "train_loss", "rag", "rag_epoch"])
        var rng = RandomGenerator(seed: 42)
        var specials: [Double] = [0.1 + 0.2, 1.0 / 3, .leastNonzeroMagnitude, -0.0, .infinity, -.infinity, .nan, 1e300, 123456789.125]
        for _ in 0..<50 { specials.append(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)) }
        for (i, x) in specials.enumerated() {
            try h.append(.number(Double(i + 1)), to: "epoch")
            try h.append(.number(x), to: "lr")
            try h.append(.number(-x), to: "train_loss")
        }
        try h.append(TrackedValue([("rag", 0.1), ("loss_adv", .nan), ("loss", 1.0 / 7)]), to: "rag")
        try h.append(0, to: "rag_epoch")
        let back = try History(json: try h.json(), source: "test")
        XCTAssertEqual(back, h)
        XCTAssertEqual(back.numbers("lr")!.map(\.bitPattern), specials.map(\.bitPattern))
    }

    func testRecordColumnsReadAsFieldLists() throws {
        var h = History(columns: ["epoch", "m", "m_epoch"])
        try h.append(TrackedValue(["a": 1, "b": 2]), to: "m")
        try h.append(TrackedValue(["a": 3, "b": 4]), to: "m")
        XCTAssertEqual(h.fields(of: "m"), ["a", "b"])
        XCTAssertEqual(h.field("m", "a"), [1, 3])
        XCTAssertEqual(h.field("m", "b"), [2, 4])
        XCTAssertNil(h.field("m", "c"))
        XCTAssertNil(h.numbers("m"))
        XCTAssertEqual(h.flattened.map(\.name), ["epoch", "m_a", "m_b", "m_epoch"])
        XCTAssertEqual(h["m"]?.last?["b"], 4)
        XCTAssertEqual(h["m"]?.first?.description, "{a: 1, b: 2}")
    }

    func testAColumnHoldsOneKindOfValue() throws {
        var h = History(columns: ["m"])
        try h.append(TrackedValue(["a": 1]), to: "m")
        XCTAssertThrowsError(try h.append(2, to: "m"))
        XCTAssertThrowsError(try h.append(TrackedValue(["b": 1]), to: "m"))
        XCTAssertThrowsError(try h.append(1, to: "nope")) { XCTAssertTrue("\($0)".contains("no column 'nope'")) }
        XCTAssertThrowsError(try h.append(.record(fields: ["a", "a"], values: [1, 2]), to: "m"))
    }

    func testEqualityIsBitwiseAndPrintingShowsATable() throws {
        var a = History(columns: ["epoch", "train_loss", "x", "x_epoch"])
        try a.append(1, to: "epoch"); try a.append(.number(.nan), to: "train_loss")
        try a.append(0.5, to: "x"); try a.append(0, to: "x_epoch")
        var b = a
        XCTAssertEqual(a, b)
        try b.append(2, to: "epoch")
        XCTAssertNotEqual(a, b)
        let text = a.description
        XCTAssertTrue(text.hasPrefix("epoch  train_loss"), text)
        XCTAssertTrue(text.contains("x: [0] 0.5"), text)
    }
}
