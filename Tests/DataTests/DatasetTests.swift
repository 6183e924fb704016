import XCTest
@testable import Data
import Tensor

/// 10 items of 2 features; item i is (i, −i) with label labels[i].
func toyDataset(labels: [Int] = [0, 1, 2, 0, 1, 2, 0, 1, 0, 0]) throws -> Dataset {
    let n = labels.count
    return try Dataset(x: Tensor((0 ..< n).flatMap { [Float($0), -Float($0)] }, shape: [n, 2]),
                       y: Tensor(labels.map(Float.init)), name: "toy")
}

final class DatasetTests: XCTestCase {
    func testConstructionChecksShapesAndLabels() throws {
        let d = try toyDataset()
        XCTAssertEqual(d.count, 10)
        XCTAssertEqual(d.classCount, 3)
        XCTAssertEqual(d.classCounts, [5, 3, 2])
        XCTAssertEqual(d.itemShape, [2])
        assertDataError(try Dataset(x: Tensor.zeros([3, 2]), y: Tensor([0, 1]), name: "mismatch"), path: "mismatch", "3 items", "2 labels")
        assertDataError(try Dataset(x: Tensor.zeros([2, 2]), y: Tensor([0, 1.5]), name: "frac"), path: "frac", "1.5")
        assertDataError(try Dataset(x: Tensor.zeros([2, 2]), y: Tensor([0, -1]), name: "neg"), path: "neg", "-1")
        assertDataError(try Dataset(x: Tensor.zeros([2]), y: Tensor.zeros([2, 1]), name: "rank"), path: "rank", "1-D")
    }

    func testPrefixSubsetAndSplit() throws {
        let d = try toyDataset()
        let p = try d.prefix(3)
        XCTAssertEqual(p.x.scalars, [0, 0, 1, -1, 2, -2])
        XCTAssertEqual(p.labels, [0, 1, 2])
        let s = try d.subset(indices: [9, 2, 2])
        XCTAssertEqual(s.x.scalars, [9, -9, 2, -2, 2, -2])
        XCTAssertEqual(s.y.scalars, [0, 2, 2])
        let (a, b) = try d.split(at: 7)
        XCTAssertEqual([a.count, b.count], [7, 3])
        XCTAssertEqual(b.x.scalars.first, 7)
        assertDataError(try d.prefix(11), path: "toy", "11")
        assertDataError(try d.subset(indices: [10]), path: "toy", "index 10")
        assertDataError(try d.subset(indices: [-1]), path: "toy", "index -1")
    }

    func testRandomSubsetsAreSeededAndInDataOrder() throws {
        let d = try toyDataset()
        let a = try d.randomSubset(4, seed: 9), b = try d.randomSubset(4, seed: 9)
        XCTAssertEqual(a.x.scalars, b.x.scalars)
        let firsts = stride(from: 0, to: 8, by: 2).map { a.x.scalars[$0] }
        XCTAssertEqual(firsts, firsts.sorted())
        XCTAssertEqual(Set(firsts).count, 4)
        let others = (0 ..< 20).map { try? d.randomSubset(4, seed: UInt64($0)).x.scalars }
        XCTAssertGreaterThan(Set(others.compactMap { $0 }).count, 5)
        // The generator form advances the generator the same way as the seed form.
        var rng = RandomGenerator(seed: 9)
        XCTAssertEqual(try d.randomSubset(4, using: &rng).x.scalars, a.x.scalars)
    }

