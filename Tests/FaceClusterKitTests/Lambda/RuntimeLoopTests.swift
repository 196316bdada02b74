import FaceClusterDoubles
import FaceClusterKit
@testable import FaceClusterLambda
import Foundation
import Logging
import Testing

@Suite("Lambda runtime loop against a Runtime API double", .serialized)  // each loop sets the process-wide _X_AMZN_TRACE_ID
struct RuntimeLoopTests {
    /// Echoes the event; `{"fail": …}` throws, `{"sleep": ms}` sleeps; records the trace id it saw.
    struct EchoHandler: LambdaHandler {
        func handle(_ event: Data, invocation: Invocation, logger: Logger) async throws -> Data {
            let object = try JSONSerialization.jsonObject(with: event) as? [String: Any] ?? [:]
            if let message = object["fail"] as? String { throw RuntimeFailure(type: "Test.Failure", message: message) }
            if let milliseconds = object["sleep"] as? Int { try await Task.sleep(for: .milliseconds(milliseconds)) }
            let trace = ProcessInfo.processInfo.environment["_X_AMZN_TRACE_ID"] ?? ""
            return try JSONSerialization.data(withJSONObject: ["echo": object, "trace": trace, "requestId": invocation.requestID])
        }
    }

    static func loop(_ double: RuntimeAPIDouble) throws -> RuntimeLoop {
        RuntimeLoop(client: try RuntimeAPIClient(address: double.address, transport: AsyncHTTPClientTransport()), logger: Logger(label: "test"))
    }

    @Test("events in, responses and errors out; the trace id is exported; 500 from the Runtime API ends the loop")
    func events() async throws {
        let double = try await RuntimeAPIDouble.start()
        let loop = try Self.loop(double)
        let running = Task { await loop.run { EchoHandler() } }
        await double.state.push(.init(requestID: "r1", body: Data(#"{"n":1}"#.utf8), traceID: "Root=1-abc;Parent=def;Sampled=1"))
        await double.state.push(.init(requestID: "r2", body: Data(#"{"fail":"no"}"#.utf8)))
        await double.state.push(.init(requestID: "r3", body: Data("not json".utf8)))
        let posted = await double.posted(atLeast: 3)
        try #require(posted.count == 3, "the loop answered \(posted.count) of 3 events")
        #expect(posted.map(\.kind) == [.response, .error, .error])
        #expect(posted.map(\.requestID) == ["r1", "r2", "r3"])
        let echo = try #require(try JSONSerialization.jsonObject(with: posted[0].body) as? [String: Any])
        #expect(echo["trace"] as? String == "Root=1-abc;Parent=def;Sampled=1" && echo["requestId"] as? String == "r1")
        #expect(posted[1].errorType == "Test.Failure")
        let error = try JSONDecoder().decode(RuntimeFailure.self, from: posted[1].body)
        #expect(error.errorMessage == "no" && error.errorType == "Test.Failure")
        #expect(posted[2].errorType == "Runtime.HandlerError")
        await double.state.close()
        #expect(await running.value == 1)
    }

    @Test("work past the deadline is answered with Runtime.DeadlineExceeded, and the loop goes on")
    func deadline() async throws {
        let double = try await RuntimeAPIDouble.start()
        let loop = try Self.loop(double)
        let running = Task { await loop.run { EchoHandler() } }
        // The handler would sleep 30 s; the deadline is 0.6 s away. Answering both well within 30 s shows the loop
        // did not wait for the handler, with room for a busy machine (3 s was missed by 0.2 s under load).
        await double.state.push(.init(requestID: "slow", body: Data(#"{"sleep":30000}"#.utf8), deadline: Date().addingTimeInterval(0.6)))
        await double.state.push(.init(requestID: "fast", body: Data(#"{"n":2}"#.utf8)))
        let started = ContinuousClock.now
        let posted = await double.posted(atLeast: 2)
        try #require(posted.count == 2, "the loop answered \(posted.count) of 2 events")
        #expect(ContinuousClock.now - started < .seconds(15), "the slow event did not hold up the next one")
        #expect(posted.first?.errorType == "Runtime.DeadlineExceeded" && posted.first?.requestID == "slow")
        #expect(posted.last?.kind == .response && posted.last?.requestID == "fast")
        await double.state.close()
        _ = await running.value
    }

    @Test("a failing set-up is reported to init/error and the process exits with a failure")
    func initError() async throws {
        let double = try await RuntimeAPIDouble.start()
        let status = await (try Self.loop(double)).run {
            throw LambdaConfiguration.Problem.missing("RAW_BUCKET")
        }
        #expect(status == 1)
        let posted = await double.state.posted
        #expect(posted.map(\.kind) == [.initError] && posted.first?.errorType == "Runtime.InitError")
        let message = String(decoding: posted.first?.body ?? Data(), as: UTF8.self)
        #expect(message.contains("RAW_BUCKET"))
    }

    @Test("missing or wrong environment variables are named", arguments: [
        ([String: String](), "RAW_BUCKET"),
        (["RAW_BUCKET": "raw", "PROCESSED_BUCKET": "raw", "TABLE_PREFIX": "t", "COLLECTION_ID": "c"], "PROCESSED_BUCKET"),
        (["RAW_BUCKET": "raw", "PROCESSED_BUCKET": "p", "TABLE_PREFIX": "t", "COLLECTION_ID": "c", "CALL_PLAN": "cheap"], "CALL_PLAN"),
        (["RAW_BUCKET": "raw", "PROCESSED_BUCKET": "p", "TABLE_PREFIX": "t", "COLLECTION_ID": "c", "URL_EXPIRY_SECONDS": "0"], "URL_EXPIRY_SECONDS"),
    ])
    func configuration(environment: [String: String], variable: String) {
        #expect(throws: LambdaConfiguration.Problem.self) { try LambdaConfiguration(environment: environment) }
        do {
            _ = try LambdaConfiguration(environment: environment)
        } catch {
            #expect("\(error)".contains(variable))
        }
    }
}
