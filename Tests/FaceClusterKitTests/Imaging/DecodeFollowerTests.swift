@testable import FaceClusterKit
import Foundation
import Synchronization
import Testing

/// ``DecodeFollower``: work on a JPEG's decoded rows while the rest is decoded (the local engine's early tile scan).
@Suite("A decode followed row by row")
struct DecodeFollowerTests {
    /// Records what it is told; copies the rows it is told are final, to compare with the image decoded.
    final class Recorder: DecodeFollower, @unchecked Sendable {
        let width: Int
        private let lock = Mutex<(rows: [Int], copied: [UInt8], ended: [Bool])>(([], [], []))
        init(width: Int) { self.width = width }
        var rows: [Int] { lock.withLock { $0.rows } }
        var copied: [UInt8] { lock.withLock { $0.copied } }
        var ended: [Bool] { lock.withLock { $0.ended } }

        func rowsReady(_ pixels: UnsafePointer<UInt8>, rows: Int) {
            lock.withLock { state in
                state.rows.append(rows)
                state.copied = Array(UnsafeBufferPointer(start: pixels, count: rows * width * 3))
            }
        }

        func decodeEnded(keepsPixels: Bool) { lock.withLock { $0.ended.append(keepsPixels) } }
    }

    static func photo(width: Int, height: Int) -> Data {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in pixels.indices { pixels[index] = UInt8(truncatingIfNeeded: index / 3 &* 31 &+ index % 3 &* 97) }
        return JPEGFactory.jpeg(PixelBuffer(width: width, height: height, pixels: pixels), quality: 90)
    }

    @Test("rows are reported in order, at least every 32, up to the last; each reported row holds its final value",
          arguments: [Int.max, 200_000])
    func rowsInOrder(maximumPixels: Int) throws {
        // 997 × 613 at full size, or at its 1/2 DCT scale (499 × 307).
        let photo = Self.photo(width: 997, height: 613)
        let expected = try #require(try PhotoPixels(photo).jpegScale(maximumPixels: maximumPixels))
        let recorder = Recorder(width: expected.width)
        let image = try PhotoPixels(photo).upright(maximumPixels: maximumPixels, follower: recorder)
        try #require(image.width == expected.width && image.height == expected.height)
        let rows = recorder.rows
        #expect(rows.last == image.height)
        #expect(zip([0] + rows, rows).allSatisfy { $0 < $1 && $1 - $0 <= 32 || $1 == image.height })
        #expect(recorder.copied == image.pixels, "the rows reported were written again after")
        #expect(recorder.ended == [true])
    }

    @Test("a decode that fails ends once, telling the follower the pixels are not kept")
    func failedDecode() throws {
        let photo = Self.photo(width: 640, height: 480)
        let recorder = Recorder(width: 640)
        #expect(throws: ImageError.self) {
            try PhotoPixels(photo.prefix(photo.count * 3 / 5)).upright(maximumPixels: .max, follower: recorder)
        }
        // libjpeg fills the rows the file lacks (so they may all be reported); the follower learns they are not kept.
        #expect(recorder.ended == [false])
    }

    @Test("a photo displayed turned is decoded without its follower: rows are not written top to bottom")
    func turnedPhoto() throws {
        let displayed = PixelBuffer(width: 320, height: 240, pixels: [UInt8](repeating: 90, count: 320 * 240 * 3))
        let recorder = Recorder(width: 240)
        let image = try PhotoPixels(JPEGFactory.jpeg(displayed, orientation: .right)).upright(maximumPixels: .max, follower: recorder)
        #expect(image.width == 320 && image.height == 240)
        #expect(recorder.rows.isEmpty && recorder.ended.isEmpty)
    }
}
