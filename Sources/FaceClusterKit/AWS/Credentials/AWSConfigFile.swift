#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The shared `~/.aws/credentials` and `~/.aws/config` files (INI): sections of `key = value` lines,
/// `#`/`;` comments; indented lines belong to a nested block (`s3 =` …) and are skipped here.
struct AWSConfigFile {
    var sections: [String: [String: String]] = [:]

    init(text: String) {
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = String(raw)
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard !trimmed.isEmpty, trimmed.first != "#", trimmed.first != ";" else { continue }
            if trimmed.first == "[" {
                let name = trimmed.dropFirst().prefix { $0 != "]" }
                current = String(name).split(separator: " ").joined(separator: " ")
                sections[current!, default: [:]] = sections[current!] ?? [:]
            } else if line.first != " " && line.first != "\t", let current, let equals = line.firstIndex(of: "=") {
                let key = line[..<equals].trimmingWhitespace().lowercased()
                let value = line[line.index(after: equals)...].trimmingWhitespace()
                sections[current]?[key] = value
            }
        }
    }

    /// Reads `path`, or `nil` when there is no such file.
    init?(path: String) {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { return nil }
        self.init(text: String(decoding: data, as: UTF8.self))
    }

    /// The files and profile the environment points at (the AWS CLI's rules).
    struct Location {
        var credentialsPath: String
        var configPath: String
        var profile: String

        init(environment: [String: String]) {
            let home = environment["HOME"] ?? "~"
            credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
            configPath = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
            profile = environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
        }
    }

    /// The settings of `profile` in a config file (`[default]` or `[profile name]`).
    func configProfile(_ profile: String) -> [String: String]? {
        profile == "default" ? sections["default"] ?? sections["profile default"] : sections["profile \(profile)"]
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

/// Credentials of a profile in the shared files: `[name]` in `~/.aws/credentials` first, then
/// `[profile name]` in `~/.aws/config`; the profile from `AWS_PROFILE` (else `default`).
public struct ProfileCredentialProvider: CredentialProvider {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessEnvironment.current) { self.environment = environment }

    public func credentials() async throws -> AWSCredentials {
        let location = AWSConfigFile.Location(environment: environment)
        let source = "profile '\(location.profile)' in \(location.credentialsPath) or \(location.configPath)"
        let candidates = [
            AWSConfigFile(path: location.credentialsPath)?.sections[location.profile],
            AWSConfigFile(path: location.configPath)?.configProfile(location.profile),
        ]
        for settings in candidates.compactMap({ $0 }) {
            let key = settings["aws_access_key_id"], secret = settings["aws_secret_access_key"]
            guard key != nil || secret != nil else { continue }
            guard let key, let secret, !key.isEmpty, !secret.isEmpty else {
                throw CredentialError.invalid(source: source, detail: "aws_access_key_id and aws_secret_access_key must both be set")
            }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: settings["aws_session_token"])
        }
        throw CredentialError.notConfigured(source)
    }
}
