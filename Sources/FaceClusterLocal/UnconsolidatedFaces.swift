import FaceClusterKit
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The faces a process has grouped and not yet consolidated, kept on disk, so that a run stopped or killed
/// before its consolidation leaves them to the next one instead of to nobody.
///
/// `ingest` consolidates the components its photos touched at its end (``Consolidation/run(touching:)``). A run
/// stopped by Ctrl-C skips that, and one killed never gets there; the next run skips those photos (done, unchanged),
/// so their components would keep the grouping of the moment each photo arrived, which depends on the order and
/// concurrency of arrival (the interruption tests, with three photos in flight, once ended with other people than
/// a run never stopped).
///
/// Each process writes its own file, `STORE/unconsolidated/<uuid>.faces` (a line of face ids per photo, appended),
/// and holds an exclusive `flock(2)` on it while it lives; the kernel lets go when it exits, however it exits.
/// A file nobody holds is a dead process's debt: the next consolidation takes it over
/// (``takeOverAbandoned()``), consolidates its faces with its own and deletes it (``settle(_:remaining:)``). A process
/// that dies between finishing a photo and writing its line leaves that photo out (one `write(2)`, no sync: a
/// power loss can lose the last lines).
public final class UnconsolidatedFaces: Sendable {
    /// This process's file.
    public let file: URL
    private let descriptor: Int32

    /// The faces dead processes left, taken over (their files locked by this process) until ``settle(_:remaining:)``.
    public struct Abandoned: Sendable {
        public var faces: [FaceID]
        fileprivate var files: [(path: String, descriptor: Int32)]
        /// Each file taken over that held faces (its path relative to the library's directory) with its number of
        /// faces. Empty ones (a process stopped before its first photo finished) are taken over and deleted too,
        /// but are nothing to report: `repair --dry-run` does not list them either.
        public var sources: [(file: String, faces: Int)] = []
        /// How many files were taken over.
        public var count: Int { files.count }
    }

    /// Creates this process's file in `directory/unconsolidated` and locks it. Throws ``LibraryFileError``
    /// when it cannot (a read-only store, a file in the folder's place).
    public static func open(in directory: URL) async throws -> UnconsolidatedFaces {
        let folder = directory.appendingPathComponent("unconsolidated")
        let name = UUID().uuidString.lowercased()
        let file = folder.appendingPathComponent("\(name).faces")
        let descriptor = try await BlockingWork.io { () throws -> Int32 in
            if mkdir(folder.path, 0o755) != 0, errno != EEXIST { throw LibraryFileError(.unconsolidatedFaces, path: folder.path, errorNumber: errno) }
            // Created and locked under a name no take-over reads, then renamed: nobody can lock it first.
            let staging = folder.appendingPathComponent("\(name).new").path
            let descriptor = openFile(staging, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw LibraryFileError(.unconsolidatedFaces, path: errno == ENOTDIR ? folder.path : staging, errorNumber: errno) }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0, rename(staging, file.path) == 0 else {
                let failure = LibraryFileError(.unconsolidatedFaces, path: file.path, errorNumber: errno)
                close(descriptor)
                unlink(staging)
                throw failure
            }
            return descriptor
        }
        return UnconsolidatedFaces(file: file, descriptor: descriptor)
    }

