import Foundation

/// The history as JSON, for a checkpoint's metadata (and for anyone who wants it as text):
/// `{"columns": [{"name": "epoch", "values": [1, 2]}, {"name": "rag", "values": [{"fields": […],
/// "values": […]}]}, …]}`. Numbers are written in the shortest form that reads back to the same
/// Double, so a resumed history is bit-identical; NaN and ±Inf are the strings "nan", "inf", "-inf"
/// (a NaN's sign and payload are not kept).
extension History {
    /// The JSON text.
    ///
    ///     let text = try log.json()
    public func json() throws -> String {
        let doc = Doc(columns: columnNames.map { Doc.Column(name: $0, values: (self[$0] ?? []).map(Doc.Value.init)) })
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(doc)
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads JSON written by `json()`; `source` names where it came from in errors.
    ///
    ///     let h = try History(json: text, source: "run/epoch-0002.safetensors")
    public init(json text: String, source: String = "history") throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let doc: Doc
        do {
            doc = try decoder.decode(Doc.self, from: Data(text.utf8))
        } catch {
            throw TrainError(source, "the history is not valid JSON of a Losscape history (\(error))")
        }
        self.init(columns: doc.columns.map(\.name))
        guard columnNames.count == doc.columns.count else {
            throw TrainError(source, "the history names a column twice")
        }
        for c in doc.columns {
            for v in c.values {
                do { try append(v.value, to: c.name) } catch let e as TrainError {
                    throw TrainError(source, "bad history: \(e.message)")
                }
            }
        }
    }

    private struct Doc: Codable {
        struct Column: Codable {
            var name: String
            var values: [Value]
        }

        struct Value: Codable {
            var value: TrackedValue
            init(_ v: TrackedValue) { value = v }

            private enum Keys: String, CodingKey { case fields, values }

            init(from decoder: Decoder) throws {
                if let single = try? decoder.singleValueContainer(), let x = try? single.decode(Double.self) {
                    value = .number(x)
                    return
                }
                let c = try decoder.container(keyedBy: Keys.self)
                value = .record(fields: try c.decode([String].self, forKey: .fields),
                                values: try c.decode([Double].self, forKey: .values))
            }

            func encode(to encoder: Encoder) throws {
                switch value {
                case .number(let x):
                    var c = encoder.singleValueContainer()
                    try c.encode(x)
                case .record(let f, let v):
                    var c = encoder.container(keyedBy: Keys.self)
                    try c.encode(f, forKey: .fields)
                    try c.encode(v, forKey: .values)
                }
            }
        }

        var columns: [Column]
    }
}
