@testable import FaceClusterKit
@testable import FaceClusterLocal
import CDlibFace
import Foundation
import Testing

/// Small faces in big photos: the tiled second pass of the local engine (``TiledDetection``).
@Suite("Small faces in big photos")
struct SmallFacesTests {
    @Test("the plan: no second pass when the first sees 80 px faces; the cheapest scale that does; the budget bounds it")
    func plans() throws {
        // A 2 MP photo is analysed whole: faces of 80 px are the first pass's.
        #expect(TiledDetection(width: 1600, height: 1200, coarseScale: 1, coarseUpsample: 0, smallestFace: 80, budget: 100_000_000) == nil)
        // A 12 MP phone photo analysed at its 1/4 DCT scale sees faces from 320 px: scan it whole at full size.
        let phone = try #require(TiledDetection(width: 4000, height: 3000, coarseScale: 0.25, coarseUpsample: 0, smallestFace: 80, budget: 100_000_000))
        #expect(phone.scale == 1 && phone.upsample == 0 && phone.coarseSmallest == 320)
        // A 72 MP panorama at 1/8: decoded at 1/2 (18 MP, not 72) and upsampled once reaches 80 px for the same work.
        let panorama = try #require(TiledDetection(width: 12000, height: 6000, coarseScale: 0.125, coarseUpsample: 0, smallestFace: 80, budget: 100_000_000))
        #expect(panorama.scale == 0.5 && panorama.upsample == 1 && panorama.passes(actualScale: 0.5).first?.smallest == 80)
        // The default budget (135 MP) reaches 80 px faces up to 100 MP; above, what it can: 160 px faces at 1/2.
        let budget = LocalFaceEngine.Configuration().tiledDetectionPixels
        let hundred = try #require(TiledDetection(width: 12000, height: 8333, coarseScale: 0.125, coarseUpsample: 0, smallestFace: 80, budget: budget))
        #expect(hundred.scale == 0.5 && hundred.upsample == 1 && hundred.passes(actualScale: 0.5).first?.smallest == 80)
        let bounded = try #require(TiledDetection(width: 14000, height: 10500, coarseScale: 0.125, coarseUpsample: 0, smallestFace: 80, budget: budget))
        #expect(bounded.scale == 0.5 && bounded.upsample == 0 && bounded.passes(actualScale: 0.5).first?.smallest == 160)
        // Turned off.
        #expect(TiledDetection(width: 12000, height: 6000, coarseScale: 0.125, coarseUpsample: 0, smallestFace: 0, budget: 100_000_000) == nil)
    }

    @Test("passes an octave apart cover every size from the smallest face to the first pass's, each answering for 3 windows",
          arguments: [(4000, 3000, 0.25, 0), (12000, 6000, 0.125, 0), (12000, 8333, 0.125, 0), (3000, 2000, 0.5, 0)])
    func passes(width: Int, height: Int, coarseScale: Double, coarseUpsample: Int) throws {
        let plan = try #require(TiledDetection(width: width, height: height, coarseScale: coarseScale, coarseUpsample: coarseUpsample, smallestFace: 80, budget: 200_000_000))
        let passes = plan.passes(actualScale: plan.scale)
        let first = try #require(passes.first)
        #expect(first.smallest == 80)
        for (finer, coarser) in zip(passes, passes.dropFirst()) {
            #expect(coarser.smallest == finer.smallest * 2 && coarser.upsample - coarser.halvings == finer.upsample - finer.halvings - 1)
            // A face the coarser pass may miss, just above its window, is still the finer pass's.
            #expect(finer.largest >= coarser.smallest * 1.5)
        }
        let last = try #require(passes.last)
        #expect(last.smallest * 2 >= plan.coarseSmallest / 1.05 && last.largest >= plan.coarseSmallest * 1.4)
    }

    @Test("a block reduction averages each block, the last row and column of blocks over the pixels they have")
    func reduction() {
        // 3 × 3 pixels, grey levels 0…8 (R = G = B), reduced by 2: blocks of 4, 2, 2 and 1 pixels.
        let levels: [UInt8] = [0, 10, 20, 30, 40, 50, 60, 70, 80]
        let image = UprightImage(width: 3, height: 3, pixels: levels.flatMap { [$0, $0, $0] }, scale: 1)
        let reduced = image.reduced(by: 2)
        #expect(reduced.width == 2 && reduced.height == 2 && reduced.scale == 0.5)
        #expect(stride(from: 0, to: 12, by: 3).map { reduced.pixels[$0] } == [20, 35, 65, 80])
    }

