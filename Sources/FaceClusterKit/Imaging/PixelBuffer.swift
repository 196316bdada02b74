/// Interleaved 8-bit RGB pixels, rows top to bottom: what a ``PhotoDecoder`` returns.
public struct PixelBuffer: Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Copies a decoder's interleaved 8-bit RGB (`alpha` false) or RGBA rows, `stride` bytes apart, compositing
    /// RGBA over white: c·a + 255·(1 − a), rounded.
    public init(width: Int, height: Int, interleaved source: UnsafePointer<UInt8>, stride: Int, alpha: Bool) {
        let channels = alpha ? 4 : 3
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = source + y * stride
                if !alpha {
                    (out.baseAddress! + y * width * 3).update(from: row, count: width * 3)
                    continue
                }
                for x in 0..<width {
                    let pixel = row + x * channels, target = (y * width + x) * 3
                    let a = Int(pixel[3])
                    for c in 0..<3 { out[target + c] = Self.overWhite(pixel[c], alpha: a) }
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// A channel of a pixel with `alpha` (0–255) composited over white: c·a + 255·(1 − a), rounded.
    private static func overWhite(_ channel: UInt8, alpha: Int) -> UInt8 {
        UInt8((Int(channel) * alpha + 255 * (255 - alpha) + 127) / 255)
    }

    /// `count` RGBA pixels turned, in the same array, into RGB composited over white (as
    /// ``init(width:height:interleaved:stride:alpha:)``); the array then holds `count × 3` bytes. Pixel p's RGB
    /// goes to bytes 3p…3p+2, which no later pixel is read from (they start at 4p + 4), so one front-to-back pass
    /// needs no second buffer.
    static func compositeOverWhiteInPlace(_ samples: inout [UInt8], count: Int) {
        samples.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for pixel in 0..<count {
                let a = Int(base[pixel * 4 + 3])
                for c in 0..<3 { base[pixel * 3 + c] = overWhite(base[pixel * 4 + c], alpha: a) }
            }
        }
        samples.removeLast(samples.count - count * 3)
    }

    init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The region `rect` (in this buffer's pixels, fractional) resampled to `outputWidth` × `outputHeight`:
    /// area averaging when shrinking (every source pixel weighs by how much of it each output pixel covers,
    /// so nothing aliases), bilinear when enlarging. Samples outside the buffer repeat the edge; an empty buffer
    /// gives black.
    ///
    /// Separable: a horizontal pass over the source rows the output needs, into floats, then a vertical one,
    /// ``rowBlock`` output rows at a time, so the floats held are those of the source rows one block reads (a
    /// 40 MP photo shrunk to 2 MP in one go would hold 139 MB of them). The rows two blocks share are filtered
    /// twice; every output value is the same sum, in the same order, as in one pass. Each source row is turned
    /// into floats once, as its bytes lie (a loop the compiler vectorizes); a tap loads its pixel's three channels
    /// as one 4-lane vector (the fourth lane, the next pixel's red, is never kept); every output has the same
    /// number of taps (shorter ones padded with zero weights, which change no sum); and sums become bytes by
    /// rounding in the float unit, ties to even (no conversion that could trap). Each output is within 1 of its
    /// exact weighted sum (`PixelBufferTests`).
    /// Cost: (rows read × output width + output pixels) × taps per output vector multiply-adds; cutting the 8
    /// thumbnails of 160 px of `group-dense` (face regions of 135–285 px) from a 2048 × 1536 image takes 1.8–2.1 ms
    /// of one core of the development machine, against 2.7–3.7 ms converting pixel by pixel and clamping each
    /// channel with Swift's checked conversions (an isolated harness, nine alternating runs).
    public func resampled(region rect: (x: Double, y: Double, width: Double, height: Double), toWidth outputWidth: Int, height outputHeight: Int) -> PixelBuffer {
        guard outputWidth > 0, outputHeight > 0 else { return PixelBuffer(width: max(outputWidth, 0), height: max(outputHeight, 0)) }
        guard width > 0, height > 0 else { return PixelBuffer(width: outputWidth, height: outputHeight) }  // nothing to sample: black
        let columns = Taps(Self.weights(from: rect.x, length: rect.width, into: outputWidth, limit: width))
        let rows = Taps(Self.weights(from: rect.y, length: rect.height, into: outputHeight, limit: height))
        let sourceWidth = width
        var output = PixelBuffer(width: outputWidth, height: outputHeight)
        let read = columns.span(0..<outputWidth)
        let readFloats = read.count &* 3
        // One source row's channels as floats, as they lie (R, G, B, R, …), and one float more: a tap loads its
        // pixel as a 4-lane vector, whose fourth lane (the next pixel's red, or this zero) no sum keeps.
        var sourceRow = [Float](repeating: 0, count: readFloats + 1)
        var horizontal: [SIMD4<Float>] = []
        var sums = [SIMD4<Float>](repeating: .zero, count: outputWidth)
        for blockStart in Swift.stride(from: 0, to: outputHeight, by: Self.rowBlock) {
            let block = blockStart..<min(blockStart + Self.rowBlock, outputHeight)
            let blockRows = rows.span(block)
            if horizontal.count < blockRows.count * outputWidth { horizontal = [SIMD4<Float>](repeating: .zero, count: blockRows.count * outputWidth) }
            // Horizontal pass over the rows this block of output rows reads.
            pixels.withUnsafeBufferPointer { source in
                sourceRow.withUnsafeMutableBufferPointer { floats in
                    horizontal.withUnsafeMutableBufferPointer { horizontal in
                        columns.withPointers { index, weight in
                            let taps = columns.count
                            let floats = floats.baseAddress!
                            let pixelBytes = 3 &* MemoryLayout<Float>.stride
                            let origin = UnsafeRawPointer(floats) - read.lowerBound &* pixelBytes
                            for row in blockRows {
                                let bytes = source.baseAddress! + (row &* sourceWidth &+ read.lowerBound) &* 3
                                for i in 0..<readFloats { floats[i] = Float(bytes[i]) }
                                let target = horizontal.baseAddress! + (row &- blockRows.lowerBound) &* outputWidth
                                for column in 0..<outputWidth {
                                    var sum = SIMD4<Float>.zero
                                    for tap in column &* taps..<(column &+ 1) &* taps {
                                        sum += origin.loadUnaligned(fromByteOffset: index[tap] &* pixelBytes, as: SIMD4<Float>.self) * weight[tap]
                                    }
                                    target[column] = sum
                                }
                            }
                        }
                    }
                }
            }
            // Vertical pass: each output row the taps' weighted sum of whole horizontal rows.
            horizontal.withUnsafeBufferPointer { horizontal in
                sums.withUnsafeMutableBufferPointer { sums in
                    output.pixels.withUnsafeMutableBufferPointer { out in
                        rows.withPointers { index, weight in
                            let taps = rows.count
                            for row in block {
                                for column in 0..<outputWidth { sums[column] = .zero }
                                for tap in row &* taps..<(row &+ 1) &* taps {
                                    let samples = horizontal.baseAddress! + (index[tap] &- blockRows.lowerBound) &* outputWidth, weight = weight[tap]
                                    for column in 0..<outputWidth { sums[column] += samples[column] * weight }
                                }
                                let target = out.baseAddress! + row &* outputWidth &* 3
                                for column in 0..<outputWidth {
                                    let bits = Self.bytes(sums[column])
                                    target[column &* 3] = UInt8(truncatingIfNeeded: bits.x)
                                    target[column &* 3 &+ 1] = UInt8(truncatingIfNeeded: bits.y)
                                    target[column &* 3 &+ 2] = UInt8(truncatingIfNeeded: bits.z)
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Each lane clamped to 0...255 and rounded to the nearest whole number (ties to even), in the low byte of
    /// its bits: 2^23 added makes the float's last place worth 1, so the addition rounds, with no conversion that
    /// could trap (three such conversions a pixel were a seventh of the resampler's time).
    private static func bytes(_ value: SIMD4<Float>) -> SIMD4<UInt32> {
        unsafeBitCast(pointwiseMin(pointwiseMax(value, .zero), SIMD4(repeating: 255)) + 8_388_608, to: SIMD4<UInt32>.self)
    }

    /// Output rows resampled per block: 64. A thumbnail (160 rows) takes 3 blocks; a 2 MP shrink of a 40 MP
    /// photo holds about 7 MB of floats instead of 139 MB.
    static let rowBlock = 64

    /// A weight table laid flat, every output with the same number of taps (``count``): output `n` reads
    /// `index[n * count ..< (n + 1) * count]` with the same `weight`s. Outputs with fewer taps are padded with
    /// zero weights on their last pixel, which leave every sum as it was (x + 0 · y = x).
    private struct Taps {
        let count: Int
        var index: [Int] = []
        var weight: [Float] = []

        init(_ taps: [[(index: Int, weight: Float)]]) {
            count = taps.map(\.count).max() ?? 0
            index.reserveCapacity(taps.count * count)
            weight.reserveCapacity(taps.count * count)
            for output in taps {
                for tap in output {
                    index.append(tap.index)
                    weight.append(tap.weight)
                }
                for _ in output.count..<count {
                    index.append(output.last?.index ?? 0)
                    weight.append(0)
                }
            }
        }

        /// The source pixels the outputs in `outputs` read, lowest to highest.
        func span(_ outputs: Range<Int>) -> ClosedRange<Int> {
            let taps = index[outputs.lowerBound * count..<outputs.upperBound * count]
            return (taps.min() ?? 0)...(taps.max() ?? 0)
        }

        /// The tables as raw pointers, for inner loops without bounds checks.
        func withPointers<R>(_ body: (UnsafePointer<Int>, UnsafePointer<Float>) throws -> R) rethrows -> R {
            try index.withUnsafeBufferPointer { index in
                try weight.withUnsafeBufferPointer { weight in try body(index.baseAddress!, weight.baseAddress!) }
            }
        }
    }

    /// For each of `count` outputs covering `length` source pixels from `start`: the source pixels it reads
    /// and their weights (summing to 1).
    static func weights(from start: Double, length: Double, into count: Int, limit: Int) -> [[(index: Int, weight: Float)]] {
        let step = length / Double(count)
        return (0..<count).map { output in
            var taps: [(index: Int, weight: Float)] = []
            if step >= 1 {
                let from = start + Double(output) * step, to = from + step
                var pixel = Int(from.rounded(.down))
                while Double(pixel) < to {
                    let covered = min(Double(pixel + 1), to) - max(Double(pixel), from)
                    if covered > 0 { taps.append((min(max(pixel, 0), limit - 1), Float(covered / step))) }
                    pixel += 1
                }
            } else {
                let centre = start + (Double(output) + 0.5) * step - 0.5
                let left = Int(centre.rounded(.down))
                let fraction = Float(centre - Double(left))
                taps = [(min(max(left, 0), limit - 1), 1 - fraction), (min(max(left + 1, 0), limit - 1), fraction)]
            }
            return taps
        }
    }

    /// The buffer as displayed for EXIF `orientation` (the buffer holds the stored pixels).
    func oriented(_ orientation: Orientation) -> PixelBuffer {
        guard orientation != .up else { return self }
        let (displayWidth, displayHeight) = orientation.swapsDimensions ? (height, width) : (width, height)
        var output = PixelBuffer(width: displayWidth, height: displayHeight)
        for y in 0..<displayHeight {
            for x in 0..<displayWidth {
                let (u, v) = orientation.storedPixel(forDisplayed: x, y, displayWidth: displayWidth, displayHeight: displayHeight)
                let from = (v * width + u) * 3, to = (y * displayWidth + x) * 3
                output.pixels[to] = pixels[from]
                output.pixels[to + 1] = pixels[from + 1]
                output.pixels[to + 2] = pixels[from + 2]
            }
        }
        return output
    }
}

extension Orientation {
    /// Where the displayed pixel (x, y) is stored, for a displayed image of the given size.
    func storedPixel(forDisplayed x: Int, _ y: Int, displayWidth: Int, displayHeight: Int) -> (Int, Int) {
        let right = displayWidth - 1, bottom = displayHeight - 1
        switch self {
        case .up: return (x, y)
        case .upMirrored: return (right - x, y)
        case .down: return (right - x, bottom - y)
        case .downMirrored: return (x, bottom - y)
        case .leftMirrored: return (y, x)
        case .right: return (y, right - x)
        case .rightMirrored: return (bottom - y, right - x)
        case .left: return (bottom - y, x)
        }
    }

    /// Where a normalized displayed point lies in the stored image, normalized.
    func storedPoint(forDisplayed x: Double, _ y: Double) -> (Double, Double) {
        switch self {
        case .up: (x, y)
        case .upMirrored: (1 - x, y)
        case .down: (1 - x, 1 - y)
        case .downMirrored: (x, 1 - y)
        case .leftMirrored: (y, x)
        case .right: (y, 1 - x)
        case .rightMirrored: (1 - y, 1 - x)
        case .left: (1 - y, x)
        }
    }
}
