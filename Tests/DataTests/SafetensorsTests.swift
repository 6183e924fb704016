import XCTest
@testable import Data
import Tensor

/// A safetensors file from its definition: u64 LE header length, the JSON text, the data.
func handMadeSafetensors(_ json: String, _ data: [UInt8]) -> [UInt8] {
    let header = ascii(json)
    return le64(UInt64(header.count)) + header + data
}

final class SafetensorsTests: XCTestCase {
    func testReadsEveryDtypePyTorchWrites() throws {
        let dir = try makeTempDir(self)
        var data: [UInt8] = []
        var entries: [String] = []
        func add(_ name: String, _ dtype: String, _ shape: [Int], _ bytes: [UInt8]) {
            entries.append("\"\(name)\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": [\(data.count), \(data.count + bytes.count)]}")
            data += bytes
        }
        add("f64", "F64", [2], f64LE([1.5, -2]))
        add("f32", "F32", [2, 2], f32LE([1, 2, 3, 0.5]))
        add("i64", "I64", [], i64LE([12345]))
        add("i32", "I32", [3], i32LE([-1, 0, 70000]))
        add("f16", "F16", [2], [0x00, 0x3c, 0x00, 0xb8])          // 1.0, −0.5
        add("bf16", "BF16", [2], [0x80, 0x3f, 0x40, 0xc0])        // 0x3f80 = 1.0, 0xc040 = −3.0
        add("u8", "U8", [3], [0, 128, 255])
        add("flag", "BOOL", [2], [1, 0])
        add("empty", "F32", [0, 4], [])
        let json = "{\"__metadata__\": {\"format\": \"pt\"}, " + entries.joined(separator: ", ") + "}"
        try writeBytes(handMadeSafetensors(json, data), dir + "/m.safetensors")
        let m = try Safetensors.read(dir + "/m.safetensors")
        XCTAssertEqual(m.metadata, ["format": "pt"])
        XCTAssertEqual(m.names, ["f64", "f32", "i64", "i32", "f16", "bf16", "u8", "flag", "empty"])
        XCTAssertEqual(m["f64"]?.scalars, [1.5, -2])
        XCTAssertEqual(m["f32"]?.shape, [2, 2])
        XCTAssertEqual(m["f32"]?.scalars, [1, 2, 3, 0.5])
        XCTAssertEqual(m["i64"]?.shape, [])
        XCTAssertEqual(m["i64"]?.scalars, [12345])
        XCTAssertEqual(m["i32"]?.scalars, [-1, 0, 70000])
        XCTAssertEqual(m["f16"]?.scalars, [1, -0.5])
        XCTAssertEqual(m["bf16"]?.scalars, [1, -3])
        XCTAssertEqual(m["u8"]?.scalars, [0, 128, 255])
        XCTAssertEqual(m["flag"]?.scalars, [1, 0])
        XCTAssertEqual(m["empty"]?.shape, [0, 4])
        XCTAssertEqual(m.dtypes["i64"], .int64)
        XCTAssertEqual(m.dtypes["bf16"], .bfloat16)
        XCTAssertEqual(m.dtypes["flag"], .bool)
    }

    func testWriterLayoutFollowsTheFormat() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/w.safetensors"
        try Safetensors.write(["b.weight": Tensor([1, 2], shape: [1, 2]), "a.num_batches_tracked": Tensor(scalar: 5)],
                              to: path, dtypes: ["a.num_batches_tracked": .int64], metadata: ["format": "pt"])
        let bytes = try readBytes(path)
        let n = Int(bytes[0 ..< 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(bytes.count, 8 + n + 8 + 8)
        let header = String(decoding: bytes[8 ..< 8 + n], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces),
                       "{\"__metadata__\":{\"format\":\"pt\"},"
                       + "\"a.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                       + "\"b.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[8,16]}}")
        XCTAssertTrue(header.hasSuffix(" ") || header.utf8.count % 8 == 0)
        XCTAssertEqual(Array(bytes[(8 + n)...]), i64LE([5]) + f32LE([1, 2]))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertEqual(leftovers, ["w.safetensors"])   // the temporary file was renamed away
    }

