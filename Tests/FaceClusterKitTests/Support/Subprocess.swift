import Foundation

/// Runs a program to its end on a thread of its own. Tests run on Swift's cooperative threads (one per core):
/// waiting for a process there would stall every other test's tasks — servers, timers, the Lambda loop —
/// for as long as the process runs.
enum Subprocess {
    struct Result: Sendable {
        var status: Int32
        var output: Data
        var errors: Data
    }

    static func run(
        _ executable: URL, _ arguments: [String], input: Data? = nil, in directory: URL? = nil, environment: [String: String]? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = arguments
                    if let directory { process.currentDirectoryURL = directory }
                    if let environment { process.environment = environment }
                    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
                    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
                    process.standardOutput = stdout
                    process.standardError = stderr
                    try process.run()
                    if let input {
                        stdin.fileHandleForWriting.write(input)
                        try stdin.fileHandleForWriting.close()
                    }
                    // Both pipes at once, so a chatty stderr cannot fill its pipe and stall the process.
                    let errors = Locked(Data())
                    let done = DispatchSemaphore(value: 0)
                    Thread.detachNewThread {
                        let data = stderr.fileHandleForReading.readDataToEndOfFile()
                        errors.withLock { $0 = data }
                        done.signal()
                    }
                    let output = stdout.fileHandleForReading.readDataToEndOfFile()
                    done.wait()
                    process.waitUntilExit()
                    continuation.resume(returning: Result(status: process.terminationStatus, output: output, errors: errors.value))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
