import FaceClusterKit
import Foundation

/// The second, finer detection passes that find small faces in big photos.
///
/// The first pass analyses a photo above ``LocalFaceEngine/Configuration/wholePhotoPixels`` (4 MP) at most
/// ``LocalFaceEngine/Configuration/analysisPixels`` large (2 MP), so dlib's HOG detector, whose window is 80 px
/// (40 px after one upsampling), misses every face smaller than 80 px divided by that scale: in a 12 MP phone
/// photo analysed at its 1/4 DCT scale, faces under 320 px;
/// in a 12,000 × 6,000 panorama at 1/8, under 640 px. These passes decode the photo again at a finer scale and
/// scan it in overlapping tiles, so faces down to ``LocalFaceEngine/Configuration/smallestFace`` displayed
/// pixels are found, within a bounded amount of work.
///
/// - **Scale.** Among the decode scales 1, 1/2, 1/4 (JPEG DCT scales; any fraction for the other formats), each
///   with or without one upsampling, the cheapest that reaches `smallestFace`; when none does within `budget`,
///   the one that reaches the smallest faces within it. At equal cost the finer decode wins while it stays
///   under 25 MP (full-resolution pixels make better landmarks and embeddings).
/// - **Passes, an octave each.** The finest pass finds faces from its window to 3 windows (``passRange``;
///   larger faces it finds are dropped); the next pass scans the image halved, and so on
///   until the first pass's faces are reached. A pass's tiles overlap by the largest face it answers for
///   (3 windows, 240 px of its image), so every face lies whole in a tile of the pass that must find it: the
///   overlap costs about a third more pixels, where one pass over every size needed an overlap of the
///   largest face (up to 960 px) and scanned up to 2.8 times the photo.
/// - **Cost**: the pixels the detector scans, photo pixels × scale² × 4 per upsampling, × 4/3 for the coarser
///   passes (the first pass is included in neither). Tiles are at most ``maximumTileSide`` scanned pixels a
///   side and are scanned on every ``BlockingWork`` thread at once, each with a ``HOGDetector`` of its own,
///   in grey (a quarter faster than colour), down to the pyramid levels their pass answers for (``Pass/levels``).
///   Measured by `scripts/bench-local.sh` on this machine: see README → Performance.
struct TiledDetection: Equatable, Sendable {
    /// The detector's window in pixels (dlib's frontal HOG detector: 80 × 80).
    static let window = 80.0
    /// The longest side of a tile, in scanned pixels (after upsampling): 1,920. A tile's HOG features are built
    /// and scanned one pyramid level at a time (`dlib_face_detector_detect`), where dlib's own detector holds
    /// every level's features at once (21 MB for a 1,280 px tile), so tiles can be larger and
    /// overlap less (a 640 px tile upsampled to 1,280 overlapped its neighbours by 120 of its 640 pixels: half
    /// again as many pixels scanned). A 100 MP photo with 80 px faces, measured: 1,280 px tiles scanned by dlib's
    /// whole pyramid 11.2–11.7 s and 287–298 MB; a level at a time, only the levels a pass needs, 1,920 px tiles
    /// 8.2–9.1 s and 273–274 MB; 2,560 px tiles 7.9 s but 307 MB (the target is < 300 MB).
    static let maximumTileSide = 1920
    /// Above this many decoded pixels, the finer decode gives way to a coarser one upsampled.
    static let fineDecodePixels = 25_000_000.0
    /// The largest face a pass answers for, in windows: the next pass, at half the resolution, starts at 2; the
    /// rest is the margin for faces the detector only finds once they are a little larger than its window.
    static let passRange = 3.0
    /// The decode scale asked for, as a fraction of the displayed photo.
    var scale: Double
    /// Upsamplings before the finest pass (0 or 1).
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
        let options = candidates.map { Option(scale: $0.scale, upsample: $0.upsample, pixels: pixels, coarseSmallest: coarseSmallest) }
            .filter { $0.cost <= Double(budget) && $0.smallest < coarseSmallest / 1.05 }
        let reaching = options.filter { $0.smallest <= Double(smallestFace) }
        let choice = reaching.min(by: Option.cheaper) ?? options.min(by: Option.finer)
        guard let choice else { return nil }
        self.scale = choice.scale
        self.upsample = choice.upsample
        self.coarseSmallest = coarseSmallest
    }

    /// The most pixels to decode a photo of `width` × `height` displayed pixels at for ``scale`` (a hair over, so
    /// a JPEG's DCT scale, which rounds its sides up, is not passed over).
    func decodePixels(width: Int, height: Int) -> Int {
        Int((Double(width) * Double(height) * scale * scale * 1.01).rounded(.up))
    }

    /// One way to scan a photo of `pixels` displayed pixels.
    private struct Option {
        var scale: Double
        var upsample: Int
        /// The smallest face found, in displayed pixels.
        var smallest: Double
        /// The pixels the detector scans, over all passes.
        var cost: Double
        /// The pixels decoded.
        var decoded: Double

        init(scale: Double, upsample: Int, pixels: Double, coarseSmallest: Double) {
            let magnification = scale * Double(1 << upsample)
            self.scale = scale
            self.upsample = upsample
            self.smallest = TiledDetection.window / magnification
            self.decoded = pixels * scale * scale
            var cost = 0.0
            var (smallest, passPixels) = (self.smallest, pixels * magnification * magnification)
            while smallest < coarseSmallest / 1.05 {
                cost += passPixels
                (smallest, passPixels) = (smallest * 2, passPixels / 4)
            }
            self.cost = cost
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

    /// One scan of the decoded image at one resolution.
    struct Pass: Equatable, Sendable {
        /// How often the decoded image is halved for this pass.
        var halvings: Int
        /// Upsamplings by the detector (0 or 1).
        var upsample: Int
        /// The smallest face it finds, in displayed pixels.
        var smallest: Double
        /// The largest face it answers for, in displayed pixels: larger ones are a coarser pass's.
        var largest: Double

        /// The detector's pyramid levels it scans (each 5/6 of the last, so level n finds faces 1.2ⁿ × `smallest`):
        /// up to `largest`, and two more for a face the detector boxes a little smaller than it is. The levels
        /// beyond, which dlib would scan down to its window, only find a coarser pass's faces.
        var levels: Int {
            Int((log(largest / smallest) / log(1.2)).rounded(.up)) + 3
        }
    }

    /// The passes over an image decoded at `actualScale`, finest first, down to the first pass's faces.
    func passes(actualScale: Double) -> [Pass] {
        var passes: [Pass] = []
        var magnification = actualScale * Double(1 << upsample)
        while Self.window / magnification < coarseSmallest / 1.05 {
            let step = passes.count
            let smallest = Self.window / magnification
            passes.append(Pass(
                halvings: max(0, step - upsample), upsample: max(0, upsample - step),
                smallest: smallest, largest: min(smallest * Self.passRange, coarseSmallest * 1.5)))
            magnification /= 2
        }
        return passes
    }

    /// Tiles covering a pass's image of `width` × `height` pixels (the decoded image, decoded at `actualScale`,
    /// halved `pass.halvings` times): origin and size in its pixels.
    func tiles(for pass: Pass, width: Int, height: Int, actualScale: Double) -> [(x: Int, y: Int, width: Int, height: Int)] {
        let passScale = actualScale / Double(1 << pass.halvings)
        let overlap = Int((pass.largest * passScale).rounded(.up))
        let longest = max(Self.maximumTileSide >> pass.upsample, 3 * overlap)
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

    /// This image at half the size (each pixel the mean of a 2 × 2 block; an odd last row or column is dropped).
    func halved() -> UprightImage {
        let (width, height) = (max(self.width / 2, 1), max(self.height / 2, 1))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let stride = self.width * 3
        self.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let top = min(2 * y, self.height - 1) * stride, bottom = min(2 * y + 1, self.height - 1) * stride
                    for x in 0..<width {
                        let left = min(2 * x, self.width - 1) * 3, right = min(2 * x + 1, self.width - 1) * 3
                        for channel in 0..<3 {
                            let sum = Int(source[top + left + channel]) + Int(source[top + right + channel])
                                + Int(source[bottom + left + channel]) + Int(source[bottom + right + channel])
                            target[(y * width + x) * 3 + channel] = UInt8((sum + 2) / 4)
                        }
                    }
                }
            }
        }
        return UprightImage(width: width, height: height, pixels: pixels, scale: scale / 2)
    }
}
