import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An in-process Lambda Runtime API (2018-06-01) over real HTTP: events are queued by the test, `next`
/// waits for one (or answers 500 once the double is closed, which must make the runtime exit), and every
/// response and error posted back is recorded.
public final class RuntimeAPIDouble: Sendable {
    public struct Event: Sendable {
        public var requestID: String
        public var body: Data
        public var deadline: Date
        public var traceID: String?

        public init(requestID: String, body: Data, deadline: Date = Date().addingTimeInterval(30), traceID: String? = nil) {
            self.requestID = requestID
            self.body = body
            self.deadline = deadline
            self.traceID = traceID
        }
    }

    /// What the runtime posted: a response, an invocation error or an init error.
    public struct Posted: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case response, error, initError }
        public var kind: Kind
        public var requestID: String?
        public var errorType: String?
        public var body: Data
    }

    public actor State {
        var queue: [Event] = []
        var waiting: [CheckedContinuation<Event?, Never>] = []
        var closed = false
        public private(set) var posted: [Posted] = []

        func next() async -> Event? {
            if !queue.isEmpty { return queue.removeFirst() }
            if closed { return nil }
            return await withCheckedContinuation { waiting.append($0) }
        }

        public func push(_ event: Event) {
            if waiting.isEmpty { queue.append(event) } else { waiting.removeFirst().resume(returning: event) }
        }

        /// From now on `next` answers 500.
        public func close() {
            closed = true
            for waiter in waiting { waiter.resume(returning: nil) }
            waiting = []
        }

        func record(_ posted: Posted) { self.posted.append(posted) }
    }

    public let port: Int
    public let state: State

    private init(port: Int, state: State) {
        self.port = port
        self.state = state
    }

    /// `AWS_LAMBDA_RUNTIME_API`.
    public var address: String { "127.0.0.1:\(port)" }

    /// Waits until the runtime has posted `count` answers (or `timeout` passes: a safety net for a runtime
    /// that never answers, long enough for a machine whose cores are all busy) and returns them.
    public func posted(atLeast count: Int, timeout: Duration = .seconds(120)) async -> [Posted] {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            let posted = await state.posted
            if posted.count >= count { return posted }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return await state.posted
    }

    public static func start() async throws -> RuntimeAPIDouble {
        let state = State()
        let router = Router()
        let base = "/2018-06-01/runtime"
        router.get("\(base)/invocation/next") { _, _ -> Response in
            guard let event = await state.next() else {
                return Response(status: .internalServerError, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"errorType":"Runtime.Closed"}"#)))
            }
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[HTTPField.Name("Lambda-Runtime-Aws-Request-Id")!] = event.requestID
            headers[HTTPField.Name("Lambda-Runtime-Deadline-Ms")!] = String(Int64(event.deadline.timeIntervalSince1970 * 1000))
            headers[HTTPField.Name("Lambda-Runtime-Invoked-Function-Arn")!] = "arn:aws:lambda:us-east-1:123456789012:function:facecluster"
            if let trace = event.traceID { headers[HTTPField.Name("Lambda-Runtime-Trace-Id")!] = trace }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: event.body)))
        }
        router.post("\(base)/invocation/:id/response") { request, context -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 6 * 1024 * 1024))
            await state.record(Posted(kind: .response, requestID: context.parameters.get("id"), errorType: nil, body: body))
            return Response(status: .accepted)
        }
        router.post("\(base)/invocation/:id/error") { request, context -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 1024 * 1024))
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            await state.record(Posted(kind: .error, requestID: context.parameters.get("id"), errorType: type, body: body))
            return Response(status: .accepted)
        }
        router.post("\(base)/init/error") { request, _ -> Response in
            let body = Data(buffer: try await request.body.collect(upTo: 1024 * 1024))
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            await state.record(Posted(kind: .initError, requestID: nil, errorType: type, body: body))
            return Response(status: .accepted)
        }
        return RuntimeAPIDouble(port: await serve(router), state: state)
    }
}
