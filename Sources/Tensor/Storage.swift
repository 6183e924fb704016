/// A 64-byte aligned Float32 buffer. Tensors that are views of each other (reshape) share one.
final class Storage: @unchecked Sendable {
    let ptr: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        ptr = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(zeros count: Int) {
        self.init(count: count)
        ptr.initialize(repeating: 0, count: count)
    }

    deinit { UnsafeMutableRawPointer(ptr).deallocate() }
}
