import Foundation
import Testing

/// Runs a Python helper from Fixtures/ with JSON on stdin and returns what it printed (JSON). Used where
/// AWS's own Python SDK (botocore) is the oracle. Records an issue and returns nil when the script fails.
enum PythonScript {
    static func run(_ name: String, input: Data) throws -> Data? {
        let script = try #require(Bundle.module.url(forResource: name, withExtension: "py", subdirectory: "Fixtures"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Issue.record("\(name).py failed (is botocore installed? scripts/install-deps.sh installs it): \(problems)")
            return nil
        }
        return output
    }
}
