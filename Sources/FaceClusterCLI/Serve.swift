import ArgumentParser
import Crypto
import FaceClusterKit
import FaceClusterLocal
import FaceClusterServer
import Foundation

/// `facecluster serve`: the web gallery and the HTTP API on this machine.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the people gallery in a browser, and the HTTP API the Lambda serves, from a library.",
        discussion: """
            Open the printed address: People, a person's photos, a photo with its faces boxed, Review (merge \
            suggestions and faces waiting unassigned), Upload and Status. \
            The API is at /api (Docs/openapi.yaml). Uploads and photos that appear in --watch folders are grouped \
            in the background, --jobs analysed at once; photos an earlier run left unfinished (stopped mid-upload) are \
            finished first. On 127.0.0.1 (the default) no token is needed; on any other \
            address every API request needs the token (generated and printed unless --token is given). Ctrl-C stops.
            """)

    @OptionGroup var options: StoreOptions

    @Option(help: "The address to listen on; anything but loopback needs a token.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "The port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "The bearer token API requests must carry (default: none on loopback, a random one otherwise).")
    var token: String?

    @Option(parsing: .upToNextOption, help: "Folders to watch: new and changed photos in them are grouped as they appear.")
    var watch: [String] = []

    @Option(parsing: .unconditional, help: "Photos analysed at once, each on a core, with two a job in flight (jobs beyond the cores only add photos in flight); the default is one per core.")
    var jobs = LocalLibrary.defaultJobs

    @Option(parsing: .unconditional, help: "The largest upload, in MB.")
    var maxUploadMb = 50

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
        guard (1...1024).contains(maxUploadMb) else { throw ValidationError("--max-upload-mb must be between 1 and 1024") }
        if let token, token.count < 16 || !token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) {
            throw ValidationError("--token must be at least 16 printable characters without spaces")
        }
        let store = URL(fileURLWithPath: options.store).standardizedFileURL.resolvingSymlinksInPath().path
        for folder in watch {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--watch: no such folder: \(folder)")
            }
            // A watched folder holding the library would take its own thumbnails for photos, without end.
            let watched = URL(fileURLWithPath: folder).standardizedFileURL.resolvingSymlinksInPath().path
            if store == watched || store.hasPrefix(watched + "/") || watched.hasPrefix(store + "/") {
                throw ValidationError("--watch \(folder): the library (--store \(options.store)) is inside it or holds it; watch a folder apart from the library")
            }
        }
    }

    func run() async throws {
        let library = try options.open(engine: LocalFaceEngine.Configuration(engines: LocalLibrary.engines(jobs: jobs)))
        // Every change, upload and regrouping writes the store: one it cannot write (read-only, the lock file a
        // folder) fails now, not as a 500 on the first change.
        try await galleryCall { try await library.lock.check() }
        var configuration = GalleryServer.Configuration(host: host, port: port, token: token, maximumUploadBytes: maxUploadMb * 1_048_576)
        if configuration.token == nil, !configuration.isLoopback {
            configuration.token = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let token = configuration.token
        // Its lines name files: escaped as every plain listing's are (one line each, no terminal control).
        let queue = IngestQueue(library: library, jobs: jobs) { line in printError(shown(line)) }
        let server = try GalleryServer.local(library: library, configuration: configuration, queue: queue)
        // Uploads a stop interrupted (Ctrl-C, a crash) are finished first.
        let unfinished = try await queue.enqueueUnfinished()
        if unfinished > 0 { printError("Finishing \(unfinished) photo\(unfinished == 1 ? "" : "s") an earlier run left unfinished…") }
        let watcher = watch.isEmpty ? nil : FolderWatcher(
            folders: watch.map { URL(fileURLWithPath: $0) }, queue: queue, library: library, report: { line in printError(shown(line)) })
        let stop = StopSignal.install(secondMessage: "\nStopped at once.") { _ in printError("Stopping…") }
        // A wildcard address is not one a browser can open: print this machine's loopback address instead.
        let shownHost = ["0.0.0.0", "::"].contains(host) ? "127.0.0.1" : host.contains(":") ? "[\(host)]" : host
        let serving = Task {
            try await server.run { port in
                let address = "http://\(shownHost):\(port)/"
                var lines = ["Gallery: \(address)\(token.map { "#token=\($0)" } ?? "")"]
                lines.append("API: \(address)api (Docs/openapi.yaml)\(token.map { "; send Authorization: Bearer \($0)" } ?? "")")
                if !watch.isEmpty { lines.append("Watching \(watch.joined(separator: ", ")) for new photos") }
                lines.append("Library: \(library.directory.path). Ctrl-C stops.")
                // Unbuffered: a script waiting for the address reads it at once.
                FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
            }
        }
        exitIfServingFails(serving, stop: stop)
        let watching = Task { await watcher?.run() }
        _ = await stop.wait()
        watching.cancel()
        serving.cancel()
        // Requests in flight get a few seconds to finish (a slow upload does not hold the stop); photos being
        // ingested are taken over by the next start (their claims name this process).
        let stopped = Stopped()
        Task { _ = await serving.result; await stopped.mark() }
        let deadline = ContinuousClock.now + Ingest.stopGrace
        while await !stopped.done, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        throw ExitCode(stop.exitStatus ?? 0)
    }
}

/// Whether the server has shut down (a slow request may hold a graceful shutdown; it is not waited for long).
private actor Stopped {
    private(set) var done = false
    func mark() { done = true }
}

/// Ends the command with exit status 2 and the reason when `serving` fails before a stop signal (its port taken,
/// an address not of this machine): without it, the command waited for a Ctrl-C with nothing printed.
func exitIfServingFails(_ serving: Task<Void, any Error>, stop: StopSignal) {
    Task {
        guard case .failure(let error) = await serving.result, stop.received == nil else { return }
        printError("error: \(error)")
        Foundation.exit(2)
    }
}
