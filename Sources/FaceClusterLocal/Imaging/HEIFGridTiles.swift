import CHEIF
import FaceClusterKit
import Foundation
import Synchronization

/// An iPhone-style grid HEIC (its primary item a `grid` of HEVC tiles, HEIF 23008-12 §6.6.2.3) decoded tile by
/// tile straight into the displayed photo's 4:2:0 planes.
///
/// libheif 1.15 assembles a grid in planar RGB and converts it back to YCbCr for the planes ``HEIFDecoder`` keeps:
/// about 220 MB at peak for a 48 MP photo beside the 72 MB of planes it ends with. Here each tile's HEVC goes to
/// libde265 (the decoder libheif itself uses for HEVC) and its planes are copied where the tile lies, turned as
/// the grid's `irot` says: the planes and one tile per thread are all that is held (48 MP grids: 249–294 MB
/// for the whole `ingest` against 324–395; Docs/formats.md → "Grids tile by tile"). The tiles are decoded on
/// every core at once (`concurrentPerform`, called from a ``BlockingWork`` thread).
///
/// Only the layout phones write is assembled here; ``layout(of:)`` answers `nil` for anything else and libheif
/// decodes it: tiles `hvc1` of one size (even sides), each with an `hvcC`, all in the file's `mdat`; the grid's
/// properties among `ispe`, `colr`, `pixi` and `irot` (so no `imir`, no `clap`, no alpha), a turned grid with an
/// even width and height; the `meta` box within the file's first MB. Each tile must decode to a picture of its
/// `ispe` size without a libde265 error or warning, else the photo is `damaged_image`; a tile whose bytes lie
/// past the end of the file makes it `truncated`; tiles that decode to another chroma format or depth than 8-bit
/// 4:2:0 (though the `hvcC` said so) are left to libheif too.
///
/// A primary item that is one `hvc1` frame (what libheif's `heif-enc` and most converters write) is decoded the
/// same way, as a grid of one tile of up to 16,384 px a side, its `irot` applied: libheif 1.15 held a 48 MP frame
/// about three times over (355–356 → 288–289 MB for the whole `ingest`, 8.0–9.2 → 7.0–7.5 s), and libde265's warnings now
/// make a damaged frame `damaged_image` instead of garbage pixels.
enum HEIFGridTiles {
    /// Where the grid's tiles are and how they are placed.
    struct Layout {
        var rows: Int
        var columns: Int
        /// The grid's output size before the turn, in pixels.
        var width: Int
        var height: Int
        /// Anticlockwise quarter turns (`irot`), 0–3.
        var turns: Int
        var tileWidth: Int
        var tileHeight: Int
        /// Row by row.
        var tiles: [Tile]

        /// The displayed size: the output size turned.
        var displayed: (width: Int, height: Int) { turns % 2 == 1 ? (height, width) : (width, height) }

        /// How errors name the tile at `index`: "HEIC tile 3", or "HEIC image" for a single frame.
        func name(of index: Int) -> String { tiles.count == 1 ? "HEIC image" : "HEIC tile \(index + 1)" }
    }

    /// One tile: its decoder configuration and its coded bytes.
    struct Tile {
        /// The `hvcC`'s parameter sets (VPS, SPS, PPS, SEI), NAL units without length fields.
        var parameterSets: [[UInt8]]
        /// Bytes of each NAL unit's length field in the coded data (`hvcC` lengthSizeMinusOne + 1).
        var lengthSize: Int
        /// File offsets and lengths of the coded data.
        var extents: [(offset: Int, length: Int)]
    }

    /// Warnings about the decoder, not the data: no threads were asked for, SEI before its SPS (not decoded), the
    /// warning queue full, no memory for the SAO filter.
    private static let benignWarnings: Set<de265_error> = [
        DE265_WARNING_NO_WPP_CANNOT_USE_MULTITHREADING, DE265_WARNING_NUMBER_OF_THREADS_LIMITED_TO_MAXIMUM,
        DE265_WARNING_SPS_MISSING_CANNOT_DECODE_SEI, DE265_WARNING_WARNING_BUFFER_FULL, DE265_WARNING_CANNOT_APPLY_SAO_OUT_OF_MEMORY,
    ]
    /// NAL units one tile or frame may hold (its parameter sets aside).
    static let maximumNALUnits = 4096
    private static let gridProperties: Set<String> = ["ispe", "colr", "pixi", "irot"]
    private static let tileProperties: Set<String> = ["hvcC", "ispe", "colr", "pixi"]
    private static let frameProperties = tileProperties.union(["irot"])

