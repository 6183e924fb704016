import Foundation
import Tensor
import XCTest
@testable import Lang

/// The SimCLR builtins from scripts: the paper's three regimes wired together, which parameters a
/// frozen-encoder classifier exposes to the measures, and Figure 3's pattern (a fresh probe and its
/// RAG every N pre-training epochs, from a user function).
final class ContrastiveBuiltinsTests: XCTestCase {
    private let setup = """
        seed(0)
        x = rand([24, 1, 8, 8], seed: 1)
        d = dataset(x, tensor(range(24)) % 3)
        enc = sequential([conv2d(1, 4, 3, padding: 1, seed: 0), batchnorm2d(4), relu(), global_avgpool()])

        """

    private func run(_ script: String) throws -> Interpreter {
        ProgressReporter.isEnabled = false
        defer { ProgressReporter.isEnabled = true }
        let interp = Interpreter()
        _ = try interp.run(setup + script)
        return interp
    }

    /// A linear probe's classifier: the measures see the head by default (4·3 + 3 = 15 numbers),
    /// everything with wrt: "all"; the encoder given is unchanged; its Hessian is 15×15.
    func testLinearProbeExposesTheHeadToTheMeasures() throws {
        let interp = try run("""
            before = params(enc)
            p = linear_probe(enc, d, epochs: 2, batch: 8, test: d, seed: 0)
            names = param_names(p.model)
            n_trainable = len(params(p.model))
            n_all = len(params(p.model, wrt: "all"))
            unchanged = norm(params(enc) - before) == 0
            eig = hessian_eigs(p.model, d, k: 3, batch: nil)
            eig_all = hessian_eigs(p.model, d, k: 3, batch: nil, wrt: "all")
            r = rag(p.model, d, batch: 8, step: 0.1, seed: 0)
            """)
        XCTAssertEqual(interp.global("names")?.repr, "[\"linear.weight\", \"linear.bias\"]")
        XCTAssertEqual(interp.global("n_trainable")?.repr, "15")
        XCTAssertEqual(interp.global("n_all")?.repr, "63")   // conv 36 + 4, bn 4 + 4, head 15
        XCTAssertEqual(interp.global("unchanged")?.repr, "true")
        guard case .record(let eig) = interp.global("eig"), case .record(let all) = interp.global("eig_all"),
              case .list(let v1) = eig["values"] ?? .null, case .list(let v2) = all["values"] ?? .null,
              case .number(let h1) = eig["hvps"] ?? .null, case .number(let h2) = all["hvps"] ?? .null else {
            return XCTFail("hessian_eigs records")
        }
        XCTAssertEqual(v1.items.count, 3)
        XCTAssertEqual(v2.items.count, 3)
        XCTAssertLessThanOrEqual(h1, 15 + 3, "Lanczos on a 15-dimensional Hessian ends within its dimension")
        XCTAssertGreaterThan(h2, 0)
    }

    /// Figure 3's pattern: every 2 pre-training epochs a user function fine-tunes a fresh head on a
    /// copy of the encoder and records its RAG; pre-training goes on with the encoder trainable.
    func testSimCLRTrackerFineTunesAFreshHeadAndMeasuresRAG() throws {
        let interp = try run("""
            fn probe_rag(encoder, epoch) {
                p = linear_probe(encoder, d, epochs: 1, batch: 8, seed: 0)
                r = rag(p.model, d, batch: 8, seed: 0)
                return {rag: r.rag, acc: p.history.train_acc[-1]}
            }
            log = simclr(enc, d, epochs: 3, batch: 8, seed: 0, track: every(2, probe_rag, name: "rag"), knn: d, knn_k: 5)
            trainable = len(params(enc))
            """)
        guard case .record(let log) = interp.global("log") else { return XCTFail("history record") }
        XCTAssertEqual(log["rag_epoch"]?.repr, "[0, 2, 3]")
        guard case .list(let rag) = log["rag"] ?? .null, case .list(let acc) = log["rag_acc"] ?? .null else {
            return XCTFail("rag columns in \(log.keys)")
        }
        XCTAssertEqual(rag.items.count, 3)
        XCTAssertEqual(acc.items.count, 3)
        XCTAssertEqual(log["knn_acc"].map { if case .list(let l) = $0 { return l.items.count }; return 0 }, 3)
        XCTAssertEqual(interp.global("trainable")?.repr, "48", "the encoder stays trainable")
    }

    func testRandomFeaturesRecalibratesAndFreezesItsEncoder() throws {
        let interp = try run("""
            rf = random_features(d, width: 2, epochs: 1, batch: 8, seed: 3)
            heads = param_names(rf.model)
            mean = state_dict(rf.encoder)["bn1.running_mean"]
            """)
        XCTAssertEqual(interp.global("heads")?.repr, "[\"linear.weight\", \"linear.bias\"]")
        guard case .tensor(let m) = interp.global("mean") else { return XCTFail("running mean") }
        XCTAssertTrue(m.scalars.contains { $0 != 0 }, "BatchNorm statistics recalibrated on the data")
    }

    func testSimCLRRejectsNamedMeasuresAndModelsWithoutFeatureRows() throws {
        XCTAssertThrowsError(try run("simclr(enc, d, epochs: 1, batch: 8, track: every(1, \"rag\"))")) {
            XCTAssertTrue("\($0)".contains("track takes functions"), "\($0)")
        }
        XCTAssertThrowsError(try run("simclr(sequential([relu()]), d, epochs: 1, batch: 8)")) {
            XCTAssertTrue("\($0)".contains("one feature row"), "\($0)")
        }
    }
}
