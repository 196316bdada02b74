/// EXIF orientation (tag 0x0112), 1…8. Orientations 5–8 swap width and height when displayed.
public enum Orientation: Int, Hashable, Sendable, Codable, CaseIterable {
    case up = 1, upMirrored, down, downMirrored, leftMirrored, right, rightMirrored, left

    /// Whether displaying the image swaps its stored width and height.
    public var swapsDimensions: Bool { rawValue >= 5 }
}