    /// The layout of `data`'s primary grid, or of its primary single frame as a grid of one tile, or `nil` when it
    /// is not one decoded here (see the type's notes).
    static func layout(of data: Data) -> Layout? {
        guard let meta = HEIFGrid.Meta(data) else { return nil }
        var configurations: [Int: (parameterSets: [[UInt8]], lengthSize: Int)] = [:]  // by hvcC, often one for all tiles
        if meta.types[meta.primary] == "hvc1" {
            // One HEVC frame (what libheif's heif-enc and most converters write): libheif would hold it about
            // three times over (a 48 MP frame: 355 MB for the whole `ingest`).
            guard let frame = codedItem(meta.primary, of: meta, allowed: frameProperties, maximumSide: 16_384, configurations: &configurations)
            else { return nil }
            return Layout(
                rows: 1, columns: 1, width: frame.width, height: frame.height, turns: frame.turns, tileWidth: frame.width,
                tileHeight: frame.height, tiles: [frame.tile])
        }
        guard let grid = meta.grid(in: data), let tileIDs = meta.references("dimg")[meta.primary],
              let primaryProperties = meta.properties(of: meta.primary)
        else { return nil }
        let (rows, columns, width, height) = grid

        // The grid's properties and its turn.
        var turns = 0
        for property in primaryProperties {
            guard gridProperties.contains(property.type) else { return nil }
            if property.type == "irot" {
                guard let angle = meta.bytes[safe: property.range.start] else { return nil }
                turns = Int(angle & 3)
            }
        }
        guard width > 0, height > 0, tileIDs.count == rows * columns, turns == 0 || (width % 2 == 0 && height % 2 == 0) else { return nil }

        // The tiles: one size, an hvcC each, coded data in the file.
        var tiles: [Tile] = []
        var tileSize: (width: Int, height: Int)?
        for id in tileIDs {
            guard let tile = codedItem(id, of: meta, allowed: tileProperties, maximumSide: 8192, configurations: &configurations),
                  tileSize == nil || tileSize! == (tile.width, tile.height)
            else { return nil }
            tileSize = (tile.width, tile.height)
            tiles.append(tile.tile)
        }
        // The tiles cover the output, and each row and column of them reaches into it (as HEIF requires).
        guard let tileSize, tileSize.width * columns >= width, tileSize.width * (columns - 1) < width,
              tileSize.height * rows >= height, tileSize.height * (rows - 1) < height
        else { return nil }
        return Layout(rows: rows, columns: columns, width: width, height: height, turns: turns, tileWidth: tileSize.width, tileHeight: tileSize.height, tiles: tiles)
    }

    /// An `hvc1` item's decoder configuration, coded data, size (`ispe`, even sides of at most `maximumSide`) and
    /// turn (`irot`, when `allowed` has it), or `nil` when it has a property outside `allowed` or lacks one.
    private static func codedItem(
        _ id: Int, of meta: HEIFGrid.Meta, allowed: Set<String>, maximumSide: Int,
        configurations: inout [Int: (parameterSets: [[UInt8]], lengthSize: Int)]
    ) -> (tile: Tile, width: Int, height: Int, turns: Int)? {
        guard meta.types[id] == "hvc1", let associated = meta.properties(of: id), let location = meta.locations[id], location.method == 0 else { return nil }
        var configuration: Tile?
        var size: (width: Int, height: Int)?
        var turns = 0
        for property in associated {
            guard allowed.contains(property.type) else { return nil }
            switch property.type {
            case "hvcC":
                guard configuration == nil, let parsed = configurations[property.range.start] ?? hvcC(property.range, in: meta.bytes) else { return nil }
                configurations[property.range.start] = parsed
                configuration = Tile(parameterSets: parsed.parameterSets, lengthSize: parsed.lengthSize, extents: location.extents)
            case "ispe":
                var ispe = HEIFGrid.Reader(bytes: meta.bytes, at: property.range.start + 4, end: property.range.end)
                guard let w = ispe.uint(4), let h = ispe.uint(4) else { return nil }
                size = (w, h)
            case "irot":
                guard let angle = meta.bytes[safe: property.range.start] else { return nil }
                turns = Int(angle & 3)
            default:
                break
            }
        }
        guard let configuration, let size, size.width > 0, size.height > 0, size.width <= maximumSide, size.height <= maximumSide,
              size.width % 2 == 0, size.height % 2 == 0, !configuration.extents.isEmpty, !configuration.extents.contains(where: { $0.length <= 0 })
        else { return nil }
        return (configuration, size.width, size.height, turns)
    }

