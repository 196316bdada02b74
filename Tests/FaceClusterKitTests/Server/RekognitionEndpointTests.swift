@testable import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

/// `facecluster rekognition-server`: Rekognition's protocol answered by the embedded engine, checked with
/// AWS's own SDK (boto3, botocore's model) and with our adapters.
@Suite("facecluster rekognition-server (real faces)", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
struct RekognitionEndpointTests {
    @Test("boto3 drives every operation; every answer fits botocore's output shapes; faces group as people")
    func boto3() async throws {
        let url = try await LocalRekognitionServer.shared.value
        let people = LabeledSet.directory
        let output = try #require(try await PythonScript.run("boto3_rekognition", arguments: [
            url.absoluteString, people.appendingPathComponent("John_Salley").path, people.appendingPathComponent("John_Savage").path,
        ] + (Moto.openURL.map { [$0.absoluteString] } ?? [])))
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect((report["problems"] as? [String]) == [], "\(report["problems"] ?? "")")
        #expect((report["operations"] as? [String])?.count == 16)
        #expect((report["calls"] as? Int ?? 0) >= 34)
        let facts = try #require(report["facts"] as? [String: Any])
        #expect(facts["faceModelVersion"] as? String == LocalRekognition.faceModelVersion)
        if Moto.openURL != nil { #expect(facts["s3Object"] as? Bool == true, "IndexFaces read an S3Object from moto") }
    }

    @Test("requests must be SigV4-signed with the endpoint's key pair, within 15 minutes, for rekognition")
    func signatures() async throws {
        let good = try await LocalRekognitionServer.client()
        _ = try await good.call("ListCollections", Rekognition.ListCollectionsRequest(), as: Rekognition.ListCollectionsResponse.self)
        let wrongSecret = try await LocalRekognitionServer.client(secret: "not-the-secret")
        await #expect { try await wrongSecret.call("ListCollections", Rekognition.ListCollectionsRequest(), as: Rekognition.ListCollectionsResponse.self) } throws: { error in
            (error as? AWSServiceError)?.code == "InvalidSignatureException"
        }
        // A request signed an hour ago is refused (a captured request cannot be replayed later).
        let late = try await LocalRekognitionServer.client(clock: ManualWallClock(Date().addingTimeInterval(-3600)))
        await #expect { try await late.call("ListCollections", Rekognition.ListCollectionsRequest(), as: Rekognition.ListCollectionsResponse.self) } throws: { error in
            (error as? AWSServiceError)?.code == "InvalidSignatureException"
        }
        // No signature at all, a foreign target, and a body that is not the operation's JSON.
        let url = try await LocalRekognitionServer.shared.value
        let unsigned = try await AsyncHTTPClientTransport().send(FaceClusterKit.HTTPRequest(
            method: "POST", url: url,
            headers: [("X-Amz-Target", "RekognitionService.ListCollections"), ("Content-Type", "application/x-amz-json-1.1")], body: Data("{}".utf8)))
        #expect(unsigned.status == 403 && String(decoding: unsigned.body, as: UTF8.self).contains("MissingAuthenticationTokenException"))
        await #expect { try await good.call("DetectLabels", Rekognition.EmptyResponse(), as: Rekognition.EmptyResponse.self) } throws: { error in
            (error as? AWSServiceError)?.code == "UnknownOperationException"
        }
    }

    @Test("collections in a store folder outlive the process; user associations too")
    func persistence() async throws {
        let folder = Scratch.url("fck-rekognition-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let photo = try Data(contentsOf: LabeledSet.directory.appendingPathComponent("obama/obama.jpg"))
        var faceID = ""
        do {
            let service = try LocalRekognition(directory: folder)
            #expect(await service.handle("CreateCollection", Data(#"{"CollectionId":"family"}"#.utf8)).status == 200)
            let indexed = await service.handle("IndexFaces", try JSONEncoder().encode(Rekognition.IndexFacesRequest(CollectionId: "family", Image: .bytes(photo), ExternalImageId: "obama")))
            #expect(indexed.status == 200)
            let response = try JSONDecoder().decode(Rekognition.IndexFacesResponse.self, from: indexed.body)
            faceID = try #require(response.FaceRecords?.first?.Face?.FaceId)
            #expect(await service.handle("CreateUser", Data(#"{"CollectionId":"family","UserId":"barack"}"#.utf8)).status == 200)
            #expect(await service.handle("AssociateFaces", Data(#"{"CollectionId":"family","UserId":"barack","FaceIds":["\#(faceID)"]}"#.utf8)).status == 200)
        }
        let reopened = try LocalRekognition(directory: folder)
        let listed = await reopened.handle("ListFaces", Data(#"{"CollectionId":"family"}"#.utf8))
        let faces = try JSONDecoder().decode(Rekognition.ListFacesResponse.self, from: listed.body).Faces ?? []
        #expect(faces.map(\.FaceId) == [faceID] && faces.first?.UserId == "barack" && faces.first?.ExternalImageId == "obama")
        let missing = await reopened.handle("DescribeCollection", Data(#"{"CollectionId":"nobody"}"#.utf8))
        #expect(missing.status == 400 && String(decoding: missing.body, as: UTF8.self).contains("ResourceNotFoundException"))
    }
}
