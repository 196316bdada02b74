@testable import FaceClusterKit
import Foundation
import Testing

@Suite("TurboJPEG thumbnails")
struct TurboJPEGThumbnailCropperTests {
    let cropper = TurboJPEGThumbnailCropper()
    let box = BoundingBox(left: 0.55, top: 0.2, width: 0.25, height: 0.3)

    /// Checks the four quadrants of a thumbnail of the quadrant square, with the default margin (0.25):
    /// the face occupies the middle 2/3 of the thumbnail.
    func expectQuadrants(_ thumbnail: Data, _ context: String) {
        let pixels = JPEGFactory.decode(thumbnail)
        #expect(pixels.width == 160 && pixels.height == 160, "\(context)")
        let (low, high) = (58, 102)
        let samples = [
            (JPEGFactory.meanColour(pixels, x: low, y: low), JPEGFactory.Colour.red, "top-left red"),
            (JPEGFactory.meanColour(pixels, x: high, y: low), JPEGFactory.Colour.green, "top-right green"),
            (JPEGFactory.meanColour(pixels, x: low, y: high), JPEGFactory.Colour.blue, "bottom-left blue"),
            (JPEGFactory.meanColour(pixels, x: high, y: high), JPEGFactory.Colour.yellow, "bottom-right yellow"),
        ]
        for (colour, expected, name) in samples {
            #expect(JPEGFactory.close(colour, to: expected), "\(context): \(name) is \(colour.map { Int($0) })")
        }
        #expect(JPEGFactory.close(JPEGFactory.meanColour(pixels, x: 8, y: 80), to: [128, 128, 128]), "\(context): margin is background")
    }

