import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One invocation as the Runtime API hands it out.
struct Invocation: Sendable {
    var requestID: String
    /// When Lambda stops the function (`Lambda-Runtime-Deadline-Ms`).
    var deadline: Date
    var invokedFunctionARN: String?
    /// The X-Ray trace header, exported as `_X_AMZN_TRACE_ID` while the invocation runs.
    var traceID: String?

    var remaining: Duration {
        .milliseconds(Int64((deadline.timeIntervalSinceNow * 1000).rounded(.down)))
    }
}

/// Failures of the Runtime API itself: after any of them the runtime must exit (Lambda replaces the container).
enum RuntimeAPIError: Error, CustomStringConvertible, Equatable {
    case status(Int, endpoint: String)
    case malformed(String)

    var description: String {
        switch self {
        case .status(let status, let endpoint): "the Runtime API answered \(status) to \(endpoint)"
        case .malformed(let detail): "the Runtime API sent something unexpected: \(detail)"
        }
    }
}

/// The Lambda Runtime API (2018-06-01) over an ``HTTPTransport``: `next`, `response`, `error`, `init/error`.
struct RuntimeAPIClient: Sendable {
    let base: URL
    let transport: any HTTPTransport

    /// - Parameter address: `AWS_LAMBDA_RUNTIME_API` (host:port).
    init(address: String, transport: any HTTPTransport) throws {
        guard let base = URL(string: "http://\(address)/2018-06-01") else { throw RuntimeAPIError.malformed("AWS_LAMBDA_RUNTIME_API '\(address)'") }
        self.base = base
        self.transport = transport
    }

    /// Waits for the next event (no client timeout: the call blocks until one arrives).
    func next() async throws -> (Invocation, Data) {
        let response = try await transport.send(HTTPRequest(
            method: "GET", url: base.appendingPathComponent("runtime/invocation/next"), timeout: .seconds(366 * 24 * 3600)))
        guard response.status == 200 else { throw RuntimeAPIError.status(response.status, endpoint: "next") }
        func header(_ name: String) -> String? { response.headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        guard let requestID = header("Lambda-Runtime-Aws-Request-Id"), !requestID.isEmpty else {
            throw RuntimeAPIError.malformed("no Lambda-Runtime-Aws-Request-Id")
        }
        let deadline = header("Lambda-Runtime-Deadline-Ms").flatMap(Int64.init).map { Date(timeIntervalSince1970: Double($0) / 1000) }
            ?? Date().addingTimeInterval(900)
        let invocation = Invocation(
            requestID: requestID, deadline: deadline, invokedFunctionARN: header("Lambda-Runtime-Invoked-Function-Arn"),
            traceID: header("Lambda-Runtime-Trace-Id"))
        return (invocation, response.body)
    }

    func respond(to requestID: String, with body: Data) async throws {
        try await post("runtime/invocation/\(requestID)/response", body: body, errorType: nil)
    }

    func fail(_ requestID: String, error: RuntimeFailure) async throws {
        try await post("runtime/invocation/\(requestID)/error", body: error.body, errorType: error.type)
    }

    func failInitialization(_ error: RuntimeFailure) async throws {
        try await post("runtime/init/error", body: error.body, errorType: error.type)
    }

    private func post(_ path: String, body: Data, errorType: String?) async throws {
        var headers: [(name: String, value: String)] = []
        if let errorType {
            headers = [("Lambda-Runtime-Function-Error-Type", errorType), ("Content-Type", "application/vnd.aws.lambda.error+json")]
        }
        let response = try await transport.send(HTTPRequest(method: "POST", url: base.appendingPathComponent(path), headers: headers, body: body))
        guard (200..<300).contains(response.status) else { throw RuntimeAPIError.status(response.status, endpoint: path) }
    }
}

/// An error as Lambda reports it: `{"errorMessage", "errorType", "stackTrace"}`.
struct RuntimeFailure: Error, Sendable, Equatable, Codable {
    var errorType: String
    var errorMessage: String
    var stackTrace: [String] = []

    init(type: String, message: String) {
        errorType = type
        errorMessage = message
    }

    var type: String { errorType }
    var body: Data { (try? JSONEncoder().encode(self)) ?? Data() }
}
