import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster serve --watch FOLDER…`: the local twin of the raw bucket's notification. Every few seconds it
/// lists the folders (recursively, hidden files and non-photo extensions left out, on an IO thread) and hands
/// photos that are new or changed (size or modification time) to the ``IngestQueue`` — once a file has kept
/// the same size and time for two scans in a row, so a photo still being copied is not read half-written.
/// Photos already done are passed over by the pipeline itself (their content tag is unchanged).
public actor FolderWatcher {
    public let folders: [URL]
    public let interval: Duration
    private let queue: IngestQueue
    private let library: LocalLibrary
    private struct Stamp: Equatable { var size: Int; var modified: Date }
    private var handed: [String: Stamp] = [:]
    private var candidates: [String: Stamp] = [:]
    /// Says what a scan cannot take (a line each, once per file): `serve` prints it on stderr.
    private let report: @Sendable (String) -> Void
    private var reported: Set<String> = []

    public init(
        folders: [URL], queue: IngestQueue, library: LocalLibrary, interval: Duration = .seconds(2),
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.folders = folders.map(\.standardizedFileURL)
        self.queue = queue
        self.library = library
        self.interval = interval
        self.report = report
    }

    /// Scans until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await scan()
            try? await Task.sleep(for: interval)
        }
    }

    /// One scan: queues the photos that are new or changed and have settled since the last scan.
    public func scan() async {
        let folders = self.folders
        let own = library.directory.resolvingSymlinksInPath().path + "/"
        // Never the library's own files (its thumbnails are photos of faces).
        let (found, unnamed) = (try? await BlockingWork.io { Self.list(folders) }) ?? ([:], [])
        let listing = found.filter { !$0.key.hasPrefix(own) }
        // A library's keys are UTF-8 (S3's rule): a photo whose name is not can never be taken; said once.
        for path in unnamed.sorted() where reported.insert(path).inserted {
            report("watch: cannot take \(path): \(LocalLibrary.notUTF8Name)")
        }
        for (path, stamp) in listing.sorted(by: { $0.key < $1.key }) where handed[path] != stamp {
            if candidates[path] == stamp {
                candidates[path] = nil
                handed[path] = stamp
                if let reference = library.reference(forFile: URL(fileURLWithPath: path)) { await queue.enqueue(reference) }
            } else {
                candidates[path] = stamp
            }
        }
        for path in handed.keys where listing[path] == nil { handed[path] = nil }
    }

    /// The photos below `folders`, and the photos whose names are not UTF-8 (``LocalLibrary/nameIsNotUTF8(_:)``).
    private static func list(_ folders: [URL]) -> ([String: Stamp], Set<String>) {
        var files: [String: Stamp] = [:]
        var unnamed = Set<String>()
        let keys: [URLResourceKey] = [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey]
        for folder in folders {
            let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
            while let file = walker?.nextObject() as? URL {
                guard LocalLibrary.photoExtensions.contains(file.pathExtension.lowercased()) else { continue }
                guard let values = try? file.resourceValues(forKeys: Set(keys)), values.isRegularFile == true else {
                    if LocalLibrary.nameIsNotUTF8(file) { unnamed.insert(file.standardizedFileURL.path) }
                    continue
                }
                files[file.standardizedFileURL.path] = Stamp(size: values.fileSize ?? 0, modified: values.contentModificationDate ?? .distantPast)
            }
        }
        return (files, unnamed)
    }
}
