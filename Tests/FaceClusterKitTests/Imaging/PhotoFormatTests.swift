@testable import FaceClusterKit
@testable import FaceClusterLocal
import Foundation
import Testing

/// PNG, WebP and HEIC, decoded by content (never by extension) through libpng, libwebp and libheif: each the
/// twin of one JPEG — the same displayed pixels — must give the same pixels, face boxes and thumbnails.
@Suite("Photo formats")
struct PhotoFormatTests {
    /// A real face photo (626 × 1200), as displayed.
    static func displayed() throws -> PixelBuffer {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/obama2", withExtension: "jpg"))
        let image = try UprightImage(decoding: try Data(contentsOf: url), maximumPixels: .max)
        return PixelBuffer(width: image.width, height: image.height, pixels: image.pixels)
    }

    enum Twin: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case png8, png16, pngPalette, pngGrey, pngAlpha, pngTurned, webpLossy, webpLossless, webpAlpha, heic

        /// The twin of the fixture photo, encoded once per run on a thread of its own (x265 and libwebp's
        /// encoders are seconds of CPU that must not hold Swift's cooperative threads).
        func fixture() async throws -> Data {
            let twin = self
            return try await BlockingWork.run { try FormatFactory.cached("obama2.\(twin.rawValue)") { try twin.encode(try PhotoFormatTests.displayed()) } }
        }

        func encode(_ buffer: PixelBuffer) throws -> Data {
            switch self {
            case .png8: try FormatFactory.png(buffer, .rgb8)
            case .png16: try FormatFactory.png(buffer, .rgb16)
            case .pngPalette: try FormatFactory.png(buffer, .palette)
            case .pngGrey: try FormatFactory.png(buffer, .grey)
            case .pngAlpha: try FormatFactory.png(buffer, .rgba)
            case .pngTurned: FormatFactory.png(try FormatFactory.png(buffer.stored(for: .right)), exif: .right)
            case .webpLossy: try FormatFactory.webp(buffer, .lossy)
            case .webpLossless: try FormatFactory.webp(buffer, .lossless)
            case .webpAlpha: try FormatFactory.webp(buffer, .alpha)
            case .heic: try FormatFactory.heic(buffer)
            }
        }

        /// What the decoder should give back: grey for the grey PNG, the palette's colours for the palette one,
        /// a white frame where the alpha ones are transparent.
        func expected(_ buffer: PixelBuffer) -> PixelBuffer {
            var expected = buffer
            switch self {
            case .pngPalette:
                expected.pixels = buffer.pixels.map { UInt8((Int($0) + 25) / 51 * 51) }
            case .pngGrey:
                for at in stride(from: 0, to: expected.pixels.count, by: 3) {
                    let grey = FormatFactory.grey(buffer.pixels, at)
                    expected.pixels.replaceSubrange(at..<at + 3, with: [grey, grey, grey])
                }
            case .pngAlpha, .webpAlpha:
                for index in 0..<buffer.width * buffer.height {
                    if FormatFactory.inFrame(index, of: buffer) {
                        expected.pixels.replaceSubrange(index * 3..<index * 3 + 3, with: [255, 255, 255])
                    }
                }
            default: break
            }
            return expected
        }

        /// The mean difference per channel allowed: lossless formats round-trip, lossy ones and the palette do not.
        var tolerance: Double {
            switch self {
            case .png8, .pngGrey, .pngAlpha, .pngPalette, .pngTurned, .webpLossless: 0.5
            case .png16: 1.5
            case .webpLossy, .webpAlpha, .heic: 5
            }
        }

        var format: ImageFormat {
            switch self {
            case .png8, .png16, .pngPalette, .pngGrey, .pngAlpha, .pngTurned: .png
            case .webpLossy, .webpLossless, .webpAlpha: .webp
            case .heic: .heic
            }
        }

