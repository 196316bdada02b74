@testable import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

/// JPEGs made to hurt a decoder: damaged entropy data, headers that lie about the size, progressive files
/// whose decode would take gigabytes or minutes, processes the 8-bit decoder does not run. Each is refused
/// with its own typed error, from the header when it can be, and none is reported as a photo without faces.
@Suite("Hostile JPEGs")
struct HostileJPEGTests {
    static let box = BoundingBox(left: 0.25, top: 0.25, width: 0.5, height: 0.5)

    static func photo(_ kind: JPEGFactory.Kind = .baseline, width: Int = 640, height: Int = 480) -> Data {
        JPEGFactory.jpeg(JPEGFactory.quadrants(width: width, height: height, box: box), kind: kind)
    }

    /// Where the body of the first segment with `marker` starts (after its length).
    static func body(of marker: UInt8, in data: Data) throws -> Int {
        try #require(data.firstRange(of: Data([0xFF, marker]))).lowerBound + 4
    }

    /// `data` with its frame header's size replaced (the entropy-coded data stays the small photo's).
    static func claiming(width: Int, height: Int, _ data: Data, frame: UInt8 = 0xC0) throws -> Data {
        var patched = data
        let body = try body(of: frame, in: data)
        patched.replaceSubrange(body + 1..<body + 5, with: [UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF)])
        return patched
    }

    /// `data` with the second half of its entropy-coded data replaced by noise (no marker bytes), the end
    /// marker kept: a file damaged in storage or transfer, complete in length.
    static func damaged(_ data: Data, seed: UInt64 = 5) throws -> Data {
        let sos = try #require(data.firstRange(of: Data([0xFF, 0xDA]))).lowerBound
        let entropy = sos + 2 + (Int(data[sos + 2]) << 8 | Int(data[sos + 3]))
        let from = entropy + (data.count - entropy) / 2
        var generator = SplitMix64(seed: seed)
        var patched = data
        patched.replaceSubrange(from..<data.count - 2, with: (from..<data.count - 2).map { _ in UInt8.random(in: 0...0xFE, using: &generator) })
        return patched
    }

    @Test("damaged entropy data is damaged_image, never a photo without faces")
    func damagedData() async throws {
        let broken = try Self.damaged(Self.photo())
        #expect { try UprightImage(decoding: broken) } throws: { error in
            guard case ImageError.damaged(let detail) = error else { return false }
            return detail.contains("Corrupt JPEG data")
        }
        await #expect(throws: ImageError.self) {
            try await TurboJPEGThumbnailCropper().thumbnails(of: broken, boxes: [BoundingBox(left: 0, top: 0, width: 1, height: 1)], spec: ThumbnailSpec())
        }
        // Through the local engine, as ingestion sees it: the photo fails with its own code.
        let engine = try LocalFaceEngine(database: try LocalDatabase.inMemory())
        do {
            _ = try await engine.detectFaces(in: ImageInput(data: broken))
            Issue.record("a damaged photo was analysed as if whole")
        } catch {
            #expect(PhotoFailure(error).code == .damagedImage, "\(error)")
            #expect(!PhotoFailure(error).retryable)
        }
    }

    @Test("bytes before a marker (camera padding) are passed over, as libjpeg does")
    func extraneousBytes() throws {
        let good = Self.photo()
        var padded = good
        padded.insert(contentsOf: [0x00, 0x00, 0x00], at: try #require(good.firstRange(of: Data([0xFF, 0xC0]))).lowerBound)
        let image = try UprightImage(decoding: padded)
        #expect(image.width == 640 && image.height == 480)
        #expect(JPEGFactory.close(
            JPEGFactory.meanColour(PixelBuffer(width: image.width, height: image.height, pixels: image.pixels), x: 200, y: 150),
            to: JPEGFactory.Colour.red))
    }

    @Test("a header claiming 99.7 MP over a small photo's data fails as damaged, quickly")
    func lyingSize() throws {
        let lying = try Self.claiming(width: 9984, height: 9984, Self.photo())
        let started = ContinuousClock.now
        #expect { try UprightImage(decoding: lying) } throws: { error in
            guard case ImageError.damaged = error else { return false }
            return true
        }
        #expect(PhotoFailure(ImageError.damaged(detail: "")).code == .damagedImage)
        // Not a timing assertion on the decoder's speed: a guard that the refusal did not decode 99.7 MP.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("a progressive frame whose coefficients need more than the memory budget is refused from its header")
    func progressiveMemory() throws {
        // 9,984² at 4:2:0 is under the 100 MP limit, but a progressive decoder holds 285 MiB of coefficients.
        let bomb = try Self.claiming(width: 9984, height: 9984, Self.photo(.progressive), frame: 0xC2)
        #expect { try UprightImage(decoding: bomb) } throws: { error in
            guard case ImageError.overBudget(let detail) = error else { return false }
            return detail.contains("needs 285 MB")
        }
        #expect(throws: ImageError.self) { try TurboJPEGThumbnailCropper().imageInfo(of: bomb) }
        #expect(PhotoFailure(ImageError.overBudget(detail: "")).code == .imageTooLarge)
        // A smaller budget refuses what the default accepts; a sequential frame of the same size needs none.
        let ordinary = Self.photo(.progressive)
        #expect(try JPEGHeader(checking: ordinary, pixelLimit: 100_000_000).coefficientBytes == 80 * 60 * 128 + 2 * 40 * 30 * 128)
        #expect(throws: ImageError.self) { try JPEGHeader(checking: ordinary, pixelLimit: 100_000_000, budget: DecodeBudget(memory: 100_000)) }
        #expect(try JPEGHeader(checking: Self.claiming(width: 9984, height: 9984, Self.photo()), pixelLimit: 100_000_000).coefficientBytes == 0)
    }

    @Test("a progressive file with more scans × megapixels than the work budget is refused before decoding")
    func progressiveWork() throws {
        // 8,000 × 6,000 fits the memory budget (137 of 160 MiB); 90 scans of 48 MP are 4,320 scan·MP, over 4,000.
        let photo = try Self.claiming(width: 8000, height: 6000, Self.photo(.progressive), frame: 0xC2)
        let header = try JPEGHeader(checking: photo, pixelLimit: 100_000_000)
        let scans = header.scanCount(photo)
        #expect(scans >= 2 && scans < 83, "libjpeg-turbo's progressive script has about ten scans: \(scans)")
        let flood = photo.prefix(photo.count - 2)
            + Data((0..<(90 - scans)).flatMap { _ in [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00] as [UInt8] }) + Data([0xFF, 0xD9])
        #expect { try UprightImage(decoding: flood) } throws: { error in
            guard case ImageError.overBudget(let detail) = error else { return false }
            return detail.contains("48 MP in 90 scans")
        }
    }

    enum Process: String, CaseIterable, Sendable {
        case twelveBit = "a 12-bit JPEG"
        case lossless = "a lossless JPEG (SOF3)"

        func patch(_ data: Data) throws -> Data {
            var patched = data
            let sof = try #require(data.firstRange(of: Data([0xFF, 0xC0]))).lowerBound
            switch self {
            case .twelveBit: patched[sof + 4] = 12  // FF C0, length (2 bytes), then the sample precision
            case .lossless: patched[sof + 1] = 0xC3
            }
            return patched
        }
    }

    @Test("12-bit and lossless JPEGs are named as unsupported processes", arguments: Process.allCases)
    func unsupportedProcess(_ process: Process) throws {
        let expected = process.rawValue
        let photo = try process.patch(Self.photo())
        #expect(throws: ImageError.unsupportedProcess(expected)) { try UprightImage(decoding: photo) }
        #expect(throws: ImageError.unsupportedProcess(expected)) { try TurboJPEGThumbnailCropper().imageInfo(of: photo) }
        #expect(PhotoFailure(ImageError.unsupportedProcess(expected)).code == .unsupportedFormat)
    }
}
