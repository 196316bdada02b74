/// A photo decoded whole, in the form its decoder holds it, from which the engine's images and the thumbnails
/// are resampled: RGB (``PixelBuffer``, what libpng and libwebp give) or YCbCr 4:2:0 planes (``YCbCrImage``,
/// what HEVC and AV1 photos are coded in, half the bytes of RGB).
public protocol DecodedImage: Sendable {
    /// Displayed width in pixels.
    var width: Int { get }
    /// Displayed height in pixels.
    var height: Int { get }
    /// The region `rect` (in this image's pixels, fractional; it may reach past the edges, which repeat)
    /// resampled to `outputWidth` × `outputHeight` RGB, area-averaged when shrinking.
    func resampled(region rect: (x: Double, y: Double, width: Double, height: Double), toWidth outputWidth: Int, height outputHeight: Int) -> PixelBuffer
}

extension PixelBuffer: DecodedImage {}

extension DecodedImage {
    /// The whole image as RGB at full size (itself when it is RGB already).
    public func wholeRGB() -> PixelBuffer {
        if let buffer = self as? PixelBuffer { return buffer }
        return resampled(region: (0, 0, Double(width), Double(height)), toWidth: width, height: height)
    }
}

/// 8-bit YCbCr 4:2:0 planes, BT.601 full range, as an HEVC decoder outputs a phone's photo (1.5 bytes a pixel),
/// turned into RGB only where and as coarsely as a caller asks: a 48 MP photo's whole RGB (146 MB) never exists
/// when the engine wants it at 2 MP and its thumbnails want faces.
///
/// The planes are borrowed from the decoder's own image (`owner` keeps it alive; nothing is copied).
/// The conversion is libheif's `Op_YCbCr420_to_RGB24` (BT.601, full range, fixed point ×256, chroma nearest; a
/// full-size conversion of a 48 MP photo differs from libheif 1.15's RGB by 0.02 on average, where libheif
/// smooths sharp chroma edges). A region is first reduced by a power of two (2, 4 or 8), each block's mean Y, Cb
/// and Cr converted once, then area-averaged to the output (``resampled(region:toWidth:height:)`` says which
/// power). Other matrices and limited range are the decoder's to convert (`HEIFDecoder` leaves them to libheif).
/// Cost: one conversion per output pixel of the reduced region, plus a read of the luma it covers.
public struct YCbCrImage: DecodedImage, @unchecked Sendable {
    /// One plane: its first byte and the bytes between rows.
    public struct Plane {
        public var base: UnsafePointer<UInt8>
        public var stride: Int
        public init(base: UnsafePointer<UInt8>, stride: Int) {
            self.base = base
            self.stride = stride
        }
    }

    public let width: Int
    public let height: Int
    private let luma: Plane
    private let cb: Plane
    private let cr: Plane
    /// Keeps the planes' memory alive (the decoder's image).
    private let owner: AnyObject

    /// Planes of `width` × `height` luma and ⌈width/2⌉ × ⌈height/2⌉ chroma, valid while `owner` lives.
    public init(width: Int, height: Int, luma: Plane, cb: Plane, cr: Plane, owner: AnyObject) {
        self.width = width
        self.height = height
        self.luma = luma
        self.cb = cb
        self.cr = cr
        self.owner = owner
    }

    public func resampled(region rect: (x: Double, y: Double, width: Double, height: Double), toWidth outputWidth: Int, height outputHeight: Int) -> PixelBuffer {
        // A reduction that gives the output's size within 2 % is used as it is (the engine's tiled pass asks for
        // a hair over half); otherwise the coarsest that keeps twice the output's size, so the area average after
        // it is not blurred by the blocks' grid (at once the output's size, a 200 px face to 48 px differed from
        // the full-size resample by 2.3 on average, against 0.6).
        func fits(_ reduction: Int) -> Bool {
            abs(rect.width / Double(reduction) / Double(outputWidth) - 1) <= 0.02 && abs(rect.height / Double(reduction) / Double(outputHeight) - 1) <= 0.02
        }
        var reduction = 1
        if let exact = [8, 4, 2].first(where: fits) {
            reduction = exact
        } else {
            while reduction < 8, rect.width / Double(reduction * 2) >= Double(2 * outputWidth), rect.height / Double(reduction * 2) >= Double(2 * outputHeight) {
                reduction *= 2
            }
        }
        // The source pixels the region reads, with a reduced pixel of margin, from a multiple of the reduction
        // (at least one pixel, also for a region wholly past an edge).
        func span(_ start: Double, _ length: Double, limit: Int) -> (Int, Int) {
            let low = min(max(Int((start - Double(reduction)).rounded(.down)), 0), limit - 1) / reduction * reduction
            let high = min(max(Int((start + length + Double(reduction)).rounded(.up)), low + 1), limit)
            return (low, high)
        }
        let (x0, x1) = span(rect.x, rect.width, limit: width)
        let (y0, y1) = span(rect.y, rect.height, limit: height)
        let rendered = rgb(x0: x0, x1: x1, y0: y0, y1: y1, reduction: reduction)
        let local = ((rect.x - Double(x0)) / Double(reduction), (rect.y - Double(y0)) / Double(reduction), rect.width / Double(reduction), rect.height / Double(reduction))
        if local == (0, 0, Double(outputWidth), Double(outputHeight)), rendered.width == outputWidth, rendered.height == outputHeight { return rendered }
        return rendered.resampled(region: local, toWidth: outputWidth, height: outputHeight)
    }