        var testDescription: String { rawValue }
    }

    @Test("each format decodes by its bytes to the pixels it was made from", arguments: Twin.allCases)
    func pixels(_ twin: Twin) async throws {
        let displayed = try Self.displayed()
        let data = try await twin.fixture()
        #expect(ImageFormat(sniffing: data) == twin.format)
        let decoded = try UprightImage(decoding: data, maximumPixels: .max, decoders: .local)
        try #require(decoded.width == displayed.width && decoded.height == displayed.height, "\(decoded.width)×\(decoded.height)")
        let difference = PixelBuffer(width: decoded.width, height: decoded.height, pixels: decoded.pixels).meanDifference(from: twin.expected(displayed))
        #expect(difference <= twin.tolerance, "mean difference \(difference)")
        let info = try TurboJPEGThumbnailCropper(decoders: .local).imageInfo(of: data)
        #expect(info.width == displayed.width && info.height == displayed.height && info.format == twin.format.rawValue.lowercased())
    }

    @Test("a PNG is shown turned by an eXIf orientation before its image data (as browsers show it), as stored by one after it or one that fails its CRC", arguments: Orientation.allCases)
    func pngOrientation(_ orientation: Orientation) throws {
        let displayed = JPEGFactory.quadrants(width: 320, height: 240, box: BoundingBox(left: 0.25, top: 0.25, width: 0.5, height: 0.5))
        let stored = displayed.stored(for: orientation)
        let plain = try FormatFactory.png(stored)
        let cropper = TurboJPEGThumbnailCropper(decoders: .local)

        let turned = FormatFactory.png(plain, exif: orientation)
        let decoded = try UprightImage(decoding: turned, maximumPixels: .max, decoders: .local)
        try #require(decoded.width == 320 && decoded.height == 240, "\(decoded.width)×\(decoded.height)")
        let buffer = PixelBuffer(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
        #expect(buffer.meanDifference(from: displayed) == 0, "orientation \(orientation)")
        #expect(try cropper.imageInfo(of: turned) == ImageInfo(width: 320, height: 240, orientation: orientation, format: "png"))

        let late = FormatFactory.png(plain, exif: orientation, afterImageData: true)
        let asStored = try UprightImage(decoding: late, maximumPixels: .max, decoders: .local)
        try #require(asStored.width == stored.width && asStored.height == stored.height, "\(asStored.width)×\(asStored.height)")
        #expect(PixelBuffer(width: asStored.width, height: asStored.height, pixels: asStored.pixels).meanDifference(from: stored) == 0)
        #expect(try cropper.imageInfo(of: late).orientation == .up)

        // An eXIf that fails its CRC is dropped, as libpng drops it.
        let spoiled = FormatFactory.png(plain, exif: orientation, badCRC: true)
        #expect(try cropper.imageInfo(of: spoiled) == ImageInfo(width: stored.width, height: stored.height, orientation: .up, format: "png"))
    }

    @Test("a WebP is shown as stored whatever its EXIF orientation says, as browsers show it (its EXIF comes after the image data)")
    func webpOrientationIgnored() throws {
        let stored = JPEGFactory.quadrants(width: 320, height: 240, box: BoundingBox(left: 0.25, top: 0.25, width: 0.5, height: 0.5))
        let data = FormatFactory.webp(try FormatFactory.webp(stored, .lossless), exif: .right, width: 320, height: 240)
        let decoded = try UprightImage(decoding: data, maximumPixels: .max, decoders: .local)
        try #require(decoded.width == 320 && decoded.height == 240, "\(decoded.width)×\(decoded.height)")
        #expect(PixelBuffer(width: decoded.width, height: decoded.height, pixels: decoded.pixels).meanDifference(from: stored) == 0)
        #expect(try TurboJPEGThumbnailCropper(decoders: .local).imageInfo(of: data) == ImageInfo(width: 320, height: 240, orientation: .up, format: "webp"))
    }

    @Test("a photo up to wholePhotoPixels is decoded whole at full size, a larger one within maximumPixels (JPEG and PNG)")
    func wholePhotos() throws {
        for (width, height) in [(2000, 1500), (3000, 2000)] {
            let displayed = JPEGFactory.quadrants(width: width, height: height, box: BoundingBox(left: 0.25, top: 0.25, width: 0.5, height: 0.5))
            for data in [JPEGFactory.jpeg(displayed), try FormatFactory.png(displayed)] {
                let image = try UprightImage(decoding: data, maximumPixels: 2_000_000, wholePhotoPixels: 4_000_000, decoders: .local)
                if width * height <= 4_000_000 {
                    #expect(image.scale == 1 && image.width == width && image.height == height, "\(width)×\(height) → \(image.width)×\(image.height)")
                } else {
                    #expect(image.scale < 1 && image.width * image.height <= 2_000_000, "\(width)×\(height) → \(image.width)×\(image.height)")
                }
            }
        }
    }

    @Test("the local engine finds the same face, and cuts the same thumbnail, in every format as in the JPEG twin", arguments: [Twin.png8, .pngPalette, .pngTurned, .webpLossy, .webpAlpha, .heic])
    func facesAndThumbnails(_ twin: Twin) async throws {
        let displayed = try Self.displayed()
        let engine = try LocalFaceEngine(database: try LocalDatabase.inMemory())
        let jpegFaces = try await engine.detectFaces(in: ImageInput(data: JPEGFactory.jpeg(displayed, quality: 92)))
        let faces = try await engine.detectFaces(in: ImageInput(data: try await twin.fixture()))
        let jpegFace = try #require(jpegFaces.first)
        let face = try #require(faces.first)
        #expect(faces.count == jpegFaces.count)
        #expect(face.boundingBox.overlap(with: jpegFace.boundingBox) > 0.9, "\(face.boundingBox) vs \(jpegFace.boundingBox)")

        let cropper = TurboJPEGThumbnailCropper(decoders: .local)
        let spec = ThumbnailSpec(size: 160)
        let fromJPEG = try await cropper.thumbnails(of: JPEGFactory.jpeg(displayed, quality: 92), boxes: [jpegFace.boundingBox], spec: spec)
        let fromTwin = try await cropper.thumbnails(of: try await twin.fixture(), boxes: [jpegFace.boundingBox], spec: spec)
        let (a, b) = (JPEGFactory.decode(try #require(fromJPEG.first)), JPEGFactory.decode(try #require(fromTwin.first)))
        #expect(ImageFormat(sniffing: try #require(fromTwin.first)) == .jpeg, "thumbnails stay JPEG")
        try #require(a.width == 160 && b.width == 160 && a.height == b.height)
        // The palette's own error (a 6-level colour cube) shows in its thumbnail; the others are within the codecs'.
        #expect(a.meanDifference(from: b) <= (twin == .pngPalette ? 16 : twin.tolerance + 4))
    }

    @Test("HEIC in each of the 8 orientations is shown upright", arguments: Orientation.allCases)
    func heicOrientation(_ orientation: Orientation) async throws {
        let displayed = JPEGFactory.quadrants(width: 320, height: 240, box: BoundingBox(left: 0.25, top: 0.25, width: 0.5, height: 0.5))
        let data = try await BlockingWork.run { try FormatFactory.heic(displayed, orientation: orientation) }
        let decoded = try UprightImage(decoding: data, maximumPixels: .max, decoders: .local)
        try #require(decoded.width == 320 && decoded.height == 240, "\(decoded.width)×\(decoded.height)")
        let buffer = PixelBuffer(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
        for (x, y, colour) in [(120, 90, JPEGFactory.Colour.red), (200, 90, JPEGFactory.Colour.green), (120, 150, JPEGFactory.Colour.blue), (200, 150, JPEGFactory.Colour.yellow)] {
            #expect(JPEGFactory.close(JPEGFactory.meanColour(buffer, x: x, y: y), to: colour), "at \(x),\(y) for orientation \(orientation)")
        }
        let info = try TurboJPEGThumbnailCropper(decoders: .local).imageInfo(of: data)
        #expect(info.width == 320 && info.height == 240)
    }

    @Test("a HEIC is kept as libheif's YCbCr planes, which turn into libheif's own RGB whole, reduced and in a region")
    func heicPlanes() async throws {
        // An odd size, so the last chroma column and row cover one luma pixel, and a region past the edge.
        let displayed = try Self.displayed().resampled(region: (0, 0, 626, 1200), toWidth: 313, height: 601)
        let data = try await BlockingWork.run { try FormatFactory.heic(displayed) }
        let decoder = HEIFDecoder()
        let planes = try decoder.decodeImage(data)
        #expect(planes is YCbCrImage, "an 8-bit 4:2:0 HEIC without alpha stays planar")
        let libheif = try decoder.decode(data)
        let whole = planes.wholeRGB()
        try #require(whole.width == libheif.width && whole.height == libheif.height)
        // libheif 1.15 takes the nearest chroma sample too, but smooths it where chroma changes sharply: 0.02
        // on average over a 48 MP photo.
        #expect(whole.meanDifference(from: libheif) <= 0.1, "full size: \(whole.meanDifference(from: libheif))")
        for (region, size) in [((0.0, 0.0, 313.0, 601.0), (156, 300)), ((40.5, 100.25, 200.0, 200.0), (48, 48)), ((250.0, 560.0, 120.0, 120.0), (60, 60))] {
            let ours = planes.resampled(region: region, toWidth: size.0, height: size.1)
            let theirs = libheif.resampled(region: region, toWidth: size.0, height: size.1)
            #expect(ours.meanDifference(from: theirs) <= 1.5, "\(region) → \(size): mean difference \(ours.meanDifference(from: theirs))")
        }
    }

    @Test("an iPhone-like grid HEIC: its planes are libheif's RGB; a grid larger than its image is refused before decoding; another matrix or limited range goes through libheif's RGB")
    func heicGrid() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/grid", withExtension: "heic"))
        let grid = try Data(contentsOf: url)
        let decoder = HEIFDecoder()
        let planes = try decoder.decodeImage(grid)
        #expect(planes is YCbCrImage && planes.width == 156 && planes.height == 300)
        // libheif assembles a grid in RGB and subsamples its chroma again for the planes.
        let difference = planes.wholeRGB().meanDifference(from: try decoder.decode(grid))
        #expect(difference <= 1.5, "mean difference \(difference)")

        // The ImageGrid payload (8 bytes at the start of mdat here) saying 30000 × 30000: libheif would build that.
        var bomb = grid
        let payload = try #require(bomb.firstRange(of: Data("mdat".utf8))).upperBound
        bomb.replaceSubrange(payload + 4..<payload + 8, with: [0x75, 0x30, 0x75, 0x30])
        let claimed = try #require(HEIFGrid.outputSize(of: bomb))
        #expect(claimed == (30000, 30000))
        #expect { try UprightImage(decoding: bomb, decoders: .local) } throws: { error in
            guard case .corrupt(let detail) = error as? ImageError else { return false }
            return detail.contains("grid is 30000×30000")
        }

        // colr nclx: primaries, transfer, matrix (u16 each), then the full-range bit.
        let nclx = try #require(grid.firstRange(of: Data("nclx".utf8))).upperBound
        for (matrix, range) in [(UInt8(1), UInt8(0x80)), (6, 0x00)] {
            var other = grid
            other[nclx + 5] = matrix
            other[nclx + 6] = range
            #expect(try decoder.decodeImage(other) is PixelBuffer, "matrix \(matrix), full range \(range != 0): libheif converts it")
        }
    }

    @Test("a grid HEIC is assembled from its tiles (no RGB copy) as libheif shows it, turned by its irot; what the tiles path does not know goes to libheif", arguments: [0, 90, 180, 270])
    func heicGridTiles(_ rotation: Int) throws {
        let name = rotation == 0 ? "Fixtures/grid" : "Fixtures/grid-rot\(rotation)"
        let grid = try Data(contentsOf: try #require(Bundle.module.url(forResource: name, withExtension: "heic")))
        let layout = try #require(HEIFGridTiles.layout(of: grid), "the tiles path takes an iPhone-like grid")
        #expect(layout.turns == rotation / 90)
        #expect(layout.displayed == (156, 300), "the stored \(layout.width)×\(layout.height) turned")
        let decoder = HEIFDecoder()
        let planes = try decoder.decodeImage(grid)
        let libheif = try decoder.decode(grid)
        try #require(planes.width == libheif.width && planes.height == libheif.height)
        // libheif assembles the grid in RGB and subsamples its chroma again for its planes; these are the tiles' own.
        let difference = planes.wholeRGB().meanDifference(from: libheif)
        #expect(difference <= 1.5, "mean difference \(difference)")
        // Upright: close to the photo the fixture was made from (turned 180°, it differs by far more).
        let upright = try Self.displayed().resampled(region: (0, 0, 626, 1200), toWidth: 156, height: 300)
        let fromSource = planes.wholeRGB().meanDifference(from: upright)
        #expect(fromSource <= 6, "mean difference from the upright source \(fromSource)")

        guard rotation != 0 else { return }
        // The same property called imir (a mirror, one byte too): the tiles path leaves it to libheif.
        var mirrored = grid
        let irot = try #require(mirrored.firstRange(of: Data("irot".utf8)))
        mirrored.replaceSubrange(irot, with: Data("imir".utf8))
        #expect(HEIFGridTiles.layout(of: mirrored) == nil)
        let viaLibheif = try decoder.decodeImage(mirrored)
        #expect(viaLibheif.width > 0 && viaLibheif.height > 0)
    }

    @Test("a grid HEIC cropped by a clap is shown cropped (by libheif), not refused as a grid larger than its image")
    func heicGridClap() throws {
        let cropped = try Data(contentsOf: try #require(Bundle.module.url(forResource: "Fixtures/grid-clap", withExtension: "heic")))
        #expect(HEIFGridTiles.layout(of: cropped) == nil, "a clap is libheif's to apply")
        let decoder = HEIFDecoder()
        #expect(try decoder.size(of: cropped) == (200, 100))
        let image = try UprightImage(decoding: cropped, decoders: .local)
        #expect(image.width == 200 && image.height == 100)
    }

    @Test("a grid HEIC whose tile is damaged or cut short fails with its reason, not as a photo")
    func heicGridDamage() throws {
        let grid = try Data(contentsOf: try #require(Bundle.module.url(forResource: "Fixtures/grid", withExtension: "heic")))
        let layout = try #require(HEIFGridTiles.layout(of: grid))
        let last = try #require(layout.tiles.last?.extents.last)
        #expect(throws: ImageError.truncated) { try HEIFGridTiles.decode(grid.prefix(last.offset + last.length / 2), layout: layout) }
        // A NAL unit's length field saying more than its tile holds.
        var damaged = grid
        let first = try #require(layout.tiles.first?.extents.first)
        damaged[first.offset] = 0x7F
        #expect { try HEIFGridTiles.decode(damaged, layout: layout) } throws: { error in
            guard case .damaged(let detail) = error as? ImageError else { return false }
            return detail.contains("tile 1")
        }
        // The grid made one of its own tiles (its first `dimg` reference its own id): libheif 1.15 starts decoding
        // threads without end on this; it is refused before libheif reads it.
        var cycle = grid
        let dimg = try #require(cycle.firstRange(of: Data("dimg".utf8))).upperBound
        cycle[dimg + 4] = cycle[dimg]
        cycle[dimg + 5] = cycle[dimg + 1]
        #expect { try UprightImage(decoding: cycle, decoders: .local) } throws: { error in
            guard case .corrupt(let detail) = error as? ImageError else { return false }
            return detail.contains("derived from itself")
        }
        // Bytes flipped inside a tile's slice data: libde265 conceals the damage and warns, so it is not a photo.
        var flipped = grid
        let third = try #require(layout.tiles.dropFirst(2).first?.extents.first)
        for offset in third.offset + third.length / 2..<third.offset + third.length / 2 + 40 { flipped[offset] ^= 0x5A }
        #expect { try HEIFGridTiles.decode(flipped, layout: layout) } throws: { error in
            guard case .damaged(let detail) = error as? ImageError else { return false }
            return detail.contains("tile 3")
        }
    }

    @Test("a frame holding more NAL units than a picture needs is refused before libde265 queues them all")
    func tooManyNALUnits() async throws {
        let heic = try await Twin.heic.fixture()
        var layout = try #require(HEIFGridTiles.layout(of: heic))
        let tile = try #require(layout.tiles.first)
        let coded = tile.extents.flatMap { Array(heic[$0.offset..<$0.offset + $0.length]) }
        // An access unit delimiter (NAL type 35): 3 bytes after its length field. 10 million of them ahead of a
        // small picture took 2.1 GB in libde265's queue.
        let delimiter = [UInt8](repeating: 0, count: tile.lengthSize - 1) + [3, 0x46, 0x01, 0x50]
        func file(delimiters: Int) -> Data {
            let appended = Array(repeating: delimiter, count: delimiters).flatMap { $0 } + coded
            layout.tiles[0].extents = [(offset: heic.count, length: appended.count)]
            return heic + Data(appended)
        }
        let few = file(delimiters: 10)
        #expect(try HEIFGridTiles.decode(few, layout: layout).width == layout.displayed.width, "a few delimiters are fine")
        let many = file(delimiters: HEIFGridTiles.maximumNALUnits)
        #expect { try HEIFGridTiles.decode(many, layout: layout) } throws: { error in
            guard case .damaged(let detail) = error as? ImageError else { return false }
            return detail.contains("more than \(HEIFGridTiles.maximumNALUnits) NAL units")
        }
    }

    @Test("planes handed off for thumbnails are taken once, only for the same bytes and limits, two at most")
    func handOff() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/grid", withExtension: "heic"))
        let grid = try Data(contentsOf: url)
        let planes = try #require(try HEIFDecoder().decodeImage(grid) as? YCbCrImage)
        let recent = RecentlyDecoded(capacity: 2)
        var other = grid
        other[other.count - 1] ^= 1  // same size, one byte apart
        recent.offer(planes, scale: 1, for: grid, pixelLimit: 100_000_000, budget: DecodeBudget())
        #expect(recent.take(for: other, pixelLimit: 100_000_000, budget: DecodeBudget()) == nil)
        #expect(recent.take(for: grid, pixelLimit: 50_000_000, budget: DecodeBudget()) == nil, "a stricter limit decodes again")
        let taken = try #require(recent.take(for: grid, pixelLimit: 100_000_000, budget: DecodeBudget()))
        #expect(taken.wholeRGB().pixels == planes.wholeRGB().pixels)
        #expect(recent.take(for: grid, pixelLimit: 100_000_000, budget: DecodeBudget()) == nil, "taken once")
        for bytes in [grid, other, Data(grid.reversed())] { recent.offer(planes, scale: 1, for: bytes, pixelLimit: 1, budget: DecodeBudget()) }
        #expect(recent.take(for: grid, pixelLimit: 1, budget: DecodeBudget()) == nil, "the oldest of three went")
        #expect(recent.take(for: other, pixelLimit: 1, budget: DecodeBudget()) != nil)
    }

    @Test("a HEIC is charged its planes against the memory budget (3 bytes a pixel), a PNG its RGB (3), a lossy WebP its RGB (3)")
    func planarBudget() async throws {
        let displayed = try Self.displayed()
        let pixels = displayed.width * displayed.height
        let fits = DecodeBudget(memory: pixels * 3 + 1000), short = DecodeBudget(memory: pixels * 3 - 1000)
        for twin in [Twin.heic, .png8, .webpLossy] {
            let data = try await twin.fixture()
            let image = try UprightImage(decoding: data, maximumPixels: 2_000_000, decoders: .local, budget: fits)
            #expect(image.width == displayed.width, "\(twin) fits 3 bytes a pixel")
            #expect("\(twin) under 3 bytes a pixel") { try UprightImage(decoding: data, decoders: .local, budget: short) } throws: { Self.isOverBudget($0) }
        }
        // With alpha, libwebp gives RGBA: 4 bytes a pixel.
        let alpha = try await Twin.webpAlpha.fixture()
        #expect { try UprightImage(decoding: alpha, decoders: .local, budget: fits) } throws: { Self.isOverBudget($0) }
    }

    static func isOverBudget(_ error: any Error) -> Bool {
        if case .overBudget = error as? ImageError { return true }
        return false
    }

    @Test("damaged and cut-off files of each format fail with a typed error, never as photos without faces")
    func damaged() async throws {
        for twin in [Twin.png8, .webpLossy, .heic] {
            let whole = try await twin.fixture()
            #expect(throws: ImageError.self, "\(twin) cut at a third") { try UprightImage(decoding: whole.prefix(whole.count / 3), decoders: .local) }
            var scrambled = whole
            for at in stride(from: whole.count / 2, to: whole.count / 2 + 400, by: 7) { scrambled[at] ^= 0x5A }
            if twin == .heic { #expect(HEIFGridTiles.layout(of: whole)?.tiles.count == 1, "a single frame, decoded by libde265 here") }
            do {
                let image = try UprightImage(decoding: scrambled, decoders: .local)
                // VP8 carries no checksum: a scrambled stream may decode to garbage pixels, as a JPEG's can.
                #expect(twin == .webpLossy, "libpng checks every chunk's CRC, libde265 warns about what it conceals: \(image.width)×\(image.height) decoded")
            } catch {
                #expect(error is ImageError)
                if twin != .webpLossy { #expect(PhotoFailure(error).code == .damagedImage, "\(twin): \(error)") }
            }
        }
        let heic = try await Twin.heic.fixture()
        #expect(throws: ImageError.unsupportedFormat("HEIC")) { try UprightImage(decoding: heic) }
    }

    @Test("`facecluster ingest` takes a WebP named .jpg, a HEIC and a PNG of one face by what they are: one person in 3 photos")
    func commandLine() async throws {
        let displayed = try Self.displayed()
        let folder = Scratch.url("fck-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await Twin.webpLossy.fixture().write(to: folder.appendingPathComponent("press.jpg"))
        try await BlockingWork.run { try FormatFactory.heic(displayed, orientation: .right) }.write(to: folder.appendingPathComponent("IMG_0001.HEIC"))
        try await Twin.pngPalette.fixture().write(to: folder.appendingPathComponent("screenshot.png"))
        let run = try await CommandLineTests.run(["ingest", "--json", "."], in: folder)
        #expect(run.status == 0, "\(run.errors)")
        let summary = try #require(try run.json() as? [String: Any])
        #expect(summary["indexed"] as? Int == 3 && summary["failed"] as? Int == 0 && summary["people"] as? Int == 1, "\(summary)")
        let people = try #require(try await CommandLineTests.run(["people", "--json"], in: folder).json() as? [[String: Any]])
        #expect(people.first?["photoCount"] as? Int == 3, "\(people)")
    }

    @Test("the Lambda's Rekognition images: PNG as it is (as upright JPEG bytes when its eXIf turns it), WebP as JPEG bytes, HEIC refused by name before any call")
    func rekognitionImages() async throws {
        let displayed = try Self.displayed()
        let images = RekognitionImages(buckets: ["raw"])
        let reference = PhotoReference(store: "raw", key: "uploads/photo")
        let png = try await images.image(ImageInput(data: try await Twin.png8.fixture(), reference: reference))
        #expect(png.S3Object?.Bucket == "raw", "Rekognition reads PNG from S3 itself")
        // Rekognition does not turn a PNG by its eXIf: one that is turned goes as upright JPEG bytes.
        let turned = try await images.image(ImageInput(data: try await Twin.pngTurned.fixture(), reference: reference))
        let upright = try UprightImage(decoding: try #require(turned.Bytes), maximumPixels: .max)
        #expect(upright.width == displayed.width && upright.height == displayed.height, "\(upright.width)×\(upright.height)")
        let webp = try await images.image(ImageInput(data: try await Twin.webpLossy.fixture(), reference: reference))
        let bytes = try #require(webp.Bytes)
        #expect(ImageFormat(sniffing: bytes) == .jpeg && bytes.count <= RekognitionImages.maximumBytes)
        let converted = try UprightImage(decoding: bytes, maximumPixels: .max)
        #expect(converted.width == displayed.width && converted.height == displayed.height)
        await #expect(throws: ImageError.unsupportedFormat("HEIC")) {
            _ = try await images.image(ImageInput(data: try await Twin.heic.fixture(), reference: reference))
        }
    }
}
