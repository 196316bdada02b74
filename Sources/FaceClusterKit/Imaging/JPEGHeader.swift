#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// Reads the markers up to the start of the scan. Throws ``ImageError/truncated`` when the data ends
    /// first and ``ImageError/corrupt(detail:)`` when a marker is malformed.
    init(parsing data: Data) throws {
        self = try data.withUnsafeBytes { raw in try Self(markers: raw.bindMemory(to: UInt8.self)) }
    }

    /// The header of `data` after the checks every decoder here makes first: the data is a JPEG (other
    /// formats are named in the error) and has at most `pixelLimit` pixels (checked before any pixel buffer
    /// exists).
    init(checking data: Data, pixelLimit: Int) throws {
        guard let format = ImageFormat(sniffing: data) else { throw ImageError.notAnImage }
        guard format == .jpeg else { throw ImageError.unsupportedFormat(format.rawValue) }
        self = try JPEGHeader(parsing: data)
        let pixels = width.multipliedReportingOverflow(by: height)
        guard !pixels.overflow, pixels.partialValue <= pixelLimit else {
            throw ImageError.tooManyPixels(width: displayWidth, height: displayHeight, limit: pixelLimit)
        }
    }

    private init(markers bytes: UnsafeBufferPointer<UInt8>) throws {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw ImageError.notAnImage }
        var position = 2
        var frame: (width: Int, height: Int, components: Int, progressive: Bool)?
        var orientation = Orientation.up
        var adobe = false
        while true {
            // Markers may be preceded by fill bytes (0xFF).
            guard position < bytes.count else { throw ImageError.truncated }
            guard bytes[position] == 0xFF else { throw ImageError.corrupt(detail: "expected a marker at byte \(position)") }
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
    /// at once in an ordinary file.
    func isComplete(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = bytes.count - 2
            while index > scanOffset {
                if bytes[index] == 0xFF && bytes[index + 1] == 0xD9 { return true }
                index -= 1
            }
            return false
        }
    }

    /// The displayed size: orientations 5–8 swap the stored width and height.
    var displayWidth: Int { orientation.swapsDimensions ? height : width }
    var displayHeight: Int { orientation.swapsDimensions ? width : height }

    /// The orientation tag (0x0112) of IFD0 in an APP1 Exif segment, if present and valid.
    static func exifOrientation(_ bytes: [UInt8]) -> Orientation? {
        guard bytes.count >= 14, Array(bytes[0..<6]) == [0x45, 0x78, 0x69, 0x66, 0, 0] else { return nil }
        let tiff = Array(bytes[6...])
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let high = u16(little ? at + 2 : at), let low = u16(little ? at : at + 2) else { return nil }
            return high << 16 | low
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd), count < 1000 else { return nil }
        for entry in 0..<count {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, let type = u16(at + 2), type == 3, let value = u16(at + 8) {
                return Orientation(rawValue: value)
            }
        }
        return nil
    }
}