    private init(file: URL, descriptor: Int32) {
        self.file = file
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Appends `faces` (one photo's), as one line. Not cancellable: a run stopped (its tasks cancelled) right as a
    /// photo finished must still note that photo.
    public func record(_ faces: [FaceID]) async throws {
        guard !faces.isEmpty else { return }
        let line = Array((faces.map(\.rawValue).joined(separator: " ") + "\n").utf8)
        try await Task { [descriptor, file] in
            try await BlockingWork.io {
                let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                guard written == line.count else { throw LibraryFileError(.unconsolidatedFaces, path: file.path, errorNumber: written < 0 ? errno : ENOSPC) }
            }
        }.value
    }

    /// Replaces this process's record with `faces`: those still waiting after a consolidation.
    public func reset(to faces: [FaceID]) async throws {
        try await BlockingWork.io { [descriptor, file] in
            guard ftruncate(descriptor, 0) == 0 else { throw LibraryFileError(.unconsolidatedFaces, path: file.path, errorNumber: errno) }
        }
        try await record(faces)
    }

    /// Takes over the files of processes that are gone (no lock on them) and reads their faces. Call it under the
    /// ``LibraryLock``, just before consolidating, and ``settle(_:remaining:)`` after.
    public func takeOverAbandoned() async throws -> Abandoned {
        let folder = file.deletingLastPathComponent()
        let own = file.lastPathComponent
        return try await BlockingWork.io {
            var abandoned = Abandoned(faces: [], files: [])
            // A file whose lock is refused is held: its process is alive and will consolidate its own faces.
            for file in Self.unheldFiles(in: folder, except: own, locking: LOCK_EX) {
                abandoned.faces += file.faces
                abandoned.files.append((file.path, file.descriptor))
                if !file.faces.isEmpty { abandoned.sources.append(("unconsolidated/\(file.name)", file.faces.count)) }
            }
            return abandoned
        }
    }

    /// After a consolidation of this process's faces and `abandoned`'s: deletes the files taken over (at once,
    /// whatever else fails), and leaves this process's own holding `remaining` (faces recorded since, still waiting).
    public func settle(_ abandoned: Abandoned, remaining: [FaceID] = []) async throws {
        for (path, descriptor) in abandoned.files {
            unlink(path)
            close(descriptor)
        }
        try await reset(to: remaining)
    }

    /// Lets go of `abandoned`'s files without deleting them (the consolidation failed): the next one takes them over.
    public func release(_ abandoned: Abandoned) {
        for (_, descriptor) in abandoned.files { close(descriptor) }
    }

    /// Runs `body` under `library`'s ``LibraryLock`` with the faces processes that are gone left (taken over);
    /// once it returns, deletes their files and leaves this process's own holding `remaining()` (the faces
    /// recorded since, still waiting); if it throws, lets the files go for the next consolidation.
    public func consolidate<T: Sendable>(
        in library: LocalLibrary, remaining: @Sendable () async -> [FaceID] = { [] },
        _ body: (_ abandoned: [FaceID]) async throws -> T
    ) async throws -> T {
        try await consolidate(in: library, remaining: remaining) { (abandoned: Abandoned) in try await body(abandoned.faces) }
    }

    /// The same, `body` given what was taken over whole (its files too, for a report).
    public func consolidate<T: Sendable>(
        in library: LocalLibrary, remaining: @Sendable () async -> [FaceID] = { [] },
        _ body: (_ abandoned: Abandoned) async throws -> T
    ) async throws -> T {
        try await library.lock.withLock {
            let abandoned = try await takeOverAbandoned()
            let result: T
            do {
                result = try await body(abandoned)
            } catch {
                release(abandoned)
                throw error
            }
            try await settle(abandoned, remaining: await remaining())
            return result
        }
    }

    /// The files processes that are gone left in `directory/unconsolidated` (paths relative to `directory`), each
    /// with its number of faces: read without taking them over, and without creating or changing anything
    /// (`repair --dry-run`'s report). A file whose process lives, or that a consolidation has taken over, holds an
    /// exclusive lock, which refuses the shared one tried here; a consolidation that looks at a file in the moment
    /// this holds it takes it for a live process's and leaves it to the next one (nothing is lost).
    public static func abandoned(in directory: URL) async throws -> [(file: String, faces: Int)] {
        let folder = directory.appendingPathComponent("unconsolidated")
        return try await BlockingWork.io {
            Self.unheldFiles(in: folder, locking: LOCK_SH).compactMap { file in
                close(file.descriptor)
                return file.faces.isEmpty ? nil : ("unconsolidated/\(file.name)", file.faces.count)
            }
        }
    }

    /// The `.faces` files of `folder` (but `own`) that no process holds, in name order: each opened and locked with
    /// `operation` (`LOCK_EX` or `LOCK_SH`, never waiting; a file whose lock is refused is passed over), with its
    /// faces. The caller closes the descriptors.
    private static func unheldFiles(
        in folder: URL, except own: String? = nil, locking operation: Int32
    ) -> [(name: String, path: String, descriptor: Int32, faces: [FaceID])] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().filter { $0.hasSuffix(".faces") && $0 != own }.compactMap { name in
            let path = folder.appendingPathComponent(name).path
            let descriptor = openFile(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return nil }
            guard flock(descriptor, operation | LOCK_NB) == 0 else {
                close(descriptor)
                return nil
            }
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return (name, path, descriptor, text.split(whereSeparator: \.isWhitespace).map { FaceID(rawValue: String($0)) })
        }
    }

    /// Deletes this process's file: it leaves nothing unconsolidated. (Its descriptor closes when it is released.)
    public func remove() async throws {
        try await BlockingWork.io { [file] in _ = unlink(file.path) }
    }
}

/// `open(2)`, out of reach of ``UnconsolidatedFaces/open(in:)``'s name.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    open(path, flags, mode)
}
