import Foundation
import Testing

/// Runs a Python helper from Fixtures/ with JSON on stdin and returns what it printed (JSON). Used where
/// AWS's own Python SDK (botocore) is the oracle. Records an issue and returns nil when the script fails.
enum PythonScript {
    static func run(_ name: String, arguments: [String] = [], input: Data = Data()) async throws -> Data? {
        let script = try #require(Bundle.module.url(forResource: name, withExtension: "py", subdirectory: "Fixtures"))
        let result = try await Subprocess.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path] + arguments, input: input)
        guard result.status == 0 else {
            Issue.record("\(name).py failed (is botocore installed? scripts/install-deps.sh installs it): \(String(decoding: result.errors, as: UTF8.self))")
            return nil
        }
        return result.output
    }
}
