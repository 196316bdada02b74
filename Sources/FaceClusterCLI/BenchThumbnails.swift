import ArgumentParser
import FaceClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Face thumbnails with libturbojpeg over the inputs of `shared/bench/pillow_thumbnails.py`, with its defaults,
/// printing one JSON line in its shape plus the decode time at the chosen DCT scale.
struct BenchThumbnails: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thumbnails",
        abstract: "Cut face thumbnails from the photos of BOXES.json and print throughput and peak memory as JSON.",
        discussion: """
            BOXES.json: [{"photo": "path.jpg", "boxes": [{"left":…,"top":…,"width":…,"height":…}, …]}, …] \
            (paths relative to the file). Each photo is read from disk, cut and encoded REPEAT times, one after \
            another, as the Pillow peer does.
            """)

    @Argument(help: "The BOXES.json file.")
    var boxes: String

    @Option(parsing: .unconditional, help: "Thumbnail side in pixels.") var size = 160
    @Option(parsing: .unconditional, help: "Margin around the face, as a fraction of its longer side.") var margin = 0.25
    @Option(parsing: .unconditional, help: "JPEG quality.") var quality = 85
    @Option(parsing: .unconditional, help: "How many times to process the whole set.") var `repeat` = 3

    func validate() throws {
        guard (16...4096).contains(size) else { throw ValidationError("--size must be between 16 and 4096 pixels") }
        guard (0...2).contains(margin) else { throw ValidationError("--margin must be between 0 and 2") }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be between 1 and 100") }
        guard (1...100_000).contains(`repeat`) else { throw ValidationError("--repeat must be between 1 and 100000") }
    }

    struct Job: Decodable {
        var photo: String
        var boxes: [Box]
        struct Box: Decodable { var left, top, width, height: Double }
    }

    func run() async throws {
        let file = URL(fileURLWithPath: boxes)
        let jobs: [Job]
        do {
            jobs = try JSONDecoder().decode([Job].self, from: Data(contentsOf: file))
        } catch {
            throw ValidationError("cannot read \(boxes): \(error.localizedDescription)")
        }
        let folder = file.deletingLastPathComponent()
        let photos = jobs.map { job in job.photo.hasPrefix("/") ? URL(fileURLWithPath: job.photo) : folder.appendingPathComponent(job.photo) }
        let spec = ThumbnailSpec(size: size, margin: margin, quality: quality)
        let cropper = TurboJPEGThumbnailCropper()
        let boxLists = jobs.map { $0.boxes.map { BoundingBox(left: $0.left, top: $0.top, width: $0.width, height: $0.height) } }

        // The decode alone, at the scale the cropper picks: how far the whole job is from the decoding floor.
        var decodeTime = Duration.zero
        var scales: Set<String> = []
        for _ in 0..<`repeat` {
            for (photo, boxes) in zip(photos, boxLists) {
                let data = try Data(contentsOf: photo)
                let started = ContinuousClock.now
                scales.insert(try cropper.decodeOnly(data, boxes: boxes, spec: spec).scale)
                decodeTime += ContinuousClock.now - started
            }
        }

        var faces = 0
        let started = ContinuousClock.now
        for _ in 0..<`repeat` {
            for (photo, boxes) in zip(photos, boxLists) {
                faces += try await cropper.thumbnails(of: Data(contentsOf: photo), boxes: boxes, spec: spec).count
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let processed = `repeat` * jobs.count
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let result: [String: Benchmark.Value] = [
            "peer": .text("facecluster"), "photos": .number(Double(processed)), "faces": .number(Double(faces)),
            "seconds": .number(seconds.rounded(to: 3)), "photos_per_s": .number((Double(processed) / seconds).rounded(to: 2)),
            "faces_per_s": .number((Double(faces) / seconds).rounded(to: 2)),
            "peak_rss_mb": .number((Double(usage.ru_maxrss) / 1024).rounded(to: 1)),
            "decode_ms_per_photo": .number((decodeTime.seconds * 1000 / Double(processed)).rounded(to: 2)),
            "dct_scale": .text(scales.sorted().joined(separator: ",")),
        ]
        print(try Benchmark.line(result))
    }
}

enum Benchmark {
    enum Value: Encodable {
        case text(String), number(Double)
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .number(let number): try container.encode(number)
            }
        }
    }

    static func line(_ values: [String: Value]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(values), as: UTF8.self)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension Double {
    func rounded(to places: Int) -> Double {
        let scale = (0..<places).reduce(1.0) { result, _ in result * 10 }
        return (self * scale).rounded() / scale
    }
}
