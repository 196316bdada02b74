#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Rekognition's wire shapes (JSON 1.1), named as in the service model. Only the members FaceClusterKit sends
/// or reads; unknown members in responses are ignored. Blobs are base64 (the JSON encoder's default).
public enum Rekognition {
    public struct BoundingBox: Codable, Hashable, Sendable {
        public var Width: Double?
        public var Height: Double?
        public var Left: Double?
        public var Top: Double?
    }

    public struct Landmark: Codable, Hashable, Sendable {
        public var `Type`: String?
        public var X: Double?
        public var Y: Double?
    }

    public struct Pose: Codable, Hashable, Sendable {
        public var Roll: Double?
        public var Yaw: Double?
        public var Pitch: Double?
    }

    public struct ImageQuality: Codable, Hashable, Sendable {
        public var Brightness: Double?
        public var Sharpness: Double?
    }

    public struct FaceDetail: Codable, Hashable, Sendable {
        public var BoundingBox: BoundingBox?
        public var Confidence: Double?
        public var Landmarks: [Landmark]?
        public var Pose: Pose?
        public var Quality: ImageQuality?
    }

    public struct Face: Codable, Hashable, Sendable {
        public var FaceId: String?
        public var BoundingBox: BoundingBox?
        public var ImageId: String?
        public var ExternalImageId: String?
        public var Confidence: Double?
        public var IndexFacesModelVersion: String?
        public var UserId: String?
    }

    public struct S3Object: Codable, Hashable, Sendable {
        public var Bucket: String
        public var Name: String
        public var Version: String?

        public init(Bucket: String, Name: String, Version: String? = nil) {
            self.Bucket = Bucket
            self.Name = Name
            self.Version = Version
        }
    }

    /// Bytes (at most 5 MB) or an S3 object in the same region (at most 15 MB).
    public struct Image: Codable, Hashable, Sendable {
        public var Bytes: Data?
        public var S3Object: S3Object?

        public static func bytes(_ data: Data) -> Image { Image(Bytes: data, S3Object: nil) }
        public static func s3(_ object: S3Object) -> Image { Image(Bytes: nil, S3Object: object) }
    }

    public struct FaceRecord: Codable, Hashable, Sendable {
        public var Face: Face?
        public var FaceDetail: FaceDetail?
    }

    public struct UnindexedFace: Codable, Hashable, Sendable {
        public var Reasons: [String]?
        public var FaceDetail: FaceDetail?
    }

    public struct FaceMatch: Codable, Hashable, Sendable {
        public var Similarity: Double?
        public var Face: Face?
    }

    public struct User: Codable, Hashable, Sendable {
        public var UserId: String?
        public var UserStatus: String?
    }

    public struct UserMatch: Codable, Hashable, Sendable {
        public var Similarity: Double?
        public var User: User?
    }

    // MARK: Operations

    public struct CreateCollectionRequest: Codable, Sendable { public var CollectionId: String }
    public struct CreateCollectionResponse: Codable, Sendable { public var StatusCode: Int?; public var CollectionArn: String?; public var FaceModelVersion: String? }

    public struct CollectionRequest: Codable, Sendable { public var CollectionId: String }
    public struct DescribeCollectionResponse: Codable, Sendable {
        public var FaceCount: Int?
        public var FaceModelVersion: String?
        public var CollectionARN: String?
        public var CreationTimestamp: Double?
        public var UserCount: Int?
    }
    public struct DeleteCollectionResponse: Codable, Sendable { public var StatusCode: Int? }

    public struct DetectFacesRequest: Codable, Sendable { public var Image: Image; public var Attributes: [String]? }
    public struct DetectFacesResponse: Codable, Sendable { public var FaceDetails: [FaceDetail]?; public var OrientationCorrection: String? }

