import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file of the library's own that could not be created, opened or written: the store is read-only or full, or
/// something else has the file's name (a folder in the lock file's place, a file in `unconsolidated/`'s).
public struct LibraryFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum File: Hashable, Sendable {
        /// The store's folder itself (`--store`).
        case store
        /// `STORE/consolidation.lock` (``LibraryLock``).
        case lock
        /// `STORE/unconsolidated/` and this process's file in it (``UnconsolidatedFaces``).
        case unconsolidatedFaces
    }

    public var file: File
    public var path: String
    /// `strerror(3)`'s text for the failure ("Read-only file system", "Is a directory", "No space left on device").
    public var reason: String

    public init(_ file: File, path: String, errorNumber: Int32) {
        self.file = file
        self.path = path
        reason = String(cString: strerror(errorNumber))
    }

    public var description: String {
        switch file {
        case .store:
            "cannot create the library's folder \(path): \(reason) (--store must name a folder this user can create, or one that exists)"
        case .lock:
            "cannot take the library's lock \(path): \(reason) (the store must be a folder this user can write to, and the lock file a file)"
        case .unconsolidatedFaces:
            "cannot write the library's record of faces not yet regrouped, \(path): \(reason) (the store must be a folder this user can write to, and unconsolidated/ a folder in it)"
        }
    }
}

extension LibraryFileError {
    /// Creates the store's folder (and those above it) when missing; throws ``LibraryFileError`` with the
    /// system's reason (a file in the way, no permission) instead of Foundation's error dump.
    static func createStore(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey]
            let code = (underlying as? POSIXError).map { $0.code.rawValue } ?? (underlying as? NSError).map { Int32($0.code) }
            throw LibraryFileError(.store, path: directory.path, errorNumber: code ?? EIO)
        }
    }
}
