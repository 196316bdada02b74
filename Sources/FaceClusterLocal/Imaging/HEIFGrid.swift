import Foundation

/// The few ISOBMFF boxes (ISO/IEC 14496-12, HEIF 23008-12 §6.6.2.3) needed to read what a primary `grid` item
/// says about itself before libheif decodes it. libheif 1.15 checks the `ispe` size against its limits but builds
/// a grid at the size its ImageGrid payload gives, so a 1.5 MB file whose `ispe` says 1601 × 2000 and whose
/// grid says 30000 × 30000 made it allocate 1.45 GB before the size mismatch could be seen.
enum HEIFGrid {
    /// The primary item's grid output size, or `nil` when the primary item is not a grid (or the boxes cannot be
    /// read here: libheif then reads them, and refuses what is malformed).
    static func outputSize(of data: Data) -> (width: Int, height: Int)? {
        Meta(data)?.grid(in: data).map { ($0.width, $0.height) }
    }

    /// The file's `meta` box, read from its first MB (the meta box comes first in every file seen; 1 MB bounds
    /// the walk): the primary item, every item's type and where its bytes are.
    struct Meta {
        let bytes: [UInt8]
        /// The meta box's children.
        let contents: Range
        let primary: Int
        let types: [Int: String]
        let locations: [Int: Location]
        /// The item properties (`ipco`), in order; empty when the file has none that can be read.
        let properties: [(type: String, range: Range)]
        /// Each item's property indices into ``properties``, 1-based (`ipma`).
        let associations: [Int: [Int]]

        init?(_ data: Data) {
            bytes = [UInt8](data.prefix(1 << 20))
            guard let meta = box("meta", in: bytes, from: 0, to: bytes.count) else { return nil }
            contents = Range(start: meta.start + 4, end: meta.end)  // a full box: version and flags first
            guard let pitm = box("pitm", in: bytes, from: contents.start, to: contents.end),
                  let iinf = box("iinf", in: bytes, from: contents.start, to: contents.end),
                  let iloc = box("iloc", in: bytes, from: contents.start, to: contents.end)
            else { return nil }
            var reader = Reader(bytes: bytes, at: pitm.start, end: pitm.end)
            let pitmVersion = reader.byte()
            reader.skip(3)
            guard let primary = pitmVersion == 0 ? reader.uint(2) : reader.uint(4),
                  let types = HEIFGrid.itemTypes(iinf, in: bytes), let locations = HEIFGrid.locations(iloc, in: bytes)
            else { return nil }
            (self.primary, self.types, self.locations) = (primary, types, locations)
            let (bytes, contents) = (self.bytes, self.contents)
            let iprp = HEIFGrid.box("iprp", in: bytes, from: contents.start, to: contents.end)
            let ipco = iprp.flatMap { HEIFGrid.box("ipco", in: bytes, from: $0.start, to: $0.end) }
            let ipma = iprp.flatMap { HEIFGrid.box("ipma", in: bytes, from: $0.start, to: $0.end) }
            properties = ipco.map { HEIFGrid.boxes(in: bytes, from: $0.start, to: $0.end) } ?? []
            associations = ipma.flatMap { HEIFGrid.associations($0, in: bytes) } ?? [:]
        }

        /// The properties associated with `item`, in order; `nil` when it has none or an index is out of range.
        func properties(of item: Int) -> [(type: String, range: Range)]? {
            guard let indices = associations[item], indices.allSatisfy({ $0 >= 1 && $0 <= properties.count }) else { return nil }
            return indices.map { properties[$0 - 1] }
        }

        /// Every item's references of `type` (`iref`), in order, by the item referring.
        func references(_ type: String) -> [Int: [Int]] {
            guard let iref = child("iref") else { return [:] }
            var reader = Reader(bytes: bytes, at: iref.start, end: iref.end)
            guard let version = reader.byte() else { return [:] }
            let idSize = version == 0 ? 2 : 4
            var references: [Int: [Int]] = [:]
            for entry in boxes(in: bytes, from: iref.start + 4, to: iref.end) where entry.type == type {
                var box = Reader(bytes: bytes, at: entry.range.start, end: entry.range.end)
                guard let from = box.uint(idSize), let count = box.uint(2) else { continue }
                var ids: [Int] = []
                for _ in 0..<count {
                    guard let id = box.uint(idSize) else { break }
                    ids.append(id)
                }
                if references[from] == nil { references[from] = ids }
            }
            return references
        }

        /// Whether the primary item is derived (`dimg`) from itself, through any chain of derived items, or
        /// through more than 4 levels of them. libheif 1.15 decodes such a grid by starting decoding threads
        /// without end (1.8 GB and 4,000 threads after 22 s, found by a helper's crafted file).
        var derivesFromItself: Bool {
            let derived = references("dimg")
            var onPath: [Int: Bool] = [:]  // true while an item's inputs are followed, false once they were
            func cycle(_ item: Int, depth: Int) -> Bool {
                if let open = onPath[item] { return open }
                guard let inputs = derived[item] else { return false }
                guard depth < 4 else { return true }
                onPath[item] = true
                for input in inputs where cycle(input, depth: depth + 1) { return true }
                onPath[item] = false
                return false
            }
            return cycle(primary, depth: 0)
        }

        /// The first child box of `type`.
        func child(_ type: String) -> Range? { box(type, in: bytes, from: contents.start, to: contents.end) }

