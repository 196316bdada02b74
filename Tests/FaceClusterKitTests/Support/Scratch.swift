import Foundation

/// Where tests write libraries, stores and files: one folder per test process under the system's temporary
/// directory (`fck-tests-PID`), removed when the process exits. Tests and their helpers used to create their
/// folders in the temporary directory itself and leave most of them there: about 100 MB of libraries a run.
/// The folders of earlier runs whose process is gone (killed before it could clean up) are removed on first use.
enum Scratch {
    private static let prefix = "fck-tests-"

    static let root: URL = {
        let base = FileManager.default.temporaryDirectory
        let current = getpid()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] where name.hasPrefix(prefix) {
            guard let other = Int32(name.dropFirst(prefix.count)), other != current, kill(other, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: base.appendingPathComponent(name))
        }
        let root = base.appendingPathComponent("\(prefix)\(current)")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return root
    }()

    /// `name` inside this process's scratch folder (not created).
    static func url(_ name: String) -> URL { root.appendingPathComponent(name) }
}