    func testStratifiedSubsetBalancesClasses() throws {
        let d = try toyDataset()   // class sizes 5, 3, 2
        XCTAssertEqual(try d.stratifiedSubset(6).classCounts, [2, 2, 2])
        XCTAssertEqual(try d.stratifiedSubset(7).classCounts, [3, 2, 2])   // the extra one to the lowest label
        XCTAssertEqual(try d.stratifiedSubset(9).classCounts, [4, 3, 2])   // class 2 runs out; the rest share
        XCTAssertEqual(try d.stratifiedSubset(10).classCounts, [5, 3, 2])
        XCTAssertEqual(try d.stratifiedSubset(2).classCounts, [1, 1])
        XCTAssertEqual(try d.stratifiedSubset(6).x.scalars.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
                       [0, 1, 2, 3, 4, 5])   // without a seed: each class's first items, in data order
        let s1 = try d.stratifiedSubset(6, seed: 5), s2 = try d.stratifiedSubset(6, seed: 5)
        XCTAssertEqual(s1.x.scalars, s2.x.scalars)
        XCTAssertEqual(s1.classCounts, [2, 2, 2])
        let blobs = try Dataset.blobs(count: 1000, classes: 10, seed: 1)
        XCTAssertEqual(try blobs.stratifiedSubset(105, seed: 2).classCounts, [11, 11, 11, 11, 11, 10, 10, 10, 10, 10])
    }

    func testShuffleIsAPermutationAndDeterministic() throws {
        let d = try toyDataset()
        let s = d.shuffled(seed: 4)
        XCTAssertEqual(s.x.scalars, d.shuffled(seed: 4).x.scalars)
        XCTAssertNotEqual(s.x.scalars, d.x.scalars)
        let firsts = stride(from: 0, to: 20, by: 2).map { Int(s.x.scalars[$0]) }
        XCTAssertEqual(firsts.sorted(), Array(0 ..< 10))
        XCTAssertEqual(s.labels, firsts.map { d.labels[$0] })   // labels travel with their rows
    }

    func testBatchingKeepsTheLastSmallerBatch() throws {
        let d = try toyDataset()
        let bs = try d.batches(size: 4)
        XCTAssertEqual(bs.count, 3)
        XCTAssertEqual(bs.map(\.count), [4, 4, 2])
        XCTAssertEqual(bs[0].x.shape, [4, 2])
        XCTAssertEqual(bs[2].x.scalars, [8, -8, 9, -9])
        XCTAssertEqual(bs[2].y.scalars, [0, 0])
        XCTAssertEqual(bs.flatMap(\.indices), Array(0 ..< 10))
        let dropped = try d.batches(size: 4, dropLast: true)
        XCTAssertEqual(dropped.map(\.count), [4, 4])
        XCTAssertEqual(try d.batches(size: 5, dropLast: true).count, 2)
        XCTAssertEqual(try d.batches(size: 20).map(\.count), [10])
        XCTAssertEqual(try d.batches(size: 20, dropLast: true).count, 0)
        assertDataError(try d.batches(size: 0), path: "toy", "batch size")
    }

    func testShuffledBatchesFollowTheGenerator() throws {
        let d = try toyDataset()
        var r1 = RandomGenerator(seed: 3), r2 = RandomGenerator(seed: 3)
        let a = try d.batches(size: 3, shuffle: &r1), b = try d.batches(size: 3, shuffle: &r2)
        XCTAssertEqual(a.flatMap(\.indices), b.flatMap(\.indices))
        XCTAssertEqual(a.flatMap(\.indices).sorted(), Array(0 ..< 10))
        XCTAssertNotEqual(a.flatMap(\.indices), Array(0 ..< 10))
        var r3 = RandomGenerator(seed: 3)
        XCTAssertEqual(a.flatMap(\.indices), r3.permutation(10))
        // The generator advanced: the next epoch's order differs.
        let next = try d.batches(size: 3, shuffle: &r1)
        XCTAssertNotEqual(next.flatMap(\.indices), a.flatMap(\.indices))
        for batch in a {
            XCTAssertEqual(batch.y.scalars, batch.indices.map { Float(d.labels[$0]) })
            XCTAssertEqual(batch.x.scalars, batch.indices.flatMap { [Float($0), -Float($0)] })
        }
    }

