import Foundation

/// Rounding of plain numbers.
@Sendable func registerMath(_ r: BuiltinRegistry) {
    let topic = "math"
    r.register("floor", topic: topic, params: [.required("x", .number)], returns: "number",
               doc: "The largest whole number ≤ x.", example: "floor(-2.5)") { a in .number((try a.number("x")).rounded(.down)) }
    r.register("ceil", topic: topic, params: [.required("x", .number)], returns: "number",
               doc: "The smallest whole number ≥ x.", example: "ceil(2.1)") { a in .number((try a.number("x")).rounded(.up)) }
    r.register("round", topic: topic, params: [.required("x", .number), .optional("digits", .int, default: 0, "decimal places")],
               returns: "number", doc: "x rounded to digits decimal places (halves away from zero).",
               example: "round(3.14159, digits: 2)") { a in
        let x = try a.number("x"), d = try a.int("digits")
        guard d >= -300 && d <= 300 else { throw LangError.usage("round: digits must be between -300 and 300") }
        let scale = Foundation.pow(10.0, Double(d))
        let scaled = (x * scale).rounded(.toNearestOrAwayFromZero) / scale
        return .number(scaled.isFinite ? scaled : x)
    }
    r.register("isnan", topic: topic, params: [.required("x", .number)], returns: "bool",
               doc: "Whether x is not a number (0/0).", example: "isnan(0 / 0)") { a in .bool((try a.number("x")).isNaN) }
}
