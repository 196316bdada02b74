#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where to send requests: the region and, for local fakes (moto, LocalStack), an endpoint per service.
public struct AWSConfiguration: Sendable {
    public var region: String
    /// Endpoint overrides by signing name (`s3`, `dynamodb`, `rekognition`); S3 then uses path-style URLs.
    public var endpoints: [String: URL]

    public init(region: String, endpoints: [String: URL] = [:]) {
        self.region = region
        self.endpoints = endpoints
    }

    /// From the environment as the AWS CLI reads it: region from `AWS_REGION`, `AWS_DEFAULT_REGION`, then the
    /// profile's `region`; endpoints from `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessEnvironment.current) throws -> AWSConfiguration {
        let location = AWSConfigFile.Location(environment: environment)
        let profileRegion = AWSConfigFile(path: location.configPath)?.configProfile(location.profile)?["region"]
        guard let region = [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"], profileRegion]
            .compactMap({ $0 }).first(where: { !$0.isEmpty })
        else {
            throw AWSConfigurationError.missingRegion
        }
        var endpoints: [String: URL] = [:]
        for service in ["s3", "dynamodb", "rekognition", "sqs"] {
            let text = environment["AWS_ENDPOINT_URL_" + service.uppercased()] ?? environment["AWS_ENDPOINT_URL"]
            if let text, !text.isEmpty {
                guard let url = URL(string: text), url.scheme != nil, url.host != nil else { throw AWSConfigurationError.invalidEndpoint(text) }
                endpoints[service] = url
            }
        }
        return AWSConfiguration(region: region, endpoints: endpoints)
    }

    /// The endpoint for a service: the override, or `https://<service>.<region>.amazonaws.com`.
    public func endpoint(for service: String) -> URL {
        endpoints[service] ?? URL(string: "https://\(service).\(region).amazonaws.com")!
    }
}

public enum AWSConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case missingRegion
    case invalidEndpoint(String)

    public var description: String {
        switch self {
        case .missingRegion: "no AWS region: set AWS_REGION (for example eu-west-1) or `region` in ~/.aws/config"
        case .invalidEndpoint(let text): "'\(text)' is not an endpoint URL (expected http(s)://host[:port])"
        }
    }
}