    func testRoundTripKeepsDtypes() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/rt.safetensors"
        var bundle = TensorBundle(["conv1.weight": Tensor.randn([4, 3, 3, 3], seed: 1),
                                   "bn1.num_batches_tracked": Tensor(scalar: 391),
                                   "h": Tensor([1, -0.5, 65504]), "bf": Tensor([1, 0.5, -256])],
                                  dtypes: ["bn1.num_batches_tracked": .int64, "h": .float16, "bf": .bfloat16],
                                  metadata: ["format": "pt", "note": "quote \" and \\ and é"])
        try Safetensors.write(bundle, to: path)
        let back = try Safetensors.read(path)
        XCTAssertEqual(Set(back.names), Set(bundle.names))
        for name in bundle.names {
            XCTAssertEqual(back[name]?.scalars, bundle[name]?.scalars, name)
            XCTAssertEqual(back[name]?.shape, bundle[name]?.shape, name)
            XCTAssertEqual(back.dtype(of: name), bundle.dtype(of: name), name)
        }
        XCTAssertEqual(back.metadata, bundle.metadata)
        // Read, change, write back: the I64 stays I64.
        bundle = back
        bundle.set("conv1.weight", Tensor.zeros([4, 3, 3, 3]))
        try Safetensors.write(bundle, to: path)
        XCTAssertEqual(try Safetensors.read(path).dtypes["bn1.num_batches_tracked"], .int64)
        assertDataError(try Safetensors.write(["n": Tensor([1.5])], to: path, dtypes: ["n": .int64]), path: path, "tensor 'n'", "1.5")
        assertDataError(try Safetensors.write(["__metadata__": Tensor([1])], to: path), path: path, "reserved")
    }

    func testMalformedFilesNameTheFileAndTensor() throws {
        let dir = try makeTempDir(self)
        func check(_ bytes: [UInt8], _ words: String...) throws {
            let path = dir + "/bad\(UUID().uuidString.prefix(6)).safetensors"
            try writeBytes(bytes, path)
            do { _ = try Safetensors.read(path); XCTFail("\(words) accepted") } catch let e as DataError {
                XCTAssertEqual(e.path, path)
                for w in words { XCTAssertTrue(e.message.contains(w), "\(e) lacks \(w)") }
            }
        }
        let data = f32LE([1, 2, 3, 4])
        func one(_ entry: String) -> String { "{\"w\": {\(entry)}}" }
        try check([1, 2, 3], "truncated")
        try check(le64(1_000_000) + ascii("{}"), "header length 1000000")
        try check(handMadeSafetensors("{\"w\": ", data), "not valid JSON")
        try check(handMadeSafetensors("[1, 2]", data), "expected a JSON object")
        try check(handMadeSafetensors(one("\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 20]"), data), "'w'", "out of range")
        try check(handMadeSafetensors(one("\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 4]"), data), "'w'", "out of range")
        try check(handMadeSafetensors(one("\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]"), data), "'w'", "shape [3]")
        try check(handMadeSafetensors(one("\"dtype\": \"F8_E4M3\", \"shape\": [16], \"data_offsets\": [0, 16]"), data), "'w'", "unsupported dtype", "F8_E4M3")
        try check(handMadeSafetensors(one("\"dtype\": 5, \"shape\": [4], \"data_offsets\": [0, 16]"), data), "'w'", "dtype")
        try check(handMadeSafetensors(one("\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]"), data), "'w'", "shape")
        try check(handMadeSafetensors(one("\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0]"), data), "'w'", "data_offsets")
        try check(handMadeSafetensors("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                                      + "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", data), "'b'", "overlap", "'a'")
        try check(handMadeSafetensors("{\"__metadata__\": {\"epochs\": 3}}", data), "__metadata__")
        try check(handMadeSafetensors("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
                                      + "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", data), "twice")
        try check(handMadeSafetensors(one("\"dtype\": \"F32\", \"shape\": [99999999999, 99999999999, 9999999999], \"data_offsets\": [0, 16]"), data), "'w'")
        assertDataError(try Safetensors.read(dir + "/none.safetensors"), path: "none.safetensors", "No such file")
    }
}