    public struct IndexFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var Image: Image
        public var ExternalImageId: String?
        public var DetectionAttributes: [String]?
        public var MaxFaces: Int?
        public var QualityFilter: String?
    }
    public struct IndexFacesResponse: Codable, Sendable {
        public var FaceRecords: [FaceRecord]?
        public var OrientationCorrection: String?
        public var FaceModelVersion: String?
        public var UnindexedFaces: [UnindexedFace]?
    }

    public struct SearchFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var FaceId: String
        public var MaxFaces: Int?
        public var FaceMatchThreshold: Double?
    }
    public struct SearchFacesResponse: Codable, Sendable { public var SearchedFaceId: String?; public var FaceMatches: [FaceMatch]?; public var FaceModelVersion: String? }

    public struct SearchFacesByImageRequest: Codable, Sendable {
        public var CollectionId: String
        public var Image: Image
        public var MaxFaces: Int?
        public var FaceMatchThreshold: Double?
        public var QualityFilter: String?
    }
    public struct SearchFacesByImageResponse: Codable, Sendable {
        public var SearchedFaceBoundingBox: BoundingBox?
        public var SearchedFaceConfidence: Double?
        public var FaceMatches: [FaceMatch]?
        public var FaceModelVersion: String?
    }

    public struct ListFacesRequest: Codable, Sendable { public var CollectionId: String; public var NextToken: String?; public var MaxResults: Int? }
    public struct ListFacesResponse: Codable, Sendable { public var Faces: [Face]?; public var NextToken: String?; public var FaceModelVersion: String? }

    public struct DeleteFacesRequest: Codable, Sendable { public var CollectionId: String; public var FaceIds: [String] }
    public struct DeleteFacesResponse: Codable, Sendable {
        /// Why a face was not deleted: `ASSOCIATED_TO_AN_EXISTING_USER` (disassociate it first) or `FACE_NOT_FOUND`.
        public struct Unsuccessful: Codable, Sendable { public var FaceId: String?; public var UserId: String?; public var Reasons: [String]? }
        public var DeletedFaces: [String]?
        public var UnsuccessfulFaceDeletions: [Unsuccessful]?
    }

    public struct CreateUserRequest: Codable, Sendable { public var CollectionId: String; public var UserId: String; public var ClientRequestToken: String? }
    public struct DeleteUserRequest: Codable, Sendable { public var CollectionId: String; public var UserId: String; public var ClientRequestToken: String? }
    public struct EmptyResponse: Codable, Sendable {}

    public struct AssociateFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String
        public var FaceIds: [String]
        public var UserMatchThreshold: Double?
        public var ClientRequestToken: String?
    }
    public struct AssociateFacesResponse: Codable, Sendable {
        public struct Associated: Codable, Sendable { public var FaceId: String? }
        public struct Unsuccessful: Codable, Sendable { public var FaceId: String?; public var UserId: String?; public var Confidence: Double?; public var Reasons: [String]? }
        public var AssociatedFaces: [Associated]?
        public var UnsuccessfulFaceAssociations: [Unsuccessful]?
        public var UserStatus: String?
    }

    public struct DisassociateFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String
        public var FaceIds: [String]
        public var ClientRequestToken: String?
    }
    public struct DisassociateFacesResponse: Codable, Sendable {
        public struct Disassociated: Codable, Sendable { public var FaceId: String? }
        public struct Unsuccessful: Codable, Sendable { public var FaceId: String?; public var UserId: String?; public var Reasons: [String]? }
        public var DisassociatedFaces: [Disassociated]?
        public var UnsuccessfulFaceDisassociations: [Unsuccessful]?
        public var UserStatus: String?
    }

    public struct SearchUsersRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String?
        public var FaceId: String?
        public var UserMatchThreshold: Double?
        public var MaxUsers: Int?
    }
    public struct SearchUsersResponse: Codable, Sendable {
        public struct Searched: Codable, Sendable { public var FaceId: String?; public var UserId: String? }
        public var UserMatches: [UserMatch]?
        public var FaceModelVersion: String?
        public var SearchedFace: Searched?
        public var SearchedUser: Searched?
    }

    public struct SearchUsersByImageRequest: Codable, Sendable {
        public var CollectionId: String
        public var Image: Image
        public var UserMatchThreshold: Double?
        public var MaxUsers: Int?
        public var QualityFilter: String?
    }
    public struct SearchUsersByImageResponse: Codable, Sendable {
        public struct SearchedFace: Codable, Sendable { public var FaceDetail: FaceDetail? }
        public struct UnsearchedFace: Codable, Sendable { public var FaceDetails: FaceDetail?; public var Reasons: [String]? }
        public var UserMatches: [UserMatch]?
        public var FaceModelVersion: String?
        public var SearchedFace: SearchedFace?
        public var UnsearchedFaces: [UnsearchedFace]?
    }
}
