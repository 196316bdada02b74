/// A face's box as fractions of the image **as displayed** (EXIF orientation applied first — what
/// Rekognition reports). Origin top-left. Detectors may report boxes slightly outside 0…1 for faces cut by
/// the edge; ``clamped`` keeps the part inside the image.
public struct BoundingBox: Hashable, Sendable, Codable {
    public var left: Double
    public var top: Double
    public var width: Double
    public var height: Double

    public init(left: Double, top: Double, width: Double, height: Double) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
    }

    /// The intersection with the unit square (an empty box at the nearest edge when there is none).
    public var clamped: BoundingBox {
        let x0 = min(max(left, 0), 1), y0 = min(max(top, 0), 1)
        let x1 = min(max(left + width, 0), 1), y1 = min(max(top + height, 0), 1)
        return BoundingBox(left: x0, top: y0, width: max(x1 - x0, 0), height: max(y1 - y0, 0))
    }

    /// The clamped box in pixels of a `width` × `height` displayed image: pixel = round(normalized × size).
    public func pixels(inWidth imageWidth: Int, height imageHeight: Int) -> PixelRect {
        let box = clamped
        let x0 = Int((box.left * Double(imageWidth)).rounded())
        let y0 = Int((box.top * Double(imageHeight)).rounded())
        let x1 = Int(((box.left + box.width) * Double(imageWidth)).rounded())
        let y1 = Int(((box.top + box.height) * Double(imageHeight)).rounded())
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Whether the point (`x`, `y`), in the same fractions, lies inside the box.
    public func contains(x: Double, y: Double) -> Bool {
        x >= left && x <= left + width && y >= top && y <= top + height
    }

    /// Area of the intersection over area of the union, 0…1 (used to pair boxes from two detectors).
    public func overlap(with other: BoundingBox) -> Double {
        let x0 = max(left, other.left), y0 = max(top, other.top)
        let x1 = min(left + width, other.left + other.width), y1 = min(top + height, other.top + other.height)
        let intersection = max(x1 - x0, 0) * max(y1 - y0, 0)
        let union = width * height + other.width * other.height - intersection
        return union > 0 ? intersection / union : 0
    }
}

/// A rectangle in whole pixels of the displayed image.
public struct PixelRect: Hashable, Sendable, Codable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The shorter side: what minimum-face-size rules compare against.
    public var shortSide: Int { min(width, height) }
}
