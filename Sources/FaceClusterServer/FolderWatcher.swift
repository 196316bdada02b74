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

    public init(folders: [URL], queue: IngestQueue, library: LocalLibrary, interval: Duration = .seconds(2)) {
        self.folders = folders.map(\.standardizedFileURL)
        self.queue = queue
        self.library = library
        self.interval = interval
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
        let listing = ((try? await BlockingWork.io { Self.list(folders) }) ?? [:]).filter { !$0.key.hasPrefix(own) }
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

    private static func list(_ folders: [URL]) -> [String: Stamp] {
        var files: [String: Stamp] = [:]
        let keys: [URLResourceKey] = [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey]
        for folder in folders {
            let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
            while let file = walker?.nextObject() as? URL {
                guard LocalLibrary.photoExtensions.contains(file.pathExtension.lowercased()),
                      let values = try? file.resourceValues(forKeys: Set(keys)), values.isRegularFile == true
                else { continue }
                files[file.standardizedFileURL.path] = Stamp(size: values.fileSize ?? 0, modified: values.contentModificationDate ?? .distantPast)
            }
        }
        return files
    }
}
