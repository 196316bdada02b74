#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Face thumbnails with libjpeg-turbo, from JPEG photos and from the formats of ``PhotoDecoders``.
///
/// - Decodes at the smallest DCT scale that still leaves every face crop at least the thumbnail size, so a
///   20 MP photo is never fully decoded for 160 px faces. The scales are 1/8, 1/4, 1/2 and 1, whose inverse
///   DCTs libjpeg-turbo runs with SIMD; its 3/8 … 7/8 are plain C and slower than the next SIMD scale up.
/// - Decodes only the rows and columns the crops need, and stops after the last face; a file cut short is
///   still reported (``ImageError/truncated``), by libjpeg within the faces and by the end-of-image check below.
/// - Boxes are normalized to the photo as displayed; the EXIF orientation is applied to each thumbnail (not
///   to the whole photo), so the face lands upright whatever the camera wrote.
/// - Crops are squares around the face with ``ThumbnailSpec/margin`` on each side, moved inside the photo
///   at its edges rather than squashed; shrinking averages areas (no aliasing), enlarging is bilinear.
/// - Baseline and progressive JPEG, grayscale, CMYK and YCCK (Adobe-inverted too). Other formats (PNG and
///   WebP by default, HEIC where the local engine adds it) are decoded whole by their ``PhotoDecoder``, then
///   cut the same way; a format without a decoder is refused with ``ImageError/unsupportedFormat(_:)``.
///   Thumbnails are always JPEG.
/// - Photos over ``pixelLimit`` or the ``DecodeBudget`` are refused from the header, before any pixel buffer exists.
///
/// Cost: one partial decode per photo (about the entropy-decoding time of the file) plus one small encode
/// per face. Memory: the decoded image at the chosen scale (3 bytes a pixel) plus one crop.
public struct TurboJPEGThumbnailCropper: ThumbnailCropper {
    /// Largest width × height accepted; 100 MP by default.
    public var pixelLimit: Int
    /// The decoders for formats other than JPEG.
    public var decoders: PhotoDecoders

    /// Where pixels the local engine handed off are taken from: the process's (a test's own).
    let handOffs: RecentlyDecoded

    public init(pixelLimit: Int = 100_000_000, decoders: PhotoDecoders = .standard) {
        self.init(pixelLimit: pixelLimit, decoders: decoders, handOffs: .shared)
    }

    init(pixelLimit: Int, decoders: PhotoDecoders, handOffs: RecentlyDecoded) {
        self.pixelLimit = pixelLimit
        self.decoders = decoders
        self.handOffs = handOffs
    }

    public func imageInfo(of data: Data) throws -> ImageInfo {
        if let decoder = try decoders.decoder(for: data) {
            let size = try PhotoDecoders.checkedSize(of: data, by: decoder, pixelLimit: pixelLimit, budget: DecodeBudget())
            return ImageInfo(width: size.width, height: size.height, orientation: decoder.orientation(of: data), format: decoder.format.rawValue.lowercased())
        }
        let header = try header(of: data)
        return ImageInfo(width: header.displayWidth, height: header.displayHeight, orientation: header.orientation, format: "jpeg")
    }

    /// Decoding, resampling and encoding run on ``BlockingWork``'s threads, not the caller's.
    public func thumbnails(of data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) async throws -> [Data] {
        guard !boxes.isEmpty else { return [] }
        return try await BlockingWork.run { [self] in try thumbnailsNow(of: data, boxes: boxes, spec: spec) }
    }

