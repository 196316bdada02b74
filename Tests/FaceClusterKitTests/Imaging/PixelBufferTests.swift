@testable import FaceClusterKit
import Testing

@Suite("Resampling a region of pixels")
struct PixelBufferTests {
    /// Every output pixel as the weighted sum of the source pixels its row and column taps read, in doubles:
    /// what the two-pass, block-by-block, vectorised resampler must give, within rounding.
    static func reference(_ buffer: PixelBuffer, _ rect: (x: Double, y: Double, width: Double, height: Double), _ width: Int, _ height: Int) -> [UInt8] {
        let columns = PixelBuffer.weights(from: rect.x, length: rect.width, into: width, limit: buffer.width)
        let rows = PixelBuffer.weights(from: rect.y, length: rect.height, into: height, limit: buffer.height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<3 {
                    var sum = 0.0
                    for row in rows[y] {
                        for column in columns[x] {
                            sum += Double(row.weight) * Double(column.weight) * Double(buffer.pixels[(row.index * buffer.width + column.index) * 3 + channel])
                        }
                    }
                    out[(y * width + x) * 3 + channel] = UInt8(min(max(sum, 0), 255).rounded())
                }
            }
        }
        return out
    }

    @Test("shrinking and enlarging, inside the image and past its edges, over several row blocks: each output pixel within 1 of its weighted sum")
    func matchesTheWeightedSums() throws {
        var generator = SplitMix64(seed: 7)
        let (width, height) = (331, 257)
        let source = PixelBuffer(width: width, height: height, pixels: (0..<width * height * 3).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        let cases: [((Double, Double, Double, Double), Int, Int)] = [
            ((0, 0, 331, 257), 160, 120),          // shrink, two row blocks
            ((10.5, 20.25, 135, 135), 160, 160),   // enlarge, three row blocks
            ((-20, -10, 90, 70), 40, 150),         // past the top-left edge, shrink across, enlarge down
            ((300, 230, 60, 60), 17, 17),          // past the bottom-right edge
            ((100.3, 50.7, 3.2, 2.1), 9, 70),      // a few pixels enlarged a lot
            ((0, 0, 331, 257), 331, 257),          // the same size
        ]
        for (rect, outWidth, outHeight) in cases {
            let ours = source.resampled(region: rect, toWidth: outWidth, height: outHeight)
            try #require(ours.width == outWidth && ours.height == outHeight)
            let expected = Self.reference(source, rect, outWidth, outHeight)
            let worst = zip(ours.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 1, "\(rect) to \(outWidth) × \(outHeight): off by \(worst)")
        }
        let grey = PixelBuffer(width: 50, height: 40, pixels: [UInt8](repeating: 77, count: 50 * 40 * 3))
        #expect(grey.resampled(region: (3.3, 1.7, 41.1, 33.9), toWidth: 29, height: 101).pixels.allSatisfy { $0 == 77 }, "a flat image stays flat")
        let empty = PixelBuffer(width: 0, height: 0, pixels: []).resampled(region: (0, 0, 10, 10), toWidth: 4, height: 3)
        #expect(empty.width == 4 && empty.height == 3 && empty.pixels.count == 36 && empty.pixels.allSatisfy { $0 == 0 }, "an empty image gives black, not a crash")
    }
}
