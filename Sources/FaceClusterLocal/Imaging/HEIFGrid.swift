import Foundation

/// The few ISOBMFF boxes (ISO/IEC 14496-12, HEIF 23008-12 §6.6.2.3) needed to read what a primary `grid` item
/// says about itself before libheif decodes it. libheif 1.15 checks the `ispe` size against its limits but builds
/// a grid at the size its ImageGrid payload gives, so a 1.5 MB file whose `ispe` says 1601 × 2000 and whose
/// grid says 30000 × 30000 made it allocate 1.45 GB before the size mismatch could be seen.
enum HEIFGrid {
    /// The primary item's grid output size, or `nil` when the primary item is not a grid (or the boxes cannot be
    /// read here: libheif then reads them, and refuses what is malformed).
    static func outputSize(of data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(1 << 20))  // the meta box comes first in every file seen; 1 MB bounds the walk
        guard let meta = box("meta", in: bytes, from: 0, to: bytes.count) else { return nil }
        let (start, end) = (meta.start + 4, meta.end)  // a full box: version and flags first
        guard let pitm = box("pitm", in: bytes, from: start, to: end), let iinf = box("iinf", in: bytes, from: start, to: end),
              let iloc = box("iloc", in: bytes, from: start, to: end)
        else { return nil }
        var reader = Reader(bytes: bytes, at: pitm.start, end: pitm.end)
        let pitmVersion = reader.byte()
        reader.skip(3)
        guard let primary = pitmVersion == 0 ? reader.uint(2) : reader.uint(4), isGrid(primary, iinf: iinf, in: bytes) else { return nil }
        guard let payload = location(of: primary, iloc: iloc, idat: box("idat", in: bytes, from: start, to: end), in: bytes, whole: data) else { return nil }
        var grid = Reader(bytes: payload, at: 0, end: payload.count)
        grid.skip(1)
        guard let flags = grid.byte() else { return nil }
        grid.skip(2)
        let size = (flags & 1) == 1 ? 4 : 2
        guard let width = grid.uint(size), let height = grid.uint(size) else { return nil }
        return (width, height)
    }

    private static func isGrid(_ item: Int, iinf: Range, in bytes: [UInt8]) -> Bool {
        var reader = Reader(bytes: bytes, at: iinf.start, end: iinf.end)
        let version = reader.byte()
        reader.skip(3 + (version == 0 ? 2 : 4))
        var at = reader.at
        while let entry = box("infe", in: bytes, from: at, to: iinf.end) {
            var infe = Reader(bytes: bytes, at: entry.start, end: entry.end)
            let infeVersion = infe.byte() ?? 0
            infe.skip(3)
            if infeVersion >= 2, let id = infe.uint(infeVersion == 2 ? 2 : 4), id == item {
                infe.skip(2)
                return infe.fourCC() == "grid"
            }
            at = entry.end
        }
        return false
    }

    /// The bytes of `item` from the `iloc` box: its extents, in the file (construction method 0) or in `idat` (1).
    private static func location(of item: Int, iloc: Range, idat: Range?, in bytes: [UInt8], whole: Data) -> [UInt8]? {
        var reader = Reader(bytes: bytes, at: iloc.start, end: iloc.end)
        guard let version = reader.byte() else { return nil }
        reader.skip(3)
        guard let sizes = reader.byte(), let more = reader.byte() else { return nil }
        let (offsetSize, lengthSize, baseSize, indexSize) = (Int(sizes >> 4), Int(sizes & 15), Int(more >> 4), version >= 1 ? Int(more & 15) : 0)
        guard let count = reader.uint(version < 2 ? 2 : 4) else { return nil }
        for _ in 0..<count {
            guard let id = reader.uint(version < 2 ? 2 : 4) else { return nil }
            let method = version >= 1 ? (reader.uint(2) ?? 0) & 15 : 0
            reader.skip(2)
            guard let base = reader.uint(baseSize), let extents = reader.uint(2) else { return nil }
            var payload: [UInt8] = []
            for _ in 0..<extents {
                reader.skip(indexSize)
                guard let offset = reader.uint(offsetSize), let length = reader.uint(lengthSize) else { return nil }
                guard id == item else { continue }
                let (from, overflow) = base.addingReportingOverflow(offset)
                let count = min(length == 0 ? 12 : length, 12)
                guard !overflow, from >= 0, from <= whole.count else { return nil }
                if method == 1, let idat {
                    guard idat.start + from + count <= idat.end else { return nil }
                    payload += bytes[(idat.start + from)..<(idat.start + from + count)]
                } else if method == 0 {
                    guard from + count <= whole.count else { return nil }
                    payload += whole[whole.startIndex + from..<whole.startIndex + from + count]
                } else {
                    return nil
                }
            }
            if id == item { return payload }
        }
        return nil
    }

    /// A box's contents (after its header).
    struct Range {
        var start: Int
        var end: Int
    }

    /// The first box of `type` among the boxes from `start` to `end`.
    private static func box(_ type: String, in bytes: [UInt8], from start: Int, to end: Int) -> Range? {
        var at = start
        while at + 8 <= end {
            var reader = Reader(bytes: bytes, at: at, end: end)
            guard var size = reader.uint(4), let name = reader.fourCC() else { return nil }
            var header = 8
            if size == 1 {
                guard let large = reader.uint(8) else { return nil }
                (size, header) = (large, 16)
            } else if size == 0 {
                size = end - at
            }
            guard size >= header, at + size <= end else { return nil }
            if name == type { return Range(start: at + header, end: at + size) }
            at += size
        }
        return nil
    }

    /// Big-endian reads that answer `nil` past the end.
    struct Reader {
        let bytes: [UInt8]
        var at: Int
        let end: Int

        init(bytes: [UInt8], at: Int, end: Int) {
            self.bytes = bytes
            self.at = at
            self.end = min(end, bytes.count)
        }

        mutating func byte() -> UInt8? { uint(1).map(UInt8.init) }
        mutating func skip(_ count: Int) { at += count }

        mutating func uint(_ size: Int) -> Int? {
            guard size >= 0, size <= 8, at + size <= end else { return nil }
            var value = 0
            for index in 0..<size { value = value << 8 | Int(bytes[at + index]) }
            at += size
            return value
        }

        mutating func fourCC() -> String? {
            guard at + 4 <= end else { return nil }
            defer { at += 4 }
            return String(decoding: bytes[at..<at + 4], as: UTF8.self)
        }
    }
}
