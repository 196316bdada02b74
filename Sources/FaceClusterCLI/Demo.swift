import ArgumentParser
import FaceClusterKit
import Foundation

/// Runs the ingestion pipeline and the gallery on a generated library, entirely in memory: the SDK's main
/// job, end to end, with no AWS account and no face model.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Group a generated photo library into people, in memory, and print them.",
        discussion: """
            The library: PEOPLE people photographed alone and in groups, one photo with no face, one file that \
            is not an image and one cut-off photo. Every photo is ingested twice (the second time must change \
            nothing), then people are listed with their photos.
            """)

    @Option(parsing: .unconditional, help: "How many people the library shows (2…60).")
    var people = 6

    @Option(parsing: .unconditional, help: "How many photos of people to generate (1…2000).")
    var photos = 40

    @Option(help: "Face-service call plan: indexed (1 + N calls a photo) or seed (the reference design).")
    var plan: CallPlan = .indexed

    @Option(parsing: .unconditional, help: "Photos ingested at once.")
    var concurrency = 4

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (2...60).contains(people) else { throw ValidationError("--people must be between 2 and 60") }
        guard (1...2000).contains(photos) else { throw ValidationError("--photos must be between 1 and 2000") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64") }
    }

    func run() async throws {
        let library = DemoLibrary(people: people, photos: photos)
        let raw = InMemoryPhotoStore(location: "demo-raw")
        let thumbnails = InMemoryPhotoStore(location: "demo-thumbnails")
        let index = InMemoryFaceIndex()
        let metadata = InMemoryMetadataStore()
        let calls = CallCounter()
        let pipeline = IngestionPipeline(
            photos: raw, thumbnails: thumbnails, detector: ScriptedFaceDetector().intercepted(by: calls),
            index: index.intercepted(by: calls), metadata: metadata, cropper: SyntheticThumbnailCropper(),
            configuration: .init(callPlan: plan))
        let gallery = Gallery(metadata: metadata, photos: raw, thumbnails: thumbnails, index: index)

        var references: [PhotoReference] = []
        for (key, data) in library.files {
            try await raw.put(data, at: key, contentType: "image/jpeg")
            references.append(PhotoReference(store: raw.location, key: key))
        }
        let started = ContinuousClock.now
        let reports = await pipeline.ingest(references, maxConcurrency: concurrency)
        let elapsed = ContinuousClock.now - started
        let faceCalls = calls.total
        let again = await pipeline.ingest(references, maxConcurrency: concurrency)
        let everyone = try await Page.all { try await gallery.people(page: $0) }
        var listing: [DemoPerson] = []
        for person in everyone {
            let photos = try await gallery.photos(of: person.id, page: PageRequest(limit: 1000)).items
            listing.append(DemoPerson(
                id: person.id.rawValue, photoCount: person.photoCount, faceCount: person.faceCount,
                photos: photos.map(\.photo.reference.key), identity: library.identity(of: photos.first?.appearance)))
        }
        let summary = DemoSummary(
            reports: reports, repeated: again, people: everyone.count, faceServiceCalls: faceCalls,
            extraCallsOnRepeat: calls.total - faceCalls, elapsed: elapsed, plan: plan)
        if json {
            try printJSON(DemoOutput(summary: summary, people: listing))
        } else {
            print(summary.text)
            print("")
            for person in listing {
                let shown = person.photos.prefix(4).joined(separator: ", ")
                let more = person.photos.count > 4 ? ", … \(person.photos.count - 4) more" : ""
                print("\(person.id)  (\(person.identity))  \(person.photoCount) photos, \(person.faceCount) faces: \(shown)\(more)")
            }
        }
        if summary.failed.count != library.expectedFailures { throw ExitCode(1) }
    }
}

extension CallPlan: ExpressibleByArgument {}