        /// The primary item's ImageGrid payload (rows, columns, output size), when it is a grid.
        func grid(in data: Data) -> (rows: Int, columns: Int, width: Int, height: Int)? {
            guard types[primary] == "grid", let location = locations[primary],
                  let payload = location.bytes(from: bytes, idat: child("idat"), whole: data, limit: 12)
            else { return nil }
            var grid = Reader(bytes: payload, at: 0, end: payload.count)
            grid.skip(1)
            guard let flags = grid.byte(), let rows = grid.byte(), let columns = grid.byte() else { return nil }
            let size = (flags & 1) == 1 ? 4 : 2
            guard let width = grid.uint(size), let height = grid.uint(size) else { return nil }
            return (Int(rows) + 1, Int(columns) + 1, width, height)
        }
    }

    /// Each item's property indices (1-based into `ipco`; the essential bit dropped).
    static func associations(_ ipma: Range, in bytes: [UInt8]) -> [Int: [Int]]? {
        var reader = Reader(bytes: bytes, at: ipma.start, end: ipma.end)
        guard let version = reader.byte(), reader.uint(2) != nil, let flags = reader.byte(), let count = reader.uint(4) else { return nil }
        var associations: [Int: [Int]] = [:]
        for _ in 0..<count {
            guard let id = reader.uint(version < 1 ? 2 : 4), let number = reader.byte() else { return nil }
            var indices: [Int] = []
            for _ in 0..<number {
                if flags & 1 == 1 {
                    guard let value = reader.uint(2) else { return nil }
                    indices.append(value & 0x7FFF)
                } else {
                    guard let value = reader.byte() else { return nil }
                    indices.append(Int(value & 0x7F))
                }
            }
            associations[id] = indices
        }
        return associations
    }

    /// Every box from `start` to `end`, in order: its type and contents.
    static func boxes(in bytes: [UInt8], from start: Int, to end: Int) -> [(type: String, range: Range)] {
        var found: [(String, Range)] = []
        var at = start
        while at + 8 <= end {
            var reader = Reader(bytes: bytes, at: at, end: end)
            guard var size = reader.uint(4), let name = reader.fourCC() else { break }
            var header = 8
            if size == 1 {
                guard let large = reader.uint(8) else { break }
                (size, header) = (large, 16)
            } else if size == 0 {
                size = end - at
            }
            guard size >= header, at + size <= end else { break }
            found.append((name, Range(start: at + header, end: at + size)))
            at += size
        }
        return found
    }

    /// Each item's type (`infe` version 2 and 3).
    static func itemTypes(_ iinf: Range, in bytes: [UInt8]) -> [Int: String]? {
        var reader = Reader(bytes: bytes, at: iinf.start, end: iinf.end)
        guard let version = reader.byte() else { return nil }
        reader.skip(3 + (version == 0 ? 2 : 4))
        var types: [Int: String] = [:]
        for entry in boxes(in: bytes, from: reader.at, to: iinf.end) where entry.type == "infe" {
            var infe = Reader(bytes: bytes, at: entry.range.start, end: entry.range.end)
            guard let infeVersion = infe.byte(), infeVersion >= 2 else { return nil }
            infe.skip(3)
            guard let id = infe.uint(infeVersion == 2 ? 2 : 4) else { return nil }
            infe.skip(2)
            guard let type = infe.fourCC() else { return nil }
            types[id] = type
        }
        return types
    }

    /// Where an item's bytes are (`iloc`).
    struct Location {
        var method: Int
        var extents: [(offset: Int, length: Int)]

        /// Up to `limit` of the item's bytes, from the file (method 0) or `idat` (method 1).
        func bytes(from bytes: [UInt8], idat: Range?, whole: Data, limit: Int) -> [UInt8]? {
            var payload: [UInt8] = []
            for extent in extents where payload.count < limit {
                let count = min(extent.length, limit - payload.count)
                guard extent.offset >= 0, count >= 0 else { return nil }
                if method == 1, let idat {
                    guard idat.start + extent.offset + count <= idat.end else { return nil }
                    payload += bytes[(idat.start + extent.offset)..<(idat.start + extent.offset + count)]
                } else if method == 0 {
                    guard extent.offset + count <= whole.count else { return nil }
                    payload += whole[whole.startIndex + extent.offset..<whole.startIndex + extent.offset + count]
                } else {
                    return nil
                }
            }
            return payload
        }
    }

    static func locations(_ iloc: Range, in bytes: [UInt8]) -> [Int: Location]? {
        var reader = Reader(bytes: bytes, at: iloc.start, end: iloc.end)
        guard let version = reader.byte() else { return nil }
        reader.skip(3)
        guard let sizes = reader.byte(), let more = reader.byte() else { return nil }
        let (offsetSize, lengthSize, baseSize, indexSize) = (Int(sizes >> 4), Int(sizes & 15), Int(more >> 4), version >= 1 ? Int(more & 15) : 0)
        guard let count = reader.uint(version < 2 ? 2 : 4) else { return nil }
        var locations: [Int: Location] = [:]
        for _ in 0..<count {
            guard let id = reader.uint(version < 2 ? 2 : 4) else { return nil }
            let method = version >= 1 ? (reader.uint(2) ?? 0) & 15 : 0
            reader.skip(2)
            guard let base = reader.uint(baseSize), let extentCount = reader.uint(2) else { return nil }
            var extents: [(Int, Int)] = []
            for _ in 0..<extentCount {
                reader.skip(indexSize)
                guard let offset = reader.uint(offsetSize), let length = reader.uint(lengthSize) else { return nil }
                let (from, overflow) = base.addingReportingOverflow(offset)
                guard !overflow else { return nil }
                extents.append((from, length))
            }
            locations[id] = Location(method: method, extents: extents)
        }
        return locations
    }

    /// A box's contents (after its header).
    struct Range {
        var start: Int
        var end: Int
    }

    /// The first box of `type` among the boxes from `start` to `end`.
    static func box(_ type: String, in bytes: [UInt8], from start: Int, to end: Int) -> Range? {
        boxes(in: bytes, from: start, to: end).first { $0.type == type }?.range
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
