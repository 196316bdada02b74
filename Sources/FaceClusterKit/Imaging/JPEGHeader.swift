#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Limits on decoding one untrusted photo, checked from its header before the work: the memory a progressive
/// frame's coefficient buffer takes (160 MB: a 53 MP 4:2:0 progressive photo; with the local engine's second,
/// finer decode of a big photo that keeps a whole ingest under 300 MB — `scripts/bench-hostile.sh`), and the
/// work of a progressive file, as scans × megapixels (4,000: about 4.5 s of one core at the rate a 99.7 MP file
/// of 442 scans took, 49 s). Sequential (baseline) frames are bounded by the pixel limit alone.
public struct DecodeBudget: Hashable, Sendable {
    public var memory: Int
    public var work: Double
    public init(memory: Int = 160 * 1_048_576, work: Double = 4000) {
        self.memory = memory
        self.work = work
    }
}

/// What a JPEG's markers say before any pixel is decoded: the stored size, the components, the EXIF
/// orientation and whether an Adobe APP14 marker is present (Adobe writes CMYK inverted).
struct JPEGHeader: Equatable {
    var width: Int
    var height: Int
    var components: Int
    var progressive: Bool
    var orientation: Orientation
    var adobe: Bool
    /// Where the first scan's header starts.
    var scanOffset: Int
    /// Bits per sample (8 for every JPEG a camera writes; 12 for some medical and raw-derived files).
    var precision = 8
    /// The frame marker: `C0` baseline, `C1` extended, `C2` progressive, `C3` lossless, `C9`… arithmetic.
    var process: UInt8 = 0xC0
    /// Each component's sampling factors (horizontal, vertical).
    var sampling: [(h: Int, v: Int)] = []

    static func == (lhs: JPEGHeader, rhs: JPEGHeader) -> Bool {
        lhs.width == rhs.width && lhs.height == rhs.height && lhs.components == rhs.components && lhs.progressive == rhs.progressive
            && lhs.orientation == rhs.orientation && lhs.adobe == rhs.adobe && lhs.scanOffset == rhs.scanOffset
            && lhs.precision == rhs.precision && lhs.process == rhs.process
    }

    /// The memory a decoder needs for this frame's whole-image coefficient buffer, in bytes: a progressive
    /// frame is held whole before any pixel exists (64 coefficients of 2 bytes a block, at every component's
    /// sampling), at any DCT scale. 0 for a sequential frame, decoded a row of blocks at a time.
    var coefficientBytes: Int {
        guard progressive else { return 0 }
        let hMax = max(sampling.map(\.h).max() ?? 1, 1), vMax = max(sampling.map(\.v).max() ?? 1, 1)
        return (sampling.isEmpty ? Array(repeating: (1, 1), count: components) : sampling).map { component in
            let blocksWide = (width * component.h + hMax * 8 - 1) / (hMax * 8)
            let blocksHigh = (height * component.v + vMax * 8 - 1) / (vMax * 8)
            return blocksWide * blocksHigh * 128
        }.reduce(0, +)
    }

