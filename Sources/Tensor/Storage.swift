import Foundation

/// A 64-byte aligned Float32 buffer. Tensors that are views of each other (reshape) share one.
final class Storage: @unchecked Sendable {
    let ptr: UnsafeMutablePointer<Float>
    let count: Int
    private let bytes: Int

    init(count: Int) {
        self.count = count
        bytes = BufferCache.roundedSize(Swift.max(count, 1) * MemoryLayout<Float>.stride)
        ptr = BufferCache.take(bytes).bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    }

    convenience init(zeros count: Int) {
        self.init(count: count)
        ptr.initialize(repeating: 0, count: count)
    }

    deinit { BufferCache.give(UnsafeMutableRawPointer(ptr), bytes) }
}

/// Recycles large buffers. A training step allocates the same sizes every time; fresh pages from
/// the kernel cost a page fault and a zeroing each (measured: 8 % of an HVP), so freed buffers of
/// 64 KiB and more wait here for the next request of the same rounded size, up to `limit` bytes
/// (an eighth of physical memory, at least 1 GiB: a width-64 ResNet-18 step at batch 128 frees
/// more than 1 GiB of activations, and refilling them from the kernel showed up as page faults).
enum BufferCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cached = 0
    nonisolated(unsafe) static var limit = Swift.max(1 << 30, Int(ProcessInfo.processInfo.physicalMemory / 8))
    private static let minimum = 1 << 16

    static func roundedSize(_ bytes: Int) -> Int {
        bytes < minimum ? bytes : (bytes + 4095) & ~4095
    }

    static func take(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= minimum {
            lock.lock()
            if let p = free[bytes]?.popLast() {
                cached -= bytes
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    }

    static func give(_ p: UnsafeMutableRawPointer, _ bytes: Int) {
        if bytes >= minimum {
            lock.lock()
            if cached + bytes <= limit {
                free[bytes, default: []].append(p)
                cached += bytes
                lock.unlock()
                return
            }
            lock.unlock()
        }
        p.deallocate()
    }

    /// Returns every cached buffer to the system.
    static func purge() {
        lock.lock()
        defer { lock.unlock() }
        for (_, ps) in free { ps.forEach { $0.deallocate() } }
        free = [:]
        cached = 0
    }
}
