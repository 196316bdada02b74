@testable import FaceClusterKit
@testable import FaceClusterLocal
import Foundation
import Testing

@Suite("Big photos read from a mapped file")
struct MappedFileTests {
    /// A JPEG of noise (so it is big for its pixels: about 1.5 bytes a pixel at quality 95), written to a file.
    static func noisyJPEG(width: Int, height: Int) throws -> (url: URL, bytes: Data) {
        var generator = SystemRandomNumberGenerator()
        let pixels = (0..<width * height * 3).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let bytes = JPEGFactory.jpeg(PixelBuffer(width: width, height: height, pixels: pixels), quality: 95)
        let url = Scratch.url("mapped-\(UUID().uuidString).jpg")
        try bytes.write(to: url)
        return (url, bytes)
    }

    /// The resident kB of the mapping that starts at `base`, from /proc/self/smaps.
    static func residentKB(of base: UnsafeRawPointer) throws -> Int {
        // Read to the end: /proc files report a size of 0.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let start = String(UInt(bitPattern: base), radix: 16)
        var inside = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), line[..<dash].allSatisfy(\.isHexDigit) {
                inside = line[..<dash].drop { $0 == "0" } == start.drop { $0 == "0" }
            } else if inside, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ")[1]) ?? -1
            }
        }
        throw CocoaError(.fileReadUnknown)
    }

    @Test("a mapped JPEG decodes like its bytes, and the decoder hands its pages back behind it")
    func releasedBehindTheDecoder() throws {
        let (url, bytes) = try Self.noisyJPEG(width: 2400, height: 1800)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(bytes.count > 4_000_000)
        let mapped = try #require(MappedFile.data(contentsOf: url.path, threshold: 0))
        #expect(MappedFile.data(contentsOf: url.path) == nil, "a file under 16 MB is read, not mapped")
        let base = try #require(mapped.withUnsafeBytes { $0.baseAddress })
        // Read it all, as Data(contentsOf:) would have: every page resident.
        let sum = mapped.withUnsafeBytes { $0.reduce(0) { $0 &+ Int($1) } }
        #expect(sum > 0)
        let touched = try Self.residentKB(of: base)
        #expect(touched >= bytes.count / 1024 - 8, "\(touched) kB resident after reading \(bytes.count) bytes")
        let fromMapping = try UprightImage(decoding: mapped, maximumPixels: 2400 * 1800)
        let released = try Self.residentKB(of: base)
        #expect(released <= 2 * 1024, "\(released) kB of \(bytes.count / 1024) kB still resident after the decode")
        #expect(fromMapping.pixels == (try UprightImage(decoding: bytes, maximumPixels: 2400 * 1800)).pixels)
        #expect(mapped == bytes, "pages handed back are read again from the file")
        #expect(!MappedFile.hasChanged(mapped))
        // A hash releases its chunks too.
        _ = mapped.withUnsafeBytes { $0.reduce(0) { $0 &+ Int($1) } }
        #expect(LocalFaceEngine.contentDigest(mapped) == LocalFaceEngine.contentDigest(bytes))
        #expect(try Self.residentKB(of: base) <= 4 * 1024 + 8)
    }

    @Test("a file cut short while it is mapped fails as changed while read (retryable), instead of killing the process")
    func cutShortWhileMapped() throws {
        let (url, bytes) = try Self.noisyJPEG(width: 1200, height: 900)
        defer { try? FileManager.default.removeItem(at: url) }
        let mapped = try #require(MappedFile.data(contentsOf: url.path, threshold: 0))
        // Overwritten in place (`cp new old` truncates the file it writes into): reading past the new end
        // raises SIGBUS, which would end the process.
        #expect(truncate(url.path, off_t(bytes.count / 3)) == 0)
        #expect { try UprightImage(decoding: mapped, maximumPixels: 1200 * 900) } throws: { error in
            (error as? ImageError) == .changedWhileRead
        }
        #expect(MappedFile.hasChanged(mapped))
        #expect(mapped.suffix(4096).allSatisfy { $0 == 0 }, "what the file no longer has reads as zeros")
        let failure = ImageError.changedWhileRead.photoFailure
        #expect(failure.code == .contentChanged && failure.retryable, "\(failure)")
        // Bytes that are no mapping are never reported cut short.
        #expect(!MappedFile.hasChanged(bytes))
    }

    @Test("a mapped file written in place (same size, new bytes) is reported changed, and the ingestion fails as content_changed")
    func writtenInPlace() async throws {
        let (url, bytes) = try Self.noisyJPEG(width: 1200, height: 900)
        defer { try? FileManager.default.removeItem(at: url) }
        // An hour old, so the write below changes the modification time whatever the clock's tick.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: url.path)
        let mapped = try #require(MappedFile.data(contentsOf: url.path, threshold: 0))
        #expect(!MappedFile.hasChanged(mapped))
        _ = try UprightImage(decoding: mapped, maximumPixels: 300_000)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seek(toOffset: UInt64(bytes.count / 2))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: 4096))
        try handle.close()
        #expect(MappedFile.hasChanged(mapped), "the size is the same; the modification time is not")
        #expect { try MappedFile.checkIntact(mapped) } throws: { ($0 as? ImageError) == .changedWhileRead }
    }

    @Test("the folder store maps a photo of 16 MB or more, and its bytes are the file's")
    func folderStoreMapsBigFiles() async throws {
        let folder = Scratch.url("mapped-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = DirectoryPhotoStore(root: folder)
        let big = Data((0..<(MappedFile.threshold + 12_345)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try await store.put(big, at: "big.jpg", contentType: "image/jpeg")
        let read = try await store.get("big.jpg").data
        #expect(read == big)
        let base = try #require(read.withUnsafeBytes { $0.baseAddress })
        #expect(try Self.residentKB(of: base) > 0, "a mapping of its own")
    }
}