    func testPerChannelNormalization() throws {
        // 2 items × 2 channels × 2 pixels: channel 0 holds 1, 3, 5, 7; channel 1 is constant 4.
        let x = Tensor([1, 3, 4, 4, 5, 7, 4, 4], shape: [2, 2, 1, 2])
        let d = try Dataset(x: x, y: Tensor([0, 1]), name: "img")
        let s = d.channelStats()
        XCTAssertEqual(s.mean, [4, 4])
        XCTAssertEqual(s.std[0], Float(5).squareRoot(), accuracy: 1e-6)   // population std of 1, 3, 5, 7
        XCTAssertEqual(s.std[1], 0)
        let z = try d.normalized()
        let v = z.x.scalars
        XCTAssertEqual(v[0], -3 / Float(5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(v[2], 0)   // a constant channel is only centred
        XCTAssertEqual(z.normalization, s)
        let zs = z.channelStats()
        XCTAssertEqual(zs.mean[0], 0, accuracy: 1e-6)
        XCTAssertEqual(zs.std[0], 1, accuracy: 1e-6)
        assertDataError(try d.normalized(with: ChannelStats(mean: [0], std: [1])), path: "img", "channels")
        // N×D data: each feature is a channel.
        let f = try toyDataset().channelStats()
        XCTAssertEqual(f.mean, [4.5, -4.5])
    }

    func testSyntheticSetsAreSeeded() throws {
        let b1 = try Dataset.blobs(count: 90, classes: 3, dimensions: 4, seed: 7)
        XCTAssertEqual(b1.x.shape, [90, 4])
        XCTAssertEqual(b1.classCounts, [30, 30, 30])
        XCTAssertEqual(b1.x.scalars, try Dataset.blobs(count: 90, classes: 3, dimensions: 4, seed: 7).x.scalars)
        XCTAssertNotEqual(b1.x.scalars, try Dataset.blobs(count: 90, classes: 3, dimensions: 4, seed: 8).x.scalars)
        // Points sit nearer their own class mean than the other classes' (separation 5 ≫ spread 1 here).
        let v = b1.x.scalars
        var means = [[Float]](repeating: [0, 0, 0, 0], count: 3)
        for i in 0 ..< 90 { for j in 0 ..< 4 { means[b1.labels[i]][j] += v[i * 4 + j] / 30 } }
        var correct = 0
        for i in 0 ..< 90 {
            let dists = means.map { m in (0 ..< 4).reduce(Float(0)) { $0 + (v[i * 4 + $1] - m[$1]) * (v[i * 4 + $1] - m[$1]) } }
            if dists.firstIndex(of: dists.min()!) == b1.labels[i] { correct += 1 }
        }
        XCTAssertGreaterThan(correct, 80)

        let s = try Dataset.spirals(count: 301, arms: 3, seed: 1)
        XCTAssertEqual(s.x.shape, [301, 2])
        XCTAssertEqual(s.classCounts, [101, 100, 100])
        XCTAssertEqual(s.x.scalars, try Dataset.spirals(count: 301, arms: 3, seed: 1).x.scalars)
        let xy = s.x.scalars
        let radii: [Float] = (0 ..< 301).map { i in
            let a: Float = xy[2 * i], b: Float = xy[2 * i + 1]
            return (a * a + b * b).squareRoot()
        }
        XCTAssertLessThan(radii.max()!, 1.3)
        let two = try Dataset.spirals(count: 10, noise: 0, seed: 0)
        XCTAssertEqual(two.labels, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
        // Arms are point-symmetric: with two arms and no noise, item 2k+1 is item 2k rotated by π.
        XCTAssertEqual(two.x.scalars[2], -two.x.scalars[0], accuracy: 1e-5)
        XCTAssertEqual(two.x.scalars[3], -two.x.scalars[1], accuracy: 1e-5)
        assertDataError(try Dataset.blobs(count: 10, classes: 0, seed: 0), path: "blobs")
    }
}
