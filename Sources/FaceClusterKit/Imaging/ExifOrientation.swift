extension Orientation {
    /// The orientation tag (0x0112, type SHORT) of IFD0 in an Exif TIFF structure (`II*\0` or `MM\0*`, then the
    /// offset of IFD0), as a JPEG's APP1 segment holds it after "Exif\0\0" and a PNG's eXIf chunk holds it alone.
    /// `nil` when the structure is malformed or has no valid orientation; nothing is read outside `tiff`.
    init?(exifTIFF tiff: ArraySlice<UInt8>) {
        let tiff = Array(tiff)
        guard tiff.count >= 8 else { return nil }
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
                self.init(rawValue: value)
                return
            }
        }
        return nil
    }
}