    /// Thrown by ``decode(_:layout:)`` for tiles that are valid but not 8-bit 4:2:0 (their `hvcC` said they were):
    /// the caller leaves the photo to libheif.
    enum NotAssembledHere: Error { case tileFormat }

    /// Decodes every tile of `layout` from `data` into planes of the displayed size. The first tile that fails
    /// stops the others (a crafted grid of 192 references to one 4,000 × 4,000 tile took 44 s of CPU before).
    /// - Throws: ``NotAssembledHere/tileFormat``, or ``ImageError/truncated`` (a tile past the end of the
    ///   file), ``ImageError/damaged(detail:)`` (libde265 refused a tile, warned about it, or gave a picture of
    ///   another size than the tiles' `ispe`).
    static func decode(_ data: Data, layout: Layout) throws -> YCbCrImage {
        let (width, height) = layout.displayed
        // A grid's planes exist before its tiles decode (on every core at once). A single frame's are made once
        // libde265 has decoded it and its SAO filter has let go of the copy of a plane it makes, not beside the
        // whole decode (a 48 MP frame: about 45 MB less at the peak).
        let made = Mutex<Planes?>(layout.tiles.count == 1 ? nil : Planes(width: width, height: height))
        let planes: @Sendable () -> Planes = { made.withLock { made in
            if let made { return made }
            let planes = Planes(width: width, height: height)
            made = planes
            return planes
        } }
        let failures = Mutex<[(Int, any Error)]>([])
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            // Read by every thread, and alive until concurrentPerform returns.
            let file = UncheckedSendable(bytes)
            DispatchQueue.concurrentPerform(iterations: layout.tiles.count) { index in
                guard failures.withLock({ $0.isEmpty }) else { return }
                do {
                    try decodeTile(index, of: layout, file: file.value, into: planes)
                } catch {
                    failures.withLock { $0.append((index, error)) }
                }
            }
        }
        if let (_, error) = failures.withLock({ $0.min { $0.0 < $1.0 } }) { throw error }
        let decoded = planes()
        return YCbCrImage(
            width: width, height: height,
            luma: .init(base: UnsafePointer(decoded.luma), stride: decoded.lumaStride),
            cb: .init(base: UnsafePointer(decoded.cb), stride: decoded.chromaStride),
            cr: .init(base: UnsafePointer(decoded.cr), stride: decoded.chromaStride), owner: decoded)
    }

    /// Decodes tile `index` and copies it into `planes()`, called once the tile's picture is decoded.
    private static func decodeTile(_ index: Int, of layout: Layout, file: UnsafeRawBufferPointer, into planes: () -> Planes) throws {
        let tile = layout.tiles[index]
        guard let decoder = de265_new_decoder() else { throw ImageError.overBudget(detail: "libde265 could not allocate a decoder") }
        defer { de265_free_decoder(decoder) }
        func check(_ error: de265_error) throws {
            guard error != DE265_OK else { return }
            throw ImageError.damaged(detail: "\(layout.name(of: index)): \(String(cString: de265_get_error_text(error)))")
        }
        for unit in tile.parameterSets {
            try unit.withUnsafeBytes { try check(de265_push_NAL(decoder, $0.baseAddress, Int32($0.count), 0, nil)) }
        }
        for extent in tile.extents {
            guard extent.offset >= 0, extent.length <= file.count, extent.offset <= file.count - extent.length else { throw ImageError.truncated }
        }
        // The coded data: its one extent where it lies, several joined (a NAL unit may straddle two).
        let joined: [UInt8]? = tile.extents.count == 1 ? nil : tile.extents.flatMap { Array(file[$0.offset..<$0.offset + $0.length]) }
        try withCodedData(joined, or: UnsafeRawBufferPointer(rebasing: file[tile.extents[0].offset..<tile.extents[0].offset + tile.extents[0].length])) { coded in
            var at = 0
            var units = 0
            while at < coded.count {
                // libde265 queues every NAL unit pushed, a few hundred bytes each: 10 million 3-byte units ahead
                // of a small picture took 2.1 GB. An encoder writes a slice or a few per picture.
                units += 1
                guard units <= maximumNALUnits else { throw ImageError.damaged(detail: "\(layout.name(of: index)): more than \(maximumNALUnits) NAL units") }
                guard at + tile.lengthSize <= coded.count else { throw ImageError.damaged(detail: "\(layout.name(of: index)): a NAL unit's length is cut") }
                var length = 0
                for byte in 0..<tile.lengthSize { length = length << 8 | Int(coded[at + byte]) }
                at += tile.lengthSize
                guard length > 0 else { throw ImageError.damaged(detail: "\(layout.name(of: index)): a NAL unit of no bytes") }
                guard length <= coded.count - at else { throw ImageError.damaged(detail: "\(layout.name(of: index)): a NAL unit runs past its tile") }
                try check(de265_push_NAL(decoder, coded.baseAddress! + at, Int32(length), 0, nil))
                at += length
            }
        }
        try check(de265_flush_data(decoder))
        var more: Int32 = 1
        var picture: OpaquePointer?
        while more != 0, picture == nil {
            let error = de265_decode(decoder, &more)
            if error == DE265_ERROR_WAITING_FOR_INPUT_DATA { break }
            try check(error)
            picture = de265_get_next_picture(decoder)
        }
        // libde265 conceals damage in the coded data and says so in its warnings (libheif 1.15 does not read them).
        var warning = de265_get_warning(decoder)
        while warning != DE265_OK {
            if !benignWarnings.contains(warning) {
                throw ImageError.damaged(detail: "\(layout.name(of: index)): \(String(cString: de265_get_error_text(warning)))")
            }
            warning = de265_get_warning(decoder)
        }
        guard let picture else { throw ImageError.damaged(detail: "\(layout.name(of: index)): no picture decoded") }
        guard de265_get_chroma_format(picture) == de265_chroma_420, (0..<3).allSatisfy({ de265_get_bits_per_pixel(picture, $0) == 8 })
        else { throw NotAssembledHere.tileFormat }
        guard de265_get_image_width(picture, 0) == layout.tileWidth, de265_get_image_height(picture, 0) == layout.tileHeight,
              de265_get_image_width(picture, 1) >= layout.tileWidth / 2, de265_get_image_height(picture, 1) >= layout.tileHeight / 2
        else {
            throw ImageError.damaged(detail: "\(layout.name(of: index)): a picture of \(de265_get_image_width(picture, 0))×\(de265_get_image_height(picture, 0)), its ispe says \(layout.tileWidth)×\(layout.tileHeight)")
        }
        let (row, column) = (index / layout.columns, index % layout.columns)
        let planes = planes()
        for channel in 0..<3 {
            var stride: Int32 = 0
            guard let source = de265_get_image_plane(picture, Int32(channel), &stride) else {
                throw ImageError.damaged(detail: "\(layout.name(of: index)): no plane \(channel)")
            }
            let chroma = channel > 0
            let (tileWidth, tileHeight) = chroma ? (layout.tileWidth / 2, layout.tileHeight / 2) : (layout.tileWidth, layout.tileHeight)
            let (gridWidth, gridHeight) = chroma ? ((layout.width + 1) / 2, (layout.height + 1) / 2) : (layout.width, layout.height)
            let target = channel == 0 ? planes.luma : channel == 1 ? planes.cb : planes.cr
            place(
                source, stride: Int(stride), at: (column * tileWidth, row * tileHeight), size: (tileWidth, tileHeight),
                grid: (gridWidth, gridHeight), turns: layout.turns, into: target, stride: chroma ? planes.chromaStride : planes.lumaStride)
        }
    }

    private static func withCodedData(_ joined: [UInt8]?, or inPlace: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let joined { try joined.withUnsafeBytes(body) } else { try body(inPlace) }
    }

    /// Copies a tile's plane, whose top-left lies at `origin` of the stored grid plane of `grid` size, to where it
    /// is displayed after `turns` anticlockwise quarter turns; what lies outside the grid is dropped.
    static func place(
        _ source: UnsafePointer<UInt8>, stride: Int, at origin: (x: Int, y: Int), size: (width: Int, height: Int),
        grid: (width: Int, height: Int), turns: Int, into target: UnsafeMutablePointer<UInt8>, stride targetStride: Int
    ) {
        let columns = max(0, min(size.width, grid.width - origin.x))
        let rows = max(0, min(size.height, grid.height - origin.y))
        guard columns > 0, rows > 0 else { return }
        for y in 0..<rows {
            let from = source + y * stride
            let (gy, gx) = (origin.y + y, origin.x)
            switch turns {
            case 0:
                (target + gy * targetStride + gx).update(from: from, count: columns)
            case 1:  // stored (x, y) is displayed at (y, W − 1 − x)
                for x in 0..<columns { target[(grid.width - 1 - (gx + x)) * targetStride + gy] = from[x] }
            case 2:  // (W − 1 − x, H − 1 − y)
                let line = target + (grid.height - 1 - gy) * targetStride
                for x in 0..<columns { line[grid.width - 1 - (gx + x)] = from[x] }
            default:  // (H − 1 − y, x)
                for x in 0..<columns { target[(gx + x) * targetStride + grid.height - 1 - gy] = from[x] }
            }
        }
    }

    /// The planes being filled, freed when the last ``YCbCrImage`` using them goes.
    final class Planes: @unchecked Sendable {
        let luma: UnsafeMutablePointer<UInt8>
        let cb: UnsafeMutablePointer<UInt8>
        let cr: UnsafeMutablePointer<UInt8>
        let lumaStride: Int
        let chromaStride: Int

        init(width: Int, height: Int) {
            (lumaStride, chromaStride) = (width, (width + 1) / 2)
            let chromaCount = chromaStride * ((height + 1) / 2)
            luma = .allocate(capacity: width * height)
            luma.initialize(repeating: 0, count: width * height)
            cb = .allocate(capacity: chromaCount)
            cb.initialize(repeating: 128, count: chromaCount)
            cr = .allocate(capacity: chromaCount)
            cr.initialize(repeating: 128, count: chromaCount)
        }

        deinit {
            luma.deallocate()
            cb.deallocate()
            cr.deallocate()
        }
    }

    // MARK: Boxes

    /// An `hvcC`'s parameter sets and NAL length size (ISO/IEC 14496-15 §8.3.3.1).
    private static func hvcC(_ range: HEIFGrid.Range, in bytes: [UInt8]) -> (parameterSets: [[UInt8]], lengthSize: Int)? {
        guard range.end - range.start >= 23 else { return nil }
        let lengthSize = Int(bytes[range.start + 21] & 3) + 1
        var reader = HEIFGrid.Reader(bytes: bytes, at: range.start + 22, end: range.end)
        guard let arrays = reader.byte() else { return nil }
        var units: [[UInt8]] = []
        for _ in 0..<arrays {
            reader.skip(1)
            guard let count = reader.uint(2) else { return nil }
            for _ in 0..<count {
                guard let length = reader.uint(2), reader.at + length <= reader.end else { return nil }
                units.append(Array(bytes[reader.at..<reader.at + length]))
                reader.skip(length)
            }
        }
        return lengthSize == 3 ? nil : (units, lengthSize)
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
