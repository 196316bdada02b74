#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Amazon Rekognition over its JSON 1.1 protocol (`X-Amz-Target: RekognitionService.<Operation>`), for the
/// collection, face and user operations FaceClusterKit uses. Every call is one request (retried under the
/// client's policy); image operations are billed per image (see `Docs/architecture.md`, call plans).
public struct RekognitionClient: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// Sends `operation` with `input` and decodes the answer; AWS errors come back as ``AWSServiceError``.
    public func call<Output: Decodable>(_ operation: String, _ input: some Encodable, as: Output.Type = Output.self) async throws -> Output {
        let response = try await client.send(
            service: "rekognition", method: "POST", path: "/",
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "RekognitionService.\(operation)")],
            body: try JSONEncoder().encode(input))
        return try JSONDecoder().decode(Output.self, from: response.body.isEmpty ? Data("{}".utf8) : response.body)
    }

    public func createCollection(_ request: Rekognition.CreateCollectionRequest) async throws -> Rekognition.CreateCollectionResponse {
        try await call("CreateCollection", request)
    }

    public func describeCollection(_ request: Rekognition.CollectionRequest) async throws -> Rekognition.DescribeCollectionResponse {
        try await call("DescribeCollection", request)
    }

    public func deleteCollection(_ request: Rekognition.CollectionRequest) async throws -> Rekognition.DeleteCollectionResponse {
        try await call("DeleteCollection", request)
    }

    public func detectFaces(_ request: Rekognition.DetectFacesRequest) async throws -> Rekognition.DetectFacesResponse {
        try await call("DetectFaces", request)
    }

    public func indexFaces(_ request: Rekognition.IndexFacesRequest) async throws -> Rekognition.IndexFacesResponse {
        try await call("IndexFaces", request)
    }

    public func searchFaces(_ request: Rekognition.SearchFacesRequest) async throws -> Rekognition.SearchFacesResponse {
        try await call("SearchFaces", request)
    }

    public func searchFacesByImage(_ request: Rekognition.SearchFacesByImageRequest) async throws -> Rekognition.SearchFacesByImageResponse {
        try await call("SearchFacesByImage", request)
    }

    public func listFaces(_ request: Rekognition.ListFacesRequest) async throws -> Rekognition.ListFacesResponse {
        try await call("ListFaces", request)
    }

    public func deleteFaces(_ request: Rekognition.DeleteFacesRequest) async throws -> Rekognition.DeleteFacesResponse {
        try await call("DeleteFaces", request)
    }

    public func createUser(_ request: Rekognition.CreateUserRequest) async throws {
        _ = try await call("CreateUser", request, as: Rekognition.EmptyResponse.self)
    }

    public func associateFaces(_ request: Rekognition.AssociateFacesRequest) async throws -> Rekognition.AssociateFacesResponse {
        try await call("AssociateFaces", request)
    }

    public func disassociateFaces(_ request: Rekognition.DisassociateFacesRequest) async throws -> Rekognition.DisassociateFacesResponse {
        try await call("DisassociateFaces", request)
    }

    public func searchUsers(_ request: Rekognition.SearchUsersRequest) async throws -> Rekognition.SearchUsersResponse {
        try await call("SearchUsers", request)
    }

    public func searchUsersByImage(_ request: Rekognition.SearchUsersByImageRequest) async throws -> Rekognition.SearchUsersByImageResponse {
        try await call("SearchUsersByImage", request)
    }

    public func deleteUser(_ request: Rekognition.DeleteUserRequest) async throws {
        _ = try await call("DeleteUser", request, as: Rekognition.EmptyResponse.self)
    }
}