    /// How many scans the file holds (start-of-scan markers from the first on; entropy-coded data never holds
    /// `FF DA`). One pass over the bytes, no decoding.
    func scanCount(_ data: Data) -> Int {
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var count = 0, index = scanOffset
            while index + 1 < bytes.count {
                if bytes[index] == 0xFF && bytes[index + 1] == 0xDA { count += 1 }
                index += 1
            }
            return count
        }
    }

    /// Reads the markers up to the start of the scan. Throws ``ImageError/truncated`` when the data ends
    /// first and ``ImageError/corrupt(detail:)`` when a marker is malformed.
    init(parsing data: Data) throws {
        self = try data.withUnsafeBytes { raw in try Self(markers: raw.bindMemory(to: UInt8.self)) }
    }

    /// The header of `data` after the checks every decoder here makes first: the data is a JPEG (other
    /// formats are named in the error) and has at most `pixelLimit` pixels (checked before any pixel buffer
    /// exists).
    ///
    /// Also refused from the header, before any work: JPEG processes libjpeg-turbo's 8-bit decoder does not
    /// run (12-bit, lossless), a progressive frame whose coefficient buffer exceeds `budget.memory`, and a
    /// progressive file whose scans × megapixels exceed `budget.work` (each scan re-reads the whole frame).
    init(checking data: Data, pixelLimit: Int, budget: DecodeBudget = DecodeBudget()) throws {
        guard let format = ImageFormat(sniffing: data) else { throw ImageError.notAnImage }
        guard format == .jpeg else { throw ImageError.unsupportedFormat(format.rawValue) }
        self = try JPEGHeader(parsing: data)
        if [0xC3, 0xC7, 0xCB, 0xCF].contains(process) { throw ImageError.unsupportedProcess("a lossless JPEG (SOF\(process & 0x0F))") }
        if precision != 8 { throw ImageError.unsupportedProcess("a \(precision)-bit JPEG") }
        let pixels = width.multipliedReportingOverflow(by: height)
        guard !pixels.overflow, pixels.partialValue <= pixelLimit else {
            throw ImageError.tooManyPixels(width: displayWidth, height: displayHeight, limit: pixelLimit)
        }
        if coefficientBytes > budget.memory {
            throw ImageError.overBudget(
                detail: "a progressive \(width)×\(height) JPEG needs \(coefficientBytes / 1_048_576) MB to decode (the budget is \(budget.memory / 1_048_576) MB)")
        }
        if progressive {
            let work = Double(scanCount(data)) * Double(pixels.partialValue) / 1_000_000
            if work > budget.work {
                throw ImageError.overBudget(
                    detail: "a progressive JPEG of \(pixels.partialValue / 1_000_000) MP in \(scanCount(data)) scans is more decoding work than a photo's budget")
            }
        }
    }

    private init(markers bytes: UnsafeBufferPointer<UInt8>) throws {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw ImageError.notAnImage }
        var position = 2
        var frame: (width: Int, height: Int, components: Int, progressive: Bool)?
        var orientation = Orientation.up
        var adobe = false
        var precision = 8, process: UInt8 = 0xC0
        var sampling: [(h: Int, v: Int)] = []
        while true {
            // Bytes before a marker are skipped, as libjpeg does (it warns "extraneous bytes before marker",
            // which some cameras' padding causes); markers may be preceded by fill bytes (0xFF).
            while position < bytes.count && bytes[position] != 0xFF { position += 1 }
            guard position < bytes.count else { throw ImageError.truncated }
            while position < bytes.count && bytes[position] == 0xFF { position += 1 }
            guard position < bytes.count else { throw ImageError.truncated }
            let marker = bytes[position]
            position += 1
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { continue }
            if marker == 0xD9 { throw ImageError.corrupt(detail: "end of image before any scan") }
            guard position + 2 <= bytes.count else { throw ImageError.truncated }
            let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
            guard length >= 2 else { throw ImageError.corrupt(detail: "segment length \(length)") }
            let body = position + 2
            let end = position + length
            guard end <= bytes.count else { throw ImageError.truncated }
            switch marker {
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                guard length >= 8 else { throw ImageError.corrupt(detail: "short frame header") }
                let height = Int(bytes[body + 1]) << 8 | Int(bytes[body + 2])
                let width = Int(bytes[body + 3]) << 8 | Int(bytes[body + 4])
                frame = (width, height, Int(bytes[body + 5]), [0xC2, 0xC6, 0xCA, 0xCE].contains(marker))
                precision = Int(bytes[body])
                process = marker
                sampling = (0..<Int(bytes[body + 5])).compactMap { component in
                    let at = body + 6 + component * 3 + 1
                    guard at < end else { return nil }
                    return (h: max(Int(bytes[at] >> 4), 1), v: max(Int(bytes[at] & 0x0F), 1))
                }
            case 0xE1:
                if let found = Self.exifOrientation(Array(bytes[body..<end])) { orientation = found }
            case 0xEE:
                adobe = adobe || (end - body >= 5 && Array(bytes[body..<(body + 5)]) == Array("Adobe".utf8))
            case 0xDA:
                guard let frame else { throw ImageError.corrupt(detail: "scan before frame header") }
                guard frame.width > 0, frame.height > 0 else { throw ImageError.corrupt(detail: "zero-sized frame") }
                self.width = frame.width
                self.height = frame.height
                self.components = frame.components
                self.progressive = frame.progressive
                self.orientation = orientation
                self.adobe = adobe
                self.scanOffset = position - 2
                self.precision = precision
                self.process = process
                self.sampling = sampling
                return
            default:
                break
            }
            position = end
        }
    }

    /// Whether an end-of-image marker follows the first scan. Entropy-coded data never holds `FF D9` (an
    /// `FF` there is followed by `00` or a restart marker), so its presence means the scans are complete;
    /// data appended after it (a motion photo's video) does not matter. Searching back from the end finds it
    /// at once in an ordinary file; through data appended after it, the pages passed are handed back every
    /// megabyte when the photo is a mapped file (``MappedFile``), so 300 MB appended to a 100 MP photo do not stay
    /// resident.
    func isComplete(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let base = raw.baseAddress else { return false }
            var index = bytes.count - 2
            var released = bytes.count  // what lies from here on was handed back
            while index > scanOffset {
                if bytes[index] == 0xFF && bytes[index + 1] == 0xD9 { return true }
                index -= 1
                if released - index > 1_048_576 {
                    MappedFile.releasePages(base + index + 2, base + released)
                    released = index + 2
                }
            }
            return false
        }
    }

    /// The displayed size: orientations 5–8 swap the stored width and height.
    var displayWidth: Int { orientation.swapsDimensions ? height : width }
    var displayHeight: Int { orientation.swapsDimensions ? width : height }

    /// The orientation tag (0x0112) of IFD0 in an APP1 Exif segment ("Exif\0\0", then a TIFF structure), if
    /// present and valid.
    static func exifOrientation(_ bytes: [UInt8]) -> Orientation? {
        guard bytes.count >= 14, Array(bytes[0..<6]) == [0x45, 0x78, 0x69, 0x66, 0, 0] else { return nil }
        return Orientation(exifTIFF: bytes[6...])
    }
}
