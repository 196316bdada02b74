#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes one photo format other than JPEG, whole, to RGB as displayed (its orientation applied).
///
/// JPEG keeps its own path (libjpeg-turbo's DCT scaling and region decoding); the formats a decoder handles
/// are decoded at full size and then resampled, so their cost is the whole decode. Implementations wrap a
/// well-kept library (libpng, libwebp, libheif) and run on the caller's thread: callers put them on
/// ``BlockingWork``.
public protocol PhotoDecoder: Sendable {
    /// The format it decodes.
    var format: ImageFormat { get }
    /// The displayed size in pixels, from the header, without decoding the pixels.
    /// - Throws: ``ImageError`` (`corrupt`, `truncated`, `unsupportedFormat` for a variant it cannot decode).
    func size(of data: Data) throws -> (width: Int, height: Int)
    /// The orientation the decoder applies to the stored pixels (already in ``size(of:)`` and the pixels), read
    /// from the header as ``size(of:)`` is: a PNG's eXIf before its image data. Default: `.up` (libheif applies a
    /// HEIC's own `irot`/`imir`; a WebP's EXIF comes after its image data, where browsers ignore it).
    func orientation(of data: Data) -> Orientation
    /// The pixels, RGB as displayed; transparency is composited over white.
    /// - Throws: ``ImageError`` (`damaged`, `truncated`, `corrupt`, `unsupportedFormat`).
    func decode(_ data: Data) throws -> PixelBuffer
    /// The photo decoded as displayed, in the form the decoder holds it (``YCbCrImage`` planes where the format
    /// codes them so, else RGB): what the engine and the thumbnails resample from. Default: ``decode(_:)``.
    /// - Throws: as ``decode(_:)``.
    func decodeImage(_ data: Data) throws -> any DecodedImage
    /// The most bytes decoding a `width` × `height` photo holds at once, known from its header before any pixel
    /// is decoded, checked against ``DecodeBudget/memory``. Default: 4 bytes a pixel (RGBA, what libwebp and
    /// libheif hold at peak when they give RGB).
    func peakMemory(of data: Data, width: Int, height: Int) -> Int
}

extension PhotoDecoder {
    public func decodeImage(_ data: Data) throws -> any DecodedImage { try decode(data) }
    public func orientation(of data: Data) -> Orientation { .up }
    public func peakMemory(of data: Data, width: Int, height: Int) -> Int { width * height * 4 }
}

/// The decoders for formats other than JPEG, by format, with the checks every photo gets before its pixels
/// exist: the pixel limit and the memory budget (``DecodeBudget/memory`` against the decoder's
/// ``PhotoDecoder/peakMemory(of:width:height:)``: 3 bytes a pixel for PNG, lossy WebP and HEIC's YCbCr planes,
/// about 55 MP with the default budget; 4 for RGBA, about 42 MP).
public struct PhotoDecoders: Sendable {
    public private(set) var decoders: [ImageFormat: any PhotoDecoder]

    public init(_ decoders: [any PhotoDecoder]) {
        self.decoders = Dictionary(decoders.map { ($0.format, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// PNG (libpng) and WebP (libwebp): statically linked, so the Lambda has them too.
    public static let standard = PhotoDecoders([PNGDecoder(), WebPDecoder()])
    /// JPEG only.
    public static let none = PhotoDecoders([])

    /// These decoders and `others` (which win for a format both have).
    public func adding(_ others: [any PhotoDecoder]) -> PhotoDecoders {
        PhotoDecoders(Array(decoders.values) + others)
    }

    /// The names of the formats decoded, JPEG first: "JPEG, PNG and WebP".
    public var supportedNames: String {
        let names = ["JPEG"] + decoders.keys.map(\.rawValue).sorted()
        return names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// The decoder for `data`'s format (sniffed from its bytes), `nil` for JPEG.
    /// - Throws: ``ImageError/notAnImage`` when the bytes are no image format, ``ImageError/unsupportedFormat(_:)``
    ///   when the format has no decoder here.
    func decoder(for data: Data) throws -> (any PhotoDecoder)? {
        guard let format = ImageFormat(sniffing: data) else { throw ImageError.notAnImage }
        if format == .jpeg { return nil }
        guard let decoder = decoders[format] else { throw ImageError.unsupportedFormat(format.rawValue) }
        return decoder
    }

    /// The displayed size of a non-JPEG photo, checked against `pixelLimit` and `budget` before any decoding.
    static func checkedSize(of data: Data, by decoder: any PhotoDecoder, pixelLimit: Int, budget: DecodeBudget) throws -> (width: Int, height: Int) {
        let size = try decoder.size(of: data)
        guard size.width > 0, size.height > 0 else { throw ImageError.corrupt(detail: "a \(decoder.format.rawValue) of \(size.width)×\(size.height) pixels") }
        guard size.width * size.height <= pixelLimit else {
            throw ImageError.tooManyPixels(width: size.width, height: size.height, limit: pixelLimit)
        }
        let bytes = decoder.peakMemory(of: data, width: size.width, height: size.height)
        guard bytes <= budget.memory else {
            throw ImageError.overBudget(detail: "a \(size.width)×\(size.height) \(decoder.format.rawValue) needs \(bytes / 1_048_576) MB to decode (the budget is \(budget.memory / 1_048_576) MB)")
        }
        return size
    }

    /// Decodes a non-JPEG photo and shrinks it (area averaging) to at most `maximumPixels` when it is larger
    /// (and larger than `wholePhotoPixels`: a photo of at most that many pixels is kept whole).
    static func decode(
        _ data: Data, by decoder: any PhotoDecoder, maximumPixels: Int?, wholePhotoPixels: Int = 0, pixelLimit: Int, budget: DecodeBudget
    ) throws -> (buffer: PixelBuffer, scale: Double) {
        shrunk(try decodeImage(data, by: decoder, pixelLimit: pixelLimit, budget: budget), maximumPixels: maximumPixels, wholePhotoPixels: wholePhotoPixels)
    }

    /// `full` as RGB, shrunk as ``decode(_:by:maximumPixels:wholePhotoPixels:pixelLimit:budget:)`` says.
    static func shrunk(_ full: any DecodedImage, maximumPixels: Int?, wholePhotoPixels: Int = 0) -> (buffer: PixelBuffer, scale: Double) {
        guard let maximumPixels, full.width * full.height > max(maximumPixels, wholePhotoPixels) else { return (full.wholeRGB(), 1) }
        let scale = (Double(maximumPixels) / Double(full.width * full.height)).squareRoot()
        let (width, height) = (max(Int(Double(full.width) * scale), 1), max(Int(Double(full.height) * scale), 1))
        let shrunk = full.resampled(region: (0, 0, Double(full.width), Double(full.height)), toWidth: width, height: height)
        return (shrunk, Double(width) / Double(full.width))
    }

    /// A non-JPEG photo decoded as its decoder holds it, after the checks of ``checkedSize(of:by:pixelLimit:budget:)``.
    static func decodeImage(_ data: Data, by decoder: any PhotoDecoder, pixelLimit: Int, budget: DecodeBudget) throws -> any DecodedImage {
        let size = try checkedSize(of: data, by: decoder, pixelLimit: pixelLimit, budget: budget)
        let full = try decoder.decodeImage(data)
        try MappedFile.checkIntact(data)
        guard full.width == size.width, full.height == size.height else {
            throw ImageError.corrupt(detail: "the \(decoder.format.rawValue) header says \(size.width)×\(size.height), the pixels are \(full.width)×\(full.height)")
        }
        return full
    }
}
