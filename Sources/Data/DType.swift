/// The element types that tensor files store. Every one is read into a Float32 `Tensor`; the
/// original type travels with it (`TensorBundle.dtypes`, `NumpyArray.dtype`) so that a value such as
/// an `I64` `num_batches_tracked` is written back as `I64`.
///
///     DType(safetensors: "BF16")?.byteSize   // 2
public enum DType: String, Sendable, CaseIterable, Equatable {
    case float64, float32, float16, bfloat16
    case int64, int32, int16, int8
    case uint64, uint32, uint16, uint8
    case bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64, .uint64: 8
        case .float32, .int32, .uint32: 4
        case .float16, .bfloat16, .int16, .uint16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// Integer and boolean types (writing them needs whole numbers).
    public var isInteger: Bool {
        switch self {
        case .int64, .int32, .int16, .int8, .uint64, .uint32, .uint16, .uint8, .bool: true
        default: false
        }
    }

    /// The safetensors name (`F32`, `I64`, `BOOL`, …).
    public var safetensorsName: String {
        switch self {
        case .float64: "F64"
        case .float32: "F32"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .int64: "I64"
        case .int32: "I32"
        case .int16: "I16"
        case .int8: "I8"
        case .uint64: "U64"
        case .uint32: "U32"
        case .uint16: "U16"
        case .uint8: "U8"
        case .bool: "BOOL"
        }
    }

    /// From a safetensors dtype name; nil for types this layer does not read (e.g. `F8_E4M3`).
    public init?(safetensors name: String) {
        guard let t = DType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = t
    }

    /// The little-endian NumPy descr (`<f4`, `|u1`, `|b1`, …); nil for bfloat16, which NumPy lacks.
    public var numpyDescr: String? {
        switch self {
        case .float64: "<f8"
        case .float32: "<f4"
        case .float16: "<f2"
        case .bfloat16: nil
        case .int64: "<i8"
        case .int32: "<i4"
        case .int16: "<i2"
        case .int8: "|i1"
        case .uint64: "<u8"
        case .uint32: "<u4"
        case .uint16: "<u2"
        case .uint8: "|u1"
        case .bool: "|b1"
        }
    }

    /// From a NumPy type code and size (`("f", 4)`, `("u", 1)`, `("b", 1)`).
    init?(numpyKind kind: Character, size: Int) {
        switch (kind, size) {
        case ("f", 8): self = .float64
        case ("f", 4): self = .float32
        case ("f", 2): self = .float16
        case ("i", 8): self = .int64
        case ("i", 4): self = .int32
        case ("i", 2): self = .int16
        case ("i", 1): self = .int8
        case ("u", 8): self = .uint64
        case ("u", 4): self = .uint32
        case ("u", 2): self = .uint16
        case ("u", 1): self = .uint8
        case ("b", 1): self = .bool
        default: return nil
        }
    }
}

// MARK: - Conversion between stored bytes and Float32

/// IEEE half → Float (exact).
@inline(__always) func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int(h >> 10) & 0x1f
    let frac = UInt32(h & 0x3ff)
    if exp == 0 {
        // Zero or subnormal: frac × 2⁻²⁴, exact in Float.
        let v = Float(frac) * 0x1p-24
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (frac << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
}

/// Float → IEEE half, rounding to nearest even; overflow goes to ±inf, NaN stays NaN.
@inline(__always) func floatToHalf(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    if f.isNaN { return sign | 0x7e00 }
    let a = abs(f)
    if a >= 65520 { return sign | 0x7c00 }               // rounds past the largest half (65504)
    if a < 0x1p-14 {
        // Subnormal half: a multiple of 2⁻²⁴; Float's rounding of a × 2²⁴ is round-to-nearest-even.
        return sign | UInt16((a * 0x1p24).rounded(.toNearestOrEven))
    }
    let e = Int((a.bitPattern >> 23) & 0xff) - 127 + 15
    let mant = a.bitPattern & 0x7f_ffff
    var h = UInt32(e) << 10 | (mant >> 13)
    let rest = mant & 0x1fff
    if rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1) { h += 1 }   // carries into the exponent correctly
    return sign | UInt16(h)
}

@inline(__always) func bfloat16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// Float → bfloat16, rounding to nearest even (as PyTorch does); NaN stays NaN.
@inline(__always) func floatToBFloat16(_ f: Float) -> UInt16 {
    if f.isNaN { return UInt16(f.bitPattern >> 16) | 0x40 }
    let bits = f.bitPattern
    let rounded = bits &+ 0x7fff &+ ((bits >> 16) & 1)
    return UInt16(rounded >> 16)
}