    @Test("a JPEG decoded at the tiles' scale and reduced is its first pass's DCT-scaled image, size for size and nearly pixel for pixel",
          arguments: [(4000, 3000), (3999, 2999), (12000, 6000)])
    func firstPassFromFineDecode(width: Int, height: Int) throws {
        let (photo, _) = try Self.canvas(width: width, height: height, faces: [(side: 300, x: 200, y: 300)])
        let pixels = try PhotoPixels(photo)
        let configuration = LocalFaceEngine.Configuration()
        let coarse = try #require(try pixels.jpegScale(maximumPixels: configuration.analysisPixels, wholePhotoPixels: configuration.wholePhotoPixels))
        let direct = try pixels.upright(maximumPixels: configuration.analysisPixels, wholePhotoPixels: configuration.wholePhotoPixels)
        #expect(coarse.scale == direct.scale && coarse.width == direct.width && coarse.height == direct.height)
        let plan = try #require(TiledDetection(
            width: width, height: height, coarseScale: coarse.scale, coarseUpsample: 0, smallestFace: 80, budget: configuration.tiledDetectionPixels))
        let fine = try pixels.upright(maximumPixels: plan.decodePixels(width: width, height: height))
        let reduced = fine.reduced(by: Int((fine.scale / coarse.scale).rounded()))
        try #require(reduced.width == direct.width && reduced.height == direct.height && reduced.scale == direct.scale)
        let difference = PixelBuffer(width: reduced.width, height: reduced.height, pixels: reduced.pixels)
            .meanDifference(from: PixelBuffer(width: direct.width, height: direct.height, pixels: direct.pixels))
        #expect(difference <= 1.5, "mean difference \(difference)")
    }

    @Test("tiles cover the image, and every face a pass must find lies whole in one of its tiles", arguments: [(4000, 3000, 1.0), (6000, 3000, 0.5), (1999, 2001, 1.0)])
    func tiles(width: Int, height: Int, scale: Double) throws {
        let plan = try #require(TiledDetection(width: Int(Double(width) / scale), height: Int(Double(height) / scale), coarseScale: scale / 8, coarseUpsample: 0, smallestFace: 80, budget: 200_000_000))
        for pass in plan.passes(actualScale: scale) {
            let (passWidth, passHeight) = (width >> pass.halvings, height >> pass.halvings)
            let tiles = plan.tiles(for: pass, width: passWidth, height: passHeight, actualScale: scale)
            let face = Int(pass.largest * scale / Double(1 << pass.halvings))
            for y in stride(from: 0, through: passHeight - face, by: max(face / 3, 1)) {
                for x in stride(from: 0, through: passWidth - face, by: max(face / 3, 1)) {
                    #expect(tiles.contains { x >= $0.x && y >= $0.y && x + face <= $0.x + $0.width && y + face <= $0.y + $0.height },
                            "a \(face) px face at \(x),\(y) lies whole in no tile of the pass for \(pass.smallest) px faces")
                }
            }
            #expect(tiles.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x + $0.width <= passWidth && $0.y + $0.height <= passHeight && $0.width <= max(TiledDetection.maximumTileSide >> pass.upsample, 3 * face) })
        }
    }

    @Test("a tile scanned down to its pass's pyramid levels finds the faces that pass answers for, box for box as the whole pyramid does, and none larger than its last level",
          .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
    func pyramidLevels() async throws {
        let sides = [90, 150, 230, 500]
        let (photo, boxes) = try await BlockingWork.run {
            try Self.canvas(width: 3200, height: 2400, faces: [(90, 100, 100), (150, 600, 100), (230, 1100, 100), (500, 1700, 200)])
        }
        let image = try UprightImage(decoding: photo, maximumPixels: .max)
        let pass = TiledDetection.Pass(halvings: 0, upsample: 0, smallest: 80, largest: 240)
        let detector = try HOGDetector()
        let (whole, limited) = try await BlockingWork.run {
            (try detector.detect(image, upsample: 0), try detector.detect(image, upsample: 0, levels: pass.levels))
        }
        func found(_ faces: [dlib_face], _ box: BoundingBox) -> dlib_face? {
            faces.first { face in
                BoundingBox(left: face.left / 3200, top: face.top / 2400, width: (face.right - face.left) / 3200, height: (face.bottom - face.top) / 2400)
                    .overlap(with: box) > 0.4
            }
        }
        for (side, box) in zip(sides, boxes) {
            let inWhole = try #require(found(whole, box), "the whole pyramid finds the \(side) px face")
            if Double(side) < pass.largest {
                let inLimited = try #require(found(limited, box), "\(pass.levels) levels find the \(side) px face")
                #expect([inLimited.left, inLimited.top, inLimited.right, inLimited.bottom, inLimited.score]
                        == [inWhole.left, inWhole.top, inWhole.right, inWhole.bottom, inWhole.score])
            } else if let inLimited = found(limited, box) {
                // Seen through its last level only, smaller than it is: the pass drops it as a coarser pass's.
                #expect(inLimited.right - inLimited.left < inWhole.right - inWhole.left)
            }
        }
        let lastWindow = TiledDetection.window * pow(1.2, Double(pass.levels - 1))
        #expect(limited.allSatisfy { $0.right - $0.left <= lastWindow * 1.1 }, "no box larger than the last level's window, \(lastWindow) px")
    }

    @Test("tiles scanned while a big JPEG decodes find, tile for tile, what the tiled pass finds in the decoded image",
          .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
    func earlyTiles() async throws {
        // 8,000 × 6,000: decoded at 1/2 for tiles of its finest pass (80 px faces, upsampled), a face in the first row of them.
        let (photo, _) = try await BlockingWork.run { try Self.canvas(width: 8000, height: 6000, faces: [(110, 400, 200), (130, 5000, 4000)]) }
        let pixels = try PhotoPixels(photo)
        let configuration = LocalFaceEngine.Configuration()
        let coarse = try #require(try pixels.jpegScale(maximumPixels: configuration.analysisPixels, wholePhotoPixels: configuration.wholePhotoPixels))
        let plan = try #require(TiledDetection(
            width: 8000, height: 6000, coarseScale: coarse.scale, coarseUpsample: 0, smallestFace: 80, budget: configuration.tiledDetectionPixels))
        let finePixels = plan.decodePixels(width: 8000, height: 6000)
        // Each scan run as it is handed out, so every tile is scanned early and the result does not depend on timing.
        let early = try #require(try EarlyTileScan(photo: pixels, plan: plan, maximumPixels: finePixels) { $0() })
        let (fine, found) = try await BlockingWork.run {
            let fine = try pixels.upright(maximumPixels: finePixels, follower: early)
            early.adopt(fine)
            return (fine, early.finish())
        }
        #expect(early.tiles.count > 1 && found.count == early.tiles.count)
        let detector = try HOGDetector()
        var faces = 0
        for (number, tile) in early.tiles.enumerated() {
            let scanned = try #require(found[number])
            let direct = try detector.detect(in: fine, tile: tile, upsample: early.pass.upsample, levels: early.pass.levels)
            #expect(scanned.map { [$0.left, $0.top, $0.right, $0.bottom, $0.score] } == direct.map { [$0.left, $0.top, $0.right, $0.bottom, $0.score] })
            faces += scanned.count
        }
        #expect(faces >= 2, "both faces are the finest pass's")
    }

    /// `face` (the fixture's face is 311 px wide at (164, 302) in its 626 × 1200 frame) pasted at each size and
    /// place into a gray canvas: the photo, and where each face is as a box.
    static func canvas(width: Int, height: Int, faces: [(side: Int, x: Int, y: Int)]) throws -> (photo: Data, boxes: [BoundingBox]) {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/obama2", withExtension: "jpg"))
        let portrait = try UprightImage(decoding: try Data(contentsOf: url), maximumPixels: .max)
        let source = PixelBuffer(width: portrait.width, height: portrait.height, pixels: portrait.pixels)
        var canvas = PixelBuffer(width: width, height: height, pixels: [UInt8](repeating: 104, count: width * height * 3))
        var boxes: [BoundingBox] = []
        for face in faces {
            let factor = Double(face.side) / 311
            let (pasteWidth, pasteHeight) = (Int(626 * factor), Int(1200 * factor))
            try #require(face.x >= 0 && face.y >= 0 && face.x + pasteWidth <= width && face.y + pasteHeight <= height, "a \(face.side) px face's portrait is \(pasteWidth) × \(pasteHeight)")
            let pasted = source.resampled(region: (0, 0, 626, 1200), toWidth: pasteWidth, height: pasteHeight)
            canvas.pixels.withUnsafeMutableBufferPointer { target in
                pasted.pixels.withUnsafeBufferPointer { from in
                    for row in 0..<pasteHeight {
                        (target.baseAddress! + ((face.y + row) * width + face.x) * 3).update(from: from.baseAddress! + row * pasteWidth * 3, count: pasteWidth * 3)
                    }
                }
            }
            boxes.append(BoundingBox(
                left: (Double(face.x) + 164 * factor) / Double(width), top: (Double(face.y) + 302 * factor) / Double(height),
                width: Double(face.side) / Double(width), height: Double(face.side) / Double(height)))
        }
        return (JPEGFactory.jpeg(canvas, quality: 90), boxes)
    }

    struct BigPhoto: Sendable, CustomTestStringConvertible {
        var width: Int, height: Int
        var faces: [(side: Int, x: Int, y: Int)]
        /// How many of them the first pass alone finds.
        var firstPassFinds: Int
        var testDescription: String { "\(width) × \(height), faces of \(faces.map { "\($0.side)" }.joined(separator: ", ")) px" }
    }

    @Test("every face found in big photos: a 12 MP group photo with faces of 85–105 px, a 12,000 × 6,000 panorama with faces of 1,200, 550 and 340 px, a 100 MP photo with faces of 90–700 px",
          .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"),
          arguments: [
              // The first pass sees the 12 MP photo at 1/4 (2 MP): its faces are 21–26 px there, far under dlib's 80 px window.
              BigPhoto(width: 4000, height: 3000, faces: [(85, 200, 300), (95, 1500, 1200), (105, 3000, 500)], firstPassFinds: 0),
              BigPhoto(width: 12000, height: 6000, faces: [(1200, 600, 500), (550, 6000, 1500), (340, 9500, 3500)], firstPassFinds: 2),
              // At 1/8 the 700 px face is 87 px, the others under dlib's window; 90 px needs the half-size decode upsampled.
              BigPhoto(width: 12000, height: 8333, faces: [(90, 500, 700), (130, 4000, 5000), (200, 8000, 1500), (700, 9000, 4500)], firstPassFinds: 1),
          ])
    func bigPhotos(_ big: BigPhoto) async throws {
        let (photo, boxes) = try await BlockingWork.run { try Self.canvas(width: big.width, height: big.height, faces: big.faces) }
        let engine = try LocalFaceEngine(database: try LocalDatabase.inMemory())
        let faces = try await engine.detectFaces(in: ImageInput(data: photo))
        for box in boxes {
            #expect(faces.contains { $0.boundingBox.overlap(with: box) > 0.4 }, "no face found at \(box)")
        }
        #expect(faces.count == boxes.count)
        let firstPass = try LocalFaceEngine(database: try LocalDatabase.inMemory(), configuration: .init(smallestFace: 0))
        #expect(try await firstPass.detectFaces(in: ImageInput(data: photo)).count == big.firstPassFinds)
    }

    @Test("a photo with more faces than it indexes embeds only those it indexes, the largest across passes, as a full analysis embeds them",
          .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
    func embedsTheIndexedOnly() async throws {
        // The 600 px face is the first pass's (150 px at 1/4); the tiled pass finds the others, the 85 px one first.
        let (photo, boxes) = try await BlockingWork.run {
            try Self.canvas(width: 4000, height: 3000, faces: [(85, 200, 300), (95, 1500, 1200), (105, 1000, 2400), (600, 2700, 600)])
        }
        let all = try await LocalFaceEngine(database: try LocalDatabase.inMemory())
            .indexFaces(in: ImageInput(data: photo), externalImageID: "all", options: IndexOptions(maxFaces: 4))
        let three = try await LocalFaceEngine(database: try LocalDatabase.inMemory())
            .indexFaces(in: ImageInput(data: photo), externalImageID: "three", options: IndexOptions(maxFaces: 3))
        try #require(all.indexed.count == 4 && three.indexed.count == 3)
        for (face, box) in zip(all.indexed, [boxes[3], boxes[2], boxes[1], boxes[0]]) {
            #expect(face.face.boundingBox.overlap(with: box) > 0.4, "faces out of order: \(all.indexed.map(\.face.boundingBox))")
        }
        #expect(three.indexed.map(\.face.boundingBox) == all.indexed.prefix(3).map(\.face.boundingBox))
        #expect(three.unindexed.map(\.face.boundingBox) == [all.indexed[3].face.boundingBox])
        for (ours, full) in zip(three.indexed, all.indexed) {
            let (vector, expected) = (try #require(ours.face.embedding), try #require(full.face.embedding))
            try #require(vector.count == 128)
            #expect(zip(vector, expected).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        }
        #expect(three.unindexed.allSatisfy { $0.face.embedding == nil })
    }

    /// Debian's 9 PASCAL VOC photos (dlib's examples/faces) with their 43 annotated faces, of 37–109 px.
    static func pascal() throws -> [(photo: Data, width: Int, height: Int, boxes: [BoundingBox])] {
        let folder = LabeledSet.directory.deletingLastPathComponent().appendingPathComponent("pascal")
        var photos: [(photo: Data, width: Int, height: Int, boxes: [BoundingBox])] = []
        for list in ["training.xml", "testing.xml"] {
            let xml = try String(contentsOf: folder.appendingPathComponent(list), encoding: .isoLatin1)
            for image in xml.components(separatedBy: "<image ").dropFirst() {
                func number(_ name: String, in text: Substring) throws -> Double {
                    let start = try #require(text.range(of: "\(name)='")).upperBound
                    return try #require(Double(text[start...].prefix { $0 != "'" }))
                }
                let header = image.prefix { $0 != ">" }
                let fileStart = try #require(header.range(of: "file='")).upperBound
                let file = String(header[fileStart...].prefix { $0 != "'" })
                let (width, height) = (try number("width", in: header), try number("height", in: header))
                let boxes = try image.components(separatedBy: "<box ").dropFirst().map { box in
                    let text = Substring(box)
                    return BoundingBox(left: try number("left", in: text) / width, top: try number("top", in: text) / height,
                                       width: try number("width", in: text) / width, height: try number("height", in: text) / height)
                }
                photos.append((try Data(contentsOf: folder.appendingPathComponent(file)), Int(width), Int(height), boxes))
            }
        }
        return photos
    }

    @Test("Debian's PASCAL photos: 43 of 43 faces found as they are, and enlarged 8× into 12 MP photos",
          .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
    func pascalRecall() async throws {
        let photos = try Self.pascal()
        try #require(photos.map(\.boxes.count).reduce(0, +) == 43)
        let engine = try LocalFaceEngine(database: try LocalDatabase.inMemory())
        for factor in [1, 8] {
            var found = 0
            for photo in photos {
                var data = photo.photo
                if factor > 1 {
                    let original = photo.photo
                    data = try await BlockingWork.run {
                        let image = try UprightImage(decoding: original, maximumPixels: .max)
                        let enlarged = PixelBuffer(width: image.width, height: image.height, pixels: image.pixels)
                            .resampled(region: (0, 0, Double(image.width), Double(image.height)), toWidth: image.width * factor, height: image.height * factor)
                        return JPEGFactory.jpeg(enlarged, quality: 90)
                    }
                }
                let faces = try await engine.detectFaces(in: ImageInput(data: data))
                found += photo.boxes.filter { box in faces.contains { $0.boundingBox.overlap(with: box) > 0.3 } }.count
            }
            #expect(found == 43, "\(found) of 43 faces found at \(factor)×")
        }
    }
}
