@testable import FaceClusterLambda
import FaceClusterKit
import Foundation
import Testing

@Suite("deploy/template.yaml")
struct DeploymentTemplateTests {
    static let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../deploy/template.yaml").standardizedFileURL

    @Test("passes cfn-lint, routes exactly what the API serves, and gives each function the settings it reads")
    func template() async throws {
        let input = try JSONSerialization.data(withJSONObject: ["template": Self.template.path])
        let output = try #require(try await PythonScript.run("template_check", input: input))
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect((report["problems"] as? [String]) == [], "\(report["problems"] ?? "")")
        #expect(Set(report["routes"] as? [String] ?? []) == Set(GalleryAPI.routes.map { "\($0.method) \($0.path)" }))
        let handlers = try #require(report["handlers"] as? [String: String])
        #expect(Set(handlers.values) == ["ingest", "api", "repair"])
        // Every function's environment is a complete configuration: LambdaConfiguration accepts it.
        for (function, names) in try #require(report["environment"] as? [String: [String]]) {
            let environment = Dictionary(uniqueKeysWithValues: names.map { ($0, $0 == "CALL_PLAN" ? "indexed" : $0 == "URL_EXPIRY_SECONDS" ? "900" : "value-of-\($0)") })
            #expect(throws: Never.self, "\(function)") { try LambdaConfiguration(environment: environment) }
            if handlers[function] == "repair" { #expect(names.contains("INGEST_QUEUE_URL")) }
        }
        // A message must stay invisible longer than an invocation can hold it (AWS: 6 × the function's timeout),
        // and a photo's lease ends with its invocation, long before the message comes back.
        let timing = try #require(report["ingestTiming"] as? [String: Int])
        let (visibility, timeout) = (try #require(timing["visibilityTimeout"]), try #require(timing["functionTimeout"]))
        #expect(visibility >= 6 * timeout, "visibility \(visibility) s, function timeout \(timeout) s")
        #expect(Int64(timeout) + IngestHandler.defaultLeaseMargin.components.seconds < Int64(visibility))
    }
}
