@testable import FaceClusterLambda
import Foundation
import Testing

@Suite("deploy/template.yaml")
struct DeploymentTemplateTests {
    static let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../deploy/template.yaml").standardizedFileURL

    @Test("passes cfn-lint, routes exactly what the API serves, and gives each function the settings it reads")
    func template() throws {
        let input = try JSONSerialization.data(withJSONObject: ["template": Self.template.path])
        let output = try #require(try PythonScript.run("template_check", input: input))
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect((report["problems"] as? [String]) == [], "\(report["problems"] ?? "")")
        #expect(Set(report["routes"] as? [String] ?? []) == Set(APIHandler.routes.map { "\($0.method) \($0.path)" }))
        let handlers = try #require(report["handlers"] as? [String: String])
        #expect(Set(handlers.values) == ["ingest", "api"])
        // Every function's environment is a complete configuration: LambdaConfiguration accepts it.
        for (function, names) in try #require(report["environment"] as? [String: [String]]) {
            let environment = Dictionary(uniqueKeysWithValues: names.map { ($0, $0 == "CALL_PLAN" ? "indexed" : $0 == "URL_EXPIRY_SECONDS" ? "900" : "value-of-\($0)") })
            #expect(throws: Never.self, "\(function)") { try LambdaConfiguration(environment: environment) }
        }
    }
}