    /// Columns `x0..<x1` and rows `y0..<y1` as RGB, each `reduction` × `reduction` block (fewer at the right and
    /// bottom edges) one pixel. `x0` and `y0` are multiples of `reduction`.
    func rgb(x0: Int, x1: Int, y0: Int, y1: Int, reduction: Int) -> PixelBuffer {
        let outputWidth = (x1 - x0 + reduction - 1) / reduction, outputHeight = (y1 - y0 + reduction - 1) / reduction
        var output = PixelBuffer(width: outputWidth, height: outputHeight)
        let (luma, cb, cr) = (self.luma, self.cb, self.cr)
        let (chromaWidth, chromaHeight) = ((width + 1) / 2, (height + 1) / 2)
        output.pixels.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            for row in 0..<outputHeight {
                let target = out + row * outputWidth * 3
                let top = y0 + row * reduction, bottom = min(top + reduction, y1)
                if reduction == 1 {
                    let lumaRow = luma.base + top * luma.stride
                    let cbRow = cb.base + (top / 2) * cb.stride, crRow = cr.base + (top / 2) * cr.stride
                    for column in 0..<outputWidth {
                        let x = x0 + column
                        store(Int(lumaRow[x]), Int(cbRow[x / 2]), Int(crRow[x / 2]), at: target + column * 3)
                    }
                    continue
                }
                let chromaTop = top / 2, chromaBottom = min((bottom + 1) / 2, chromaHeight)
                for column in 0..<outputWidth {
                    let left = x0 + column * reduction, right = min(left + reduction, x1)
                    var y = 0
                    for line in top..<bottom {
                        let lumaRow = luma.base + line * luma.stride
                        for x in left..<right { y += Int(lumaRow[x]) }
                    }
                    let chromaLeft = left / 2, chromaRight = min((right + 1) / 2, chromaWidth)
                    var (blue, red) = (0, 0)
                    for line in chromaTop..<chromaBottom {
                        let cbRow = cb.base + line * cb.stride, crRow = cr.base + line * cr.stride
                        for x in chromaLeft..<chromaRight {
                            blue += Int(cbRow[x])
                            red += Int(crRow[x])
                        }
                    }
                    let pixels = (bottom - top) * (right - left), samples = (chromaBottom - chromaTop) * (chromaRight - chromaLeft)
                    store((y + pixels / 2) / pixels, (blue + samples / 2) / samples, (red + samples / 2) / samples, at: target + column * 3)
                }
            }
        }
        return output
    }

    /// One pixel's Y, Cb and Cr (0–255) converted as libheif does: R = Y + 1.402 Cr, G = Y − 0.344 Cb − 0.714 Cr,
    /// B = Y + 1.772 Cb, the coefficients ×256 and rounded (359, −88, −183, 454).
    @inline(__always)
    private func store(_ y: Int, _ cb: Int, _ cr: Int, at target: UnsafeMutablePointer<UInt8>) {
        let (blue, red) = (cb - 128, cr - 128)
        target[0] = Self.clamped(y + ((359 * red + 128) >> 8))
        target[1] = Self.clamped(y + ((-88 * blue - 183 * red + 128) >> 8))
        target[2] = Self.clamped(y + ((454 * blue + 128) >> 8))
    }

    @inline(__always)
    private static func clamped(_ value: Int) -> UInt8 { UInt8(min(max(value, 0), 255)) }
}