    @Test("every EXIF orientation: the box, normalized to the displayed photo, lands on the face", arguments: Orientation.allCases)
    func orientations(_ orientation: Orientation) async throws {
        let displayed = JPEGFactory.quadrants(width: 800, height: 600, box: box)
        let jpeg = JPEGFactory.jpeg(displayed, orientation: orientation)
        let info = try cropper.imageInfo(of: jpeg)
        #expect(info.width == 800 && info.height == 600 && info.orientation == orientation)
        let thumbnails = try await cropper.thumbnails(of: jpeg, boxes: [box], spec: ThumbnailSpec())
        expectQuadrants(try #require(thumbnails.first), "orientation \(orientation.rawValue)")
    }

    @Test("every EXIF orientation of a real photo gives the same face thumbnail", arguments: Orientation.allCases)
    func realPhoto(_ orientation: Orientation) async throws {
        let original = try Data(contentsOf: #require(Bundle.module.url(forResource: "obama2", withExtension: "jpg", subdirectory: "Fixtures")))
        let face = BoundingBox(left: 0.32, top: 0.18, width: 0.52, height: 0.35)
        let displayed = JPEGFactory.decode(original)
        let upright = try #require(try await cropper.thumbnails(of: JPEGFactory.jpeg(displayed, quality: 95), boxes: [face], spec: ThumbnailSpec()).first)
        let turned = try #require(try await cropper.thumbnails(of: JPEGFactory.jpeg(displayed, orientation: orientation, quality: 95), boxes: [face], spec: ThumbnailSpec()).first)
        let (a, b) = (JPEGFactory.decode(upright), JPEGFactory.decode(turned))
        let difference = zip(a.pixels, b.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(a.pixels.count)
        #expect(difference < 6, "mean difference \(difference) levels for orientation \(orientation.rawValue)")
    }

    @Test("faces in separate bands and columns: only their region is decoded, each lands right, in colour and in CMYK",
          arguments: Orientation.allCases, [JPEGFactory.Kind.baseline, .cmyk])
    func severalRegions(_ orientation: Orientation, _ kind: JPEGFactory.Kind) async throws {
        let boxes = [
            BoundingBox(left: 0.05, top: 0.05, width: 0.12, height: 0.16), BoundingBox(left: 0.8, top: 0.1, width: 0.12, height: 0.16),
            BoundingBox(left: 0.45, top: 0.75, width: 0.12, height: 0.16),
        ]
        var displayed = JPEGFactory.quadrants(width: 1200, height: 900, box: boxes[0])
        for box in boxes.dropFirst() {
            let patch = JPEGFactory.quadrants(width: 1200, height: 900, box: box)
            let rect = box.pixels(inWidth: 1200, height: 900)
            for y in rect.y..<(rect.y + rect.height) {
                let at = (y * 1200 + rect.x) * 3
                displayed.pixels.replaceSubrange(at..<at + rect.width * 3, with: patch.pixels[at..<at + rect.width * 3])
            }
        }
        let thumbnails = try await cropper.thumbnails(of: JPEGFactory.jpeg(displayed, orientation: orientation, kind: kind), boxes: boxes, spec: ThumbnailSpec())
        #expect(thumbnails.count == boxes.count)
        for (n, thumbnail) in thumbnails.enumerated() { expectQuadrants(thumbnail, "\(kind), orientation \(orientation.rawValue), face \(n)") }
    }

    @Test("a turned photo decodes straight to its displayed pixels: the same as decoding it and turning the copy",
          arguments: Orientation.allCases, [JPEGFactory.Kind.baseline, .progressive, .grayscale, .cmyk])
    func decodedUpright(_ orientation: Orientation, _ kind: JPEGFactory.Kind) throws {
        let original = try Data(contentsOf: #require(Bundle.module.url(forResource: "obama2", withExtension: "jpg", subdirectory: "Fixtures")))
        let displayed = JPEGFactory.decode(original)
        let jpeg = JPEGFactory.jpeg(PixelBuffer(width: displayed.width - 3, height: displayed.height - 1, pixels: (0..<displayed.height - 1).flatMap {
            displayed.pixels[($0 * displayed.width) * 3..<($0 * displayed.width + displayed.width - 3) * 3]
        }), orientation: orientation, kind: kind)
        let header = try JPEGHeader(checking: jpeg, pixelLimit: 100_000_000)
        for factor in [(num: 1, denom: 1), (num: 1, denom: 2), (num: 1, denom: 8)] {
            let turned = try TurboJPEG.decode(jpeg, header: header, factor: factor, orientation: header.orientation)
            let reference = try TurboJPEG.decode(jpeg, header: header, factor: factor).buffer.oriented(header.orientation)
            #expect(turned.buffer.width == reference.width && turned.buffer.height == reference.height)
            #expect(turned.fullWidth == reference.width && turned.fullHeight == reference.height)
            #expect(turned.buffer.pixels == reference.pixels, "\(kind), orientation \(orientation.rawValue), scale \(factor.num)/\(factor.denom)")
        }
    }

    @Test("a region decode gives the whole decode's pixels in its bands and columns, in colour and in CMYK",
          arguments: [JPEGFactory.Kind.baseline, .progressive, .grayscale, .cmyk])
    func regionMatchesWhole(_ kind: JPEGFactory.Kind) throws {
        let original = try Data(contentsOf: #require(Bundle.module.url(forResource: "obama2", withExtension: "jpg", subdirectory: "Fixtures")))
        let jpeg = JPEGFactory.jpeg(JPEGFactory.decode(original), kind: kind)
        let header = try JPEGHeader(checking: jpeg, pixelLimit: 100_000_000)
        for factor in [(num: 1, denom: 1), (num: 1, denom: 2)] {
            let whole = try TurboJPEG.decode(jpeg, header: header, factor: factor).buffer
            let (columns, bands) = (whole.width / 3..<whole.width * 2 / 3, [16..<48, whole.height / 2..<whole.height / 2 + 40])
            let region = try TurboJPEG.decode(jpeg, header: header, factor: factor, columns: columns, bands: bands)
            try #require(region.xOffset <= columns.lowerBound && region.xOffset + region.buffer.width >= columns.upperBound)
            var mismatches = 0
            for rows in bands {
                for y in rows {
                    for x in columns {
                        let at = (y * whole.width + x) * 3, there = (y * region.buffer.width + x - region.xOffset) * 3
                        if whole.pixels[at..<at + 3] != region.buffer.pixels[there..<there + 3] { mismatches += 1 }
                    }
                }
            }
            #expect(mismatches == 0, "\(kind), scale \(factor.num)/\(factor.denom): \(mismatches) pixels differ")
        }
    }

    @Test("progressive, grayscale and CMYK (YCCK, Adobe-inverted) photos give the right colours")
    func colourSpaces() async throws {
        let displayed = JPEGFactory.quadrants(width: 640, height: 480, box: box)
        for kind in [JPEGFactory.Kind.progressive, .cmyk] {
            let thumbnails = try await cropper.thumbnails(of: JPEGFactory.jpeg(displayed, kind: kind), boxes: [box], spec: ThumbnailSpec())
            expectQuadrants(try #require(thumbnails.first), "\(kind)")
        }
        let gray = JPEGFactory.jpeg(displayed, kind: .grayscale)
        let pixels = JPEGFactory.decode(try #require(try await cropper.thumbnails(of: gray, boxes: [box], spec: ThumbnailSpec()).first))
        let red = JPEGFactory.meanColour(pixels, x: 58, y: 58)   // red as luma: 0.299·230 + 0.587·20 + 0.114·20 ≈ 83
        #expect(abs(red[0] - 83) < 10 && abs(red[0] - red[1]) < 3 && abs(red[1] - red[2]) < 3, "\(red)")
    }

    @Test("decodes at the smallest DCT scale that keeps every crop at least the thumbnail size")
    func dctScale() throws {
        let photo = JPEGFactory.jpeg(PixelBuffer(width: 5600, height: 3200, pixels: [UInt8](repeating: 90, count: 5600 * 3200 * 3)), quality: 50)
        func scale(_ boxes: [BoundingBox], size: Int = 160) throws -> Double {
            let factor = try cropper.plan(for: photo, boxes: boxes, size: size, margin: 0.25).factor
            return Double(factor.num) / Double(factor.denom)
        }
        // crop side = longer face side × (1 + 2 × 0.25); the scale must leave it ≥ 160 px.
        // 0.3 × 5600 = 1680 px face → 2520 px crop → needs 0.063 → 1/8
        #expect(try scale([BoundingBox(left: 0.3, top: 0.3, width: 0.3, height: 0.4)]) == 1.0 / 8)
        // 0.12 × 5600 = 672 px face → 1008 px crop → needs 0.159 → 1/4
        #expect(try scale([BoundingBox(left: 0.3, top: 0.3, width: 0.12, height: 0.16)]) == 1.0 / 4)
        // 0.06 × 5600 = 336 px face → 504 px crop → needs 0.317 → 1/2 (3/8 has no SIMD inverse DCT)
        #expect(try scale([BoundingBox(left: 0.3, top: 0.3, width: 0.06, height: 0.08)]) == 1.0 / 2)
        // the smallest face decides: 0.025 × 5600 = 140 px → 210 px crop → needs 0.762 → 1 (not 7/8: slower)
        #expect(try scale([BoundingBox(left: 0.1, top: 0.1, width: 0.3, height: 0.4), BoundingBox(left: 0.7, top: 0.7, width: 0.025, height: 0.04)]) == 1)
        // 0.005 × 5600 = 28 px face → 42 px crop: smaller than the thumbnail, decoded at full size
        #expect(try scale([BoundingBox(left: 0.3, top: 0.3, width: 0.005, height: 0.01)]) == 1)
    }

    @Test("a JPEG's thumbnails are cut from the image the engine handed off where it is large enough for them, the others decoded")
    func handedOffImage() async throws {
        // A 1600 × 1200 photo turned by EXIF: the engine's image is upright, at half size.
        let displayed = JPEGFactory.quadrants(width: 1600, height: 1200, box: box)
        let jpeg = JPEGFactory.jpeg(displayed, orientation: .right)
        let half = try UprightImage(decoding: jpeg, maximumPixels: 800 * 600)
        #expect(half.scale == 0.5 && half.width == 800 && half.height == 600)
        let handOffs = RecentlyDecoded(capacity: 2)
        let cropper = TurboJPEGThumbnailCropper(pixelLimit: 100_000_000, decoders: .standard, handOffs: handOffs)
        // The face's red quarter is made white in the handed-off image, so a thumbnail shows where it came from.
        var marked = half.pixels
        for y in 120..<210 { for x in 440 * 3..<540 * 3 { marked[y * 800 * 3 + x] = 255 } }
        let image = PixelBuffer(width: 800, height: 600, pixels: marked)
        // The face's crop is 480 × 1.5 = 720 displayed px: 1/4 would do, so the half-size image is used.
        handOffs.offer(image, scale: 0.5, for: jpeg, pixelLimit: 100_000_000, budget: DecodeBudget())
        let fromHandOff = JPEGFactory.decode(try #require(try await cropper.thumbnails(of: jpeg, boxes: [box], spec: ThumbnailSpec()).first))
        #expect(fromHandOff.width == 160)
        #expect(handOffs.take(for: jpeg, pixelLimit: 100_000_000, budget: DecodeBudget()) == nil, "taken")
        // A tiny face needs the full scale: the half-size image is dropped and the photo decoded.
        let small = BoundingBox(left: 0.6, top: 0.6, width: 0.05, height: 0.05)
        handOffs.offer(image, scale: 0.5, for: jpeg, pixelLimit: 100_000_000, budget: DecodeBudget())
        _ = try await cropper.thumbnails(of: jpeg, boxes: [small], spec: ThumbnailSpec())
        #expect(handOffs.take(for: jpeg, pixelLimit: 100_000_000, budget: DecodeBudget(), minimumScale: 0) == nil, "dropped")
        // Both at once, in the order asked: the large face from the hand-off, the tiny one decoded (as alone).
        handOffs.offer(image, scale: 0.5, for: jpeg, pixelLimit: 100_000_000, budget: DecodeBudget())
        let both = try await cropper.thumbnails(of: jpeg, boxes: [small, box], spec: ThumbnailSpec())
        try #require(both.count == 2)
        let large = JPEGFactory.meanColour(JPEGFactory.decode(both[1]), x: 58, y: 58)
        #expect(JPEGFactory.close(large, to: [255, 255, 255], tolerance: 20), "the large face not from the hand-off: \(large)")
        #expect(both[0] == (try await cropper.thumbnails(of: jpeg, boxes: [small], spec: ThumbnailSpec()).first), "the tiny face not decoded")
        // Without a hand-off the face comes from the decode (red where the hand-off was made white).
        expectQuadrants(try #require(try await cropper.thumbnails(of: jpeg, boxes: [box], spec: ThumbnailSpec()).first), "decoded")
        let topLeft = JPEGFactory.meanColour(fromHandOff, x: 58, y: 58)
        #expect(JPEGFactory.close(topLeft, to: [255, 255, 255], tolerance: 20), "the hand-off's white quarter: \(topLeft)")
        for (x, y, colour) in [(102, 58, JPEGFactory.Colour.green), (58, 102, JPEGFactory.Colour.blue), (102, 102, JPEGFactory.Colour.yellow)] {
            #expect(JPEGFactory.close(JPEGFactory.meanColour(fromHandOff, x: x, y: y), to: colour), "upright and in place at \(x), \(y)")
        }
    }

    @Test("boxes outside 0…1 are clamped, and crops stay square inside the photo")
    func edges() async throws {
        let displayed = JPEGFactory.quadrants(width: 640, height: 480, box: BoundingBox(left: 0, top: 0, width: 0.2, height: 0.25))
        let boxes = [BoundingBox(left: -0.05, top: -0.04, width: 0.25, height: 0.3), BoundingBox(left: 0.9, top: 0.85, width: 0.2, height: 0.3)]
        let thumbnails = try await cropper.thumbnails(of: JPEGFactory.jpeg(displayed), boxes: boxes, spec: ThumbnailSpec(size: 120, quality: 80))
        #expect(thumbnails.count == 2)
        for thumbnail in thumbnails {
            let info = try cropper.imageInfo(of: thumbnail)
            #expect(info.width == 120 && info.height == 120)
        }
        let corner = JPEGFactory.decode(thumbnails[0])
        #expect(JPEGFactory.close(JPEGFactory.meanColour(corner, x: 10, y: 10), to: JPEGFactory.Colour.red), "the corner crop starts at the photo's corner")
    }

    @Test("a face crop for a search is at least 80 px even from a small photo")
    func searchCrop() async throws {
        let displayed = JPEGFactory.quadrants(width: 200, height: 150, box: BoundingBox(left: 0.4, top: 0.4, width: 0.1, height: 0.12))
        let crop = try await cropper.thumbnails(of: JPEGFactory.jpeg(displayed), boxes: [BoundingBox(left: 0.4, top: 0.4, width: 0.1, height: 0.12)], spec: ThumbnailSpec(size: 80))
        #expect(try cropper.imageInfo(of: crop[0]).width == 80)
    }

    @Test("the pixel limit is checked from the header, before decoding")
    func pixelLimit() async throws {
        // A header claiming 20000 × 20000 (400 MP) in front of a tiny scan: refused without a 1.2 GB buffer.
        var bomb = JPEGFactory.jpeg(PixelBuffer(width: 16, height: 16))
        let sof = bomb.firstRange(of: Data([0xFF, 0xC0]))!.lowerBound
        bomb.replaceSubrange(sof + 5..<sof + 9, with: [0x4E, 0x20, 0x4E, 0x20])
        #expect(throws: ImageError.tooManyPixels(width: 20000, height: 20000, limit: 100_000_000)) { try cropper.imageInfo(of: bomb) }
        await #expect(throws: ImageError.tooManyPixels(width: 20000, height: 20000, limit: 100_000_000)) {
            try await cropper.thumbnails(of: bomb, boxes: [BoundingBox(left: 0, top: 0, width: 1, height: 1)], spec: ThumbnailSpec())
        }
        let strict = TurboJPEGThumbnailCropper(pixelLimit: 1000)
        #expect(throws: ImageError.self) { try strict.imageInfo(of: JPEGFactory.jpeg(PixelBuffer(width: 40, height: 30))) }
    }

    @Test("truncated, corrupt and random data give typed errors")
    func badData() async throws {
        let good = JPEGFactory.jpeg(JPEGFactory.quadrants(width: 320, height: 240, box: box))
        let box = [BoundingBox(left: 0.2, top: 0.2, width: 0.3, height: 0.3)]
        await #expect(throws: ImageError.truncated) { try await cropper.thumbnails(of: good.prefix(good.count / 2), boxes: box, spec: ThumbnailSpec()) }
        #expect(throws: ImageError.truncated) { try cropper.imageInfo(of: good.prefix(100)) }
        var corruptHeader = good
        let sof = corruptHeader.firstRange(of: Data([0xFF, 0xC0]))!.lowerBound
        corruptHeader.replaceSubrange(sof + 2..<sof + 4, with: [0x00, 0x01])
        #expect(throws: ImageError.self) { try cropper.imageInfo(of: corruptHeader) }
        var generator = SplitMix64(seed: 9)
        for _ in 0..<50 {
            let noise = Data((0..<Int.random(in: 0..<5000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            await #expect(throws: ImageError.self) { try await cropper.thumbnails(of: noise, boxes: box, spec: ThumbnailSpec()) }
            var garbled = good
            garbled.replaceSubrange(2..<min(2 + noise.count, garbled.count), with: noise.prefix(garbled.count - 2))
            // A JPEG whose markers were overwritten: never a crash, always a typed error or a thumbnail.
            do { _ = try await cropper.thumbnails(of: garbled, boxes: box, spec: ThumbnailSpec()) } catch { #expect(error is ImageError) }
        }
    }

    @Test("a file cut below the faces is still truncated; data appended after the end marker is fine")
    func endOfImage() async throws {
        let top = BoundingBox(left: 0.4, top: 0.05, width: 0.2, height: 0.2)
        let jpeg = JPEGFactory.jpeg(JPEGFactory.quadrants(width: 800, height: 1200, box: top))
        // Decoding stops after the face's rows, long before the cut: only the end-marker check can notice.
        await #expect(throws: ImageError.truncated) {
            try await cropper.thumbnails(of: jpeg.prefix(jpeg.count * 9 / 10), boxes: [top], spec: ThumbnailSpec())
        }
        let motionPhoto = jpeg + Data("ftypmp42".utf8) + Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        expectQuadrants(try await cropper.thumbnails(of: motionPhoto, boxes: [top], spec: ThumbnailSpec())[0], "motion photo")
    }

    @Test("formats without a decoder are named in the error", arguments: [
        ("GIF", Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8)),
        ("BMP", Data([0x42, 0x4D, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
        ("HEIC", Data([0, 0, 0, 24] + Array("ftypheic".utf8) + [0, 0, 0, 0])),
        ("AVIF", Data([0, 0, 0, 24] + Array("ftypavif".utf8) + [0, 0, 0, 0])),
        ("TIFF", Data([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0])),
    ])
    func unsupported(_ format: String, _ data: Data) {
        #expect(throws: ImageError.unsupportedFormat(format)) { try cropper.imageInfo(of: data) }
    }

    @Test("a PNG or WebP cut off after its signature is read as one, and fails as cut short or damaged")
    func cutOffHeaders() {
        #expect(throws: ImageError.truncated) { try cropper.imageInfo(of: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])) }
        #expect { try cropper.imageInfo(of: Data("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) } throws: { error in
            [ImageError.truncated, .damaged(detail: "WebP: the bitstream is invalid (libwebp status 3)")].contains(error as? ImageError)
        }
    }

    @Test("size, margin and quality are honoured")
    func spec() async throws {
        let jpeg = JPEGFactory.jpeg(JPEGFactory.quadrants(width: 800, height: 600, box: box))
        let small = try await cropper.thumbnails(of: jpeg, boxes: [box], spec: ThumbnailSpec(size: 64, margin: 0, quality: 30))[0]
        let large = try await cropper.thumbnails(of: jpeg, boxes: [box], spec: ThumbnailSpec(size: 64, margin: 0, quality: 95))[0]
        #expect(try cropper.imageInfo(of: small).width == 64)
        #expect(small.count < large.count)
        // Without margin the face fills the thumbnail: its corners are coloured, not background.
        #expect(JPEGFactory.close(JPEGFactory.meanColour(JPEGFactory.decode(large), x: 5, y: 5, side: 4), to: JPEGFactory.Colour.red))
    }
}
