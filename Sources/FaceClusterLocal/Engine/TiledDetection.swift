import FaceClusterKit
import Foundation

/// The second, finer detection pass that finds small faces in big photos.
///
/// The first pass analyses a photo at most ``LocalFaceEngine/Configuration/analysisPixels`` large (2 MP), so
/// dlib's HOG detector, whose window is 80 px (40 px after one upsampling), misses every face smaller than
/// 80 px divided by that scale: in a 12 MP phone photo analysed at its 1/4 DCT scale, faces under 320 px;
/// in a 12,000 × 6,000 panorama at 1/8, under 640 px. This pass decodes the photo again at a finer scale,
/// cuts it into overlapping tiles and runs the detector on each, so faces down to
/// ``LocalFaceEngine/Configuration/smallestFace`` displayed pixels are found, within a bounded amount of work.
///
/// - **Scale.** Among the decode scales 1, 1/2, 1/4 (JPEG DCT scales; any fraction for the other formats), each
///   with or without one upsampling, the cheapest that reaches `smallestFace`; when none does within `budget`,
///   the one that reaches the smallest faces within it. The cost is the pixels the detector scans:
///   photo pixels × scale² × 4 per upsampling (the first pass is included in neither). At equal cost the finer
///   decode wins while it stays under 25 MP (full-resolution pixels make better landmarks and embeddings).
/// - **Tiles.** At most 2,048 decoded pixels a side (1,536 before an upsampling: 3,072 scanned, about 150 MB
///   of dlib's buffers), as few as cover the image, spread evenly and overlapping by 1.5 × the smallest face
///   the first pass finds, so every face this pass must find lies whole in at least one tile; larger faces
///   are the first pass's. The overlap adds up to about half again to the scanned pixels.
/// - **Cost**, measured by `scripts/bench-local.sh` on this machine: see README → Performance.
struct TiledDetection: Equatable, Sendable {
    /// The detector's window in pixels (dlib's frontal HOG detector: 80 × 80).
    static let window = 80.0
    /// Above this many decoded pixels, the finer decode gives way to a coarser one upsampled.
    static let fineDecodePixels = 25_000_000.0

    /// The decode scale asked for, as a fraction of the displayed photo.
    var scale: Double
    /// Upsamplings before detection (0 or 1).
    var upsample: Int
    /// The smallest face, in displayed pixels, the first pass finds.
    var coarseSmallest: Double

    /// The plan for a photo of `width` × `height` displayed pixels whose first pass ran at `coarseScale` with
    /// `coarseUpsample`; `nil` when that pass already finds faces of `smallestFace` pixels (or it is 0).
    init?(width: Int, height: Int, coarseScale: Double, coarseUpsample: Int, smallestFace: Int, budget: Int) {
        let coarseSmallest = Self.window / (coarseScale * Double(1 << coarseUpsample))
        guard smallestFace > 0, coarseSmallest > Double(smallestFace) * 1.05 else { return nil }
        let pixels = Double(width) * Double(height)
        let candidates: [(scale: Double, upsample: Int)] = [(1, 0), (0.5, 1), (0.5, 0), (0.25, 1), (0.25, 0)]
        let options = candidates.map { Option(scale: $0.scale, upsample: $0.upsample, pixels: pixels) }
            .filter { $0.cost <= Double(budget) && $0.smallest < coarseSmallest / 1.05 }
        let reaching = options.filter { $0.smallest <= Double(smallestFace) }
        let choice = reaching.min(by: Option.cheaper) ?? options.min(by: Option.finer)
        guard let choice else { return nil }
        self.scale = choice.scale
        self.upsample = choice.upsample
        self.coarseSmallest = coarseSmallest
    }

    /// One way to scan a photo of `pixels` displayed pixels.
    private struct Option {
        var scale: Double
        var upsample: Int
        /// The smallest face found, in displayed pixels.
        var smallest: Double
        /// The pixels the detector scans.
        var cost: Double
        /// The pixels decoded.
        var decoded: Double

        init(scale: Double, upsample: Int, pixels: Double) {
            let magnification = scale * Double(1 << upsample)
            self.scale = scale
            self.upsample = upsample
            self.smallest = TiledDetection.window / magnification
            self.decoded = pixels * scale * scale
            self.cost = pixels * magnification * magnification
        }

        /// Less work first; at equal work the finer decode while it fits in ``fineDecodePixels``, else the smaller.
        static func cheaper(_ a: Option, _ b: Option) -> Bool {
            if a.cost != b.cost { return a.cost < b.cost }
            let (aFits, bFits) = (a.decoded <= TiledDetection.fineDecodePixels, b.decoded <= TiledDetection.fineDecodePixels)
            if aFits != bFits { return aFits }
            return aFits ? a.decoded > b.decoded : a.decoded < b.decoded
        }

        /// Smaller faces first; at equal size less work.
        static func finer(_ a: Option, _ b: Option) -> Bool {
            a.smallest != b.smallest ? a.smallest < b.smallest : a.cost < b.cost
        }
    }

    /// The smallest face, in displayed pixels, found in an image decoded at `actualScale`.
    func smallest(atScale actualScale: Double) -> Double { Self.window / (actualScale * Double(1 << upsample)) }

    /// Tiles covering an image of `width` × `height` pixels decoded at `actualScale`: origin and size in its pixels.
    func tiles(width: Int, height: Int, actualScale: Double) -> [(x: Int, y: Int, width: Int, height: Int)] {
        let overlap = Int((coarseSmallest * 1.5 * actualScale).rounded(.up))
        let longest = max(upsample == 0 ? 2048 : 1536, 3 * overlap)
        // As few tiles as cover `length` with sides ≤ `longest`, spread evenly: n tiles of one side overlap by
        // `overlap` each, so n × side − (n − 1) × overlap = length.
        func spans(_ length: Int) -> [(start: Int, size: Int)] {
            guard length > longest else { return [(0, length)] }
            let count = (length - overlap + longest - overlap - 1) / (longest - overlap)
            let side = (length + (count - 1) * overlap + count - 1) / count
            return (0..<count).map { index in
                let start = min(index * (side - overlap), length - side)
                return (start, side)
            }
        }
        return spans(height).flatMap { row in
            spans(width).map { column in (column.start, row.start, column.size, row.size) }
        }
    }
}

extension UprightImage {
    /// The pixels of `rect` (this image's pixels), as an image of their own at the same scale.
    func cropped(_ rect: (x: Int, y: Int, width: Int, height: Int)) -> UprightImage {
        var pixels = [UInt8](repeating: 0, count: rect.width * rect.height * 3)
        self.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for row in 0..<rect.height {
                    let from = ((rect.y + row) * width + rect.x) * 3
                    (target.baseAddress! + row * rect.width * 3).update(from: source.baseAddress! + from, count: rect.width * 3)
                }
            }
        }
        return UprightImage(width: rect.width, height: rect.height, pixels: pixels, scale: scale)
    }
}