    /// ``thumbnails(of:boxes:spec:)`` on the calling thread (benchmarks).
    ///
    /// A JPEG the local engine has just analysed comes with the image it analysed (``RecentlyDecoded``): each face
    /// whose crop is at least the thumbnail's size in that image is cut from it, and only the others are decoded
    /// (their rows, at their scale). A decode reads the entropy-coded data down to its last face, a single core's
    /// work at the end of a big photo's analysis, which now stops at the lowest face the hand-off is too coarse
    /// for (a 100 MP photo with faces of 90–700 px: 64 % of the way down instead of 72 %).
    public func thumbnailsNow(of data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) throws -> [Data] {
        guard !boxes.isEmpty else { return [] }
        if let decoder = try decoders.decoder(for: data) { return try thumbnails(of: data, by: decoder, boxes: boxes, spec: spec) }
        let header = try header(of: data)
        var thumbnails = [Data?](repeating: nil, count: boxes.count)
        if let handed = handOffs.takeScaled(for: data, pixelLimit: pixelLimit, budget: DecodeBudget()) {
            let crops = Self.crops(for: boxes, width: Double(header.displayWidth), height: Double(header.displayHeight), margin: spec.margin)
            let fine = crops.indices.filter { handed.scale >= Double(spec.size) / crops[$0].side - 1e-9 }
            for (index, thumbnail) in zip(fine, try Self.thumbnails(of: handed.image, boxes: fine.map { boxes[$0] }, spec: spec)) {
                thumbnails[index] = thumbnail
            }
        }
        let rest = boxes.indices.filter { thumbnails[$0] == nil }
        if !rest.isEmpty {
            let plan = plan(for: header, boxes: rest.map { boxes[$0] }, size: spec.size, margin: spec.margin)
            let decoded = try plan.decode(data)
            for (index, region) in zip(rest, plan.regions) {
                let local = (x: region.x - Double(decoded.xOffset), y: region.y, width: region.width, height: region.height)
                let thumbnail = decoded.buffer.resampled(region: local, toWidth: spec.size, height: spec.size).oriented(plan.header.orientation)
                thumbnails[index] = try TurboJPEG.encode(thumbnail, quality: spec.quality)
            }
        }
        return thumbnails.map { $0! }
    }

    /// A format decoded whole: each crop is resampled from the decoded image (RGB, or YCbCr planes turned into
    /// RGB only inside the crop, at a power-of-two reduction that keeps twice the thumbnail's size), or from the
    /// planes the local engine handed off for the same bytes (``RecentlyDecoded``). A JPEG's faces are cut the same
    /// way from the image the engine handed off, each whose crop is at least the thumbnail's size there
    /// (``thumbnailsNow(of:boxes:spec:)``).
    private func thumbnails(of data: Data, by decoder: any PhotoDecoder, boxes: [BoundingBox], spec: ThumbnailSpec) throws -> [Data] {
        let decoded = try handOffs.take(for: data, pixelLimit: pixelLimit, budget: DecodeBudget())
            ?? PhotoDecoders.decodeImage(data, by: decoder, pixelLimit: pixelLimit, budget: DecodeBudget())
        return try Self.thumbnails(of: decoded, boxes: boxes, spec: spec)
    }

    /// Each face cut from `decoded`, the photo upright (at any scale).
    private static func thumbnails(of decoded: any DecodedImage, boxes: [BoundingBox], spec: ThumbnailSpec) throws -> [Data] {
        let crops = Self.crops(for: boxes, width: Double(decoded.width), height: Double(decoded.height), margin: spec.margin)
        return try crops.map { crop in
            try TurboJPEG.encode(decoded.resampled(region: (crop.x, crop.y, crop.side, crop.side), toWidth: spec.size, height: spec.size), quality: spec.quality)
        }
    }

    /// Decodes `data` at the scale ``thumbnails(of:boxes:spec:)`` would choose and discards the pixels: the
    /// decode's share of the cost, for benchmarks. Returns the scale (`"1/8"` … `"1/1"`) and the decoded size.
    public func decodeOnly(_ data: Data, boxes: [BoundingBox], spec: ThumbnailSpec) throws -> (scale: String, width: Int, height: Int) {
        let plan = try plan(for: data, boxes: boxes, size: spec.size, margin: spec.margin)
        let decoded = try plan.decode(data)
        return ("\(plan.factor.num)/\(plan.factor.denom)", decoded.buffer.width, decoded.buffer.height)
    }

