import Foundation
import XCTest
@testable import Lang

/// The README's builtin reference is generated from the registry (`scripts/builtins-reference`);
/// this fails when a builtin changed and the README was not regenerated, so the two cannot drift.
final class ReadmeReferenceTests: XCTestCase {
    func testReadmeReferenceMatchesRegistry() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let begin = try XCTUnwrap(text.range(of: "<!-- builtins:begin -->\n"), "README.md lacks the builtins:begin marker")
        let end = try XCTUnwrap(text.range(of: "<!-- builtins:end -->"), "README.md lacks the builtins:end marker")
        let inReadme = String(text[begin.upperBound..<end.lowerBound]).trimmingCharacters(in: .newlines)
        let generated = Builtins.standard().markdown().trimmingCharacters(in: .newlines)
        XCTAssertTrue(inReadme == generated,
                      "README.md's builtin reference is out of date: run scripts/builtins-reference")
    }
}
