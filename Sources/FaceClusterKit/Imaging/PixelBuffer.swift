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
                    for c in 0..<3 { out[target + c] = UInt8((Int(pixel[c]) * a + 255 * (255 - a) + 127) / 255) }
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The region `rect` (in this buffer's pixels, fractional) resampled to `outputWidth` × `outputHeight`:
    /// area averaging when shrinking (every source pixel weighs by how much of it each output pixel covers,
    /// so nothing aliases), bilinear when enlarging. Samples outside the buffer repeat the edge.
    func resampled(region rect: (x: Double, y: Double, width: Double, height: Double), toWidth outputWidth: Int, height outputHeight: Int) -> PixelBuffer {
        let columns = Self.weights(from: rect.x, length: rect.width, into: outputWidth, limit: width)
        let rows = Self.weights(from: rect.y, length: rect.height, into: outputHeight, limit: height)
        let firstRow = rows.flatMap { $0.map(\.index) }.min() ?? 0
        let lastRow = rows.flatMap { $0.map(\.index) }.max() ?? 0
        // Horizontal pass over the rows the vertical pass needs.
        var horizontal = [Float](repeating: 0, count: (lastRow - firstRow + 1) * outputWidth * 3)
        pixels.withUnsafeBufferPointer { source in
            for row in firstRow...lastRow {
                let sourceRow = row * width * 3
                let target = (row - firstRow) * outputWidth * 3
                for (column, taps) in columns.enumerated() {
                    var red: Float = 0, green: Float = 0, blue: Float = 0
                    for tap in taps {
                        let at = sourceRow + tap.index * 3
                        red += Float(source[at]) * tap.weight
                        green += Float(source[at + 1]) * tap.weight
                        blue += Float(source[at + 2]) * tap.weight
                    }
                    horizontal[target + column * 3] = red
                    horizontal[target + column * 3 + 1] = green
                    horizontal[target + column * 3 + 2] = blue
                }
            }
        }
        var output = PixelBuffer(width: outputWidth, height: outputHeight)
        for (row, taps) in rows.enumerated() {
            for column in 0..<outputWidth {
                var red: Float = 0, green: Float = 0, blue: Float = 0
                for tap in taps {
                    let at = ((tap.index - firstRow) * outputWidth + column) * 3
                    red += horizontal[at] * tap.weight
                    green += horizontal[at + 1] * tap.weight
                    blue += horizontal[at + 2] * tap.weight
                }
                let at = (row * outputWidth + column) * 3
                output.pixels[at] = Self.byte(red)
                output.pixels[at + 1] = Self.byte(green)
                output.pixels[at + 2] = Self.byte(blue)
            }
        }
        return output
    }

    private static func byte(_ value: Float) -> UInt8 { UInt8(min(max(value.rounded(), 0), 255)) }

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