    /// How a photo will be cut: its header, the DCT scale, and each crop as a displayed-pixel square.
    struct CropPlan {
        var header: JPEGHeader
        var factor: (num: Int, denom: Int)
        /// Squares in displayed full-resolution pixels: origin and side.
        var crops: [(x: Double, y: Double, side: Double)]

        var scaledWidth: Int { TurboJPEG.scaled(header.width, by: factor) }
        var scaledHeight: Int { TurboJPEG.scaled(header.height, by: factor) }

        /// Each crop as a rectangle of the decoded (stored, scaled) pixels.
        var regions: [(x: Double, y: Double, width: Double, height: Double)] {
            let (displayWidth, displayHeight) = (Double(header.displayWidth), Double(header.displayHeight))
            return crops.map { crop in
                let corners = [(crop.x, crop.y), (crop.x + crop.side, crop.y + crop.side)].map { x, y in
                    header.orientation.storedPoint(forDisplayed: x / displayWidth, y / displayHeight)
                }
                let (u0, u1) = (min(corners[0].0, corners[1].0), max(corners[0].0, corners[1].0))
                let (v0, v1) = (min(corners[0].1, corners[1].1), max(corners[0].1, corners[1].1))
                let (width, height) = (Double(scaledWidth), Double(scaledHeight))
                return (u0 * width, v0 * height, max((u1 - u0) * width, 1e-3), max((v1 - v0) * height, 1e-3))
            }
        }

        /// Decodes only what the crops read: the union of their columns and the bands of their rows (one pixel
        /// of slack either side for the resampler's taps).
        func decode(_ data: Data) throws -> DecodedRegion {
            let regions = regions
            let columns = Self.span(regions.map { ($0.x, $0.x + $0.width) }, limit: scaledWidth)
            var bands: [Range<Int>] = []
            for rows in regions.map({ Self.span([($0.y, $0.y + $0.height)], limit: scaledHeight) }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = bands.last, rows.lowerBound <= last.upperBound {
                    bands[bands.count - 1] = last.lowerBound..<max(last.upperBound, rows.upperBound)
                } else {
                    bands.append(rows)
                }
            }
            return try TurboJPEG.decode(data, header: header, factor: factor, columns: columns, bands: bands)
        }

        /// The whole pixels covering the given intervals, with one pixel of slack, within 0..<limit.
        static func span(_ intervals: [(Double, Double)], limit: Int) -> Range<Int> {
            let low = intervals.map { Int($0.0.rounded(.down)) - 1 }.min() ?? 0
            let high = intervals.map { Int($0.1.rounded(.up)) + 1 }.max() ?? limit
            return max(low, 0)..<min(max(high, 1), limit)
        }
    }

    func plan(for data: Data, boxes: [BoundingBox], size: Int, margin: Double) throws -> CropPlan {
        plan(for: try header(of: data), boxes: boxes, size: size, margin: margin)
    }

    func plan(for header: JPEGHeader, boxes: [BoundingBox], size: Int, margin: Double) -> CropPlan {
        let crops = Self.crops(for: boxes, width: Double(header.displayWidth), height: Double(header.displayHeight), margin: margin)
        let needed = crops.map { Double(size) / $0.side }.max() ?? 1
        return CropPlan(header: header, factor: TurboJPEG.factor(atLeast: needed), crops: crops)
    }

    /// Each face's square crop in displayed pixels: the face's longer side plus `margin` on each side, moved
    /// inside the photo at its edges.
    static func crops(for boxes: [BoundingBox], width: Double, height: Double, margin: Double) -> [(x: Double, y: Double, side: Double)] {
        boxes.map { box in
            let clamped = box.clamped
            let centreX = (clamped.left + clamped.width / 2) * width, centreY = (clamped.top + clamped.height / 2) * height
            let face = max(clamped.width * width, clamped.height * height)
            let side = min(max(face * (1 + 2 * margin), 1), min(width, height))
            return (min(max(centreX - side / 2, 0), width - side), min(max(centreY - side / 2, 0), height - side), side)
        }
    }

    private func header(of data: Data) throws -> JPEGHeader {
        try JPEGHeader(checking: data, pixelLimit: pixelLimit)
    }
}