/// Decodes `count` elements of `dtype` from `src` (little-endian unless `bigEndian`) into `dst`.
/// Integers beyond 2²⁴ round to the nearest Float, as a cast would.
func decodeElements(_ src: UnsafeRawPointer, dtype: DType, count: Int, bigEndian: Bool = false,
                    into dst: UnsafeMutablePointer<Float>) {
    @inline(__always) func u16(_ i: Int) -> UInt16 {
        let v = src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
        return bigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v)
    }
    @inline(__always) func u32(_ i: Int) -> UInt32 {
        let v = src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
    }
    @inline(__always) func u64(_ i: Int) -> UInt64 {
        let v = src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
        return bigEndian ? UInt64(bigEndian: v) : UInt64(littleEndian: v)
    }
    let bytes = src.assumingMemoryBound(to: UInt8.self)
    switch dtype {
    case .float32: for i in 0 ..< count { dst[i] = Float(bitPattern: u32(i)) }
    case .float64: for i in 0 ..< count { dst[i] = Float(Double(bitPattern: u64(i))) }
    case .float16: for i in 0 ..< count { dst[i] = halfToFloat(u16(i)) }
    case .bfloat16: for i in 0 ..< count { dst[i] = bfloat16ToFloat(u16(i)) }
    case .int64: for i in 0 ..< count { dst[i] = Float(Int64(bitPattern: u64(i))) }
    case .int32: for i in 0 ..< count { dst[i] = Float(Int32(bitPattern: u32(i))) }
    case .int16: for i in 0 ..< count { dst[i] = Float(Int16(bitPattern: u16(i))) }
    case .int8: for i in 0 ..< count { dst[i] = Float(Int8(bitPattern: bytes[i])) }
    case .uint64: for i in 0 ..< count { dst[i] = Float(u64(i)) }
    case .uint32: for i in 0 ..< count { dst[i] = Float(u32(i)) }
    case .uint16: for i in 0 ..< count { dst[i] = Float(u16(i)) }
    case .uint8: for i in 0 ..< count { dst[i] = Float(bytes[i]) }
    case .bool: for i in 0 ..< count { dst[i] = bytes[i] != 0 ? 1 : 0 }
    }
}

/// Encodes Float values as little-endian `dtype` bytes, appended to `out`. Integer types take only
/// whole numbers in range (a fractional or out-of-range value is an error, never a silent cast);
/// `bool` takes 0 and 1. `what` names the tensor in the error.
func encodeElements(_ src: UnsafeBufferPointer<Float>, as dtype: DType, into out: inout [UInt8],
                    path: String, what: String) throws {
    func bad(_ v: Float) -> DataError {
        DataError(path, "\(what): value \(v) cannot be stored as \(dtype.safetensorsName) (\(dtype.isInteger ? "not a whole number in range" : "unrepresentable"))")
    }
    let start = out.count
    out.reserveCapacity(start + src.count * dtype.byteSize)
    @inline(__always) func put<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }
    switch dtype {
    case .float32: for v in src { put(v.bitPattern) }
    case .float64: for v in src { put(Double(v).bitPattern) }
    case .float16: for v in src { put(floatToHalf(v)) }
    case .bfloat16: for v in src { put(floatToBFloat16(v)) }
    case .int64: for v in src { guard let i = Int64(exactly: v) else { throw bad(v) }; put(i) }
    case .int32: for v in src { guard let i = Int32(exactly: v) else { throw bad(v) }; put(i) }
    case .int16: for v in src { guard let i = Int16(exactly: v) else { throw bad(v) }; put(i) }
    case .int8: for v in src { guard let i = Int8(exactly: v) else { throw bad(v) }; put(i) }
    case .uint64: for v in src { guard let i = UInt64(exactly: v) else { throw bad(v) }; put(i) }
    case .uint32: for v in src { guard let i = UInt32(exactly: v) else { throw bad(v) }; put(i) }
    case .uint16: for v in src { guard let i = UInt16(exactly: v) else { throw bad(v) }; put(i) }
    case .uint8: for v in src { guard let i = UInt8(exactly: v) else { throw bad(v) }; put(i) }
    case .bool: for v in src { guard v == 0 || v == 1 else { throw bad(v) }; put(UInt8(v == 1 ? 1 : 0)) }
    }
}
