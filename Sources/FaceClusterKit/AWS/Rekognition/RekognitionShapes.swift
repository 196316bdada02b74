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

        public init(Width: Double? = nil, Height: Double? = nil, Left: Double? = nil, Top: Double? = nil) {
            self.Width = Width
            self.Height = Height
            self.Left = Left
            self.Top = Top
        }
    }

    public struct Landmark: Codable, Hashable, Sendable {
        public var `Type`: String?
        public var X: Double?
        public var Y: Double?

        public init(`Type`: String? = nil, X: Double? = nil, Y: Double? = nil) {
            self.Type = Type
            self.X = X
            self.Y = Y
        }
    }

    public struct Pose: Codable, Hashable, Sendable {
        public var Roll: Double?
        public var Yaw: Double?
        public var Pitch: Double?

        public init(Roll: Double? = nil, Yaw: Double? = nil, Pitch: Double? = nil) {
            self.Roll = Roll
            self.Yaw = Yaw
            self.Pitch = Pitch
        }
    }

    public struct ImageQuality: Codable, Hashable, Sendable {
        public var Brightness: Double?
        public var Sharpness: Double?

        public init(Brightness: Double? = nil, Sharpness: Double? = nil) {
            self.Brightness = Brightness
            self.Sharpness = Sharpness
        }
    }

    public struct FaceDetail: Codable, Hashable, Sendable {
        public var BoundingBox: BoundingBox?
        public var Confidence: Double?
        public var Landmarks: [Landmark]?
        public var Pose: Pose?
        public var Quality: ImageQuality?

        public init(
            BoundingBox: BoundingBox? = nil, Confidence: Double? = nil, Landmarks: [Landmark]? = nil, Pose: Pose? = nil, Quality: ImageQuality? = nil
        ) {
            self.BoundingBox = BoundingBox
            self.Confidence = Confidence
            self.Landmarks = Landmarks
            self.Pose = Pose
            self.Quality = Quality
        }
    }

    public struct Face: Codable, Hashable, Sendable {
        public var FaceId: String?
        public var BoundingBox: BoundingBox?
        public var ImageId: String?
        public var ExternalImageId: String?
        public var Confidence: Double?
        public var IndexFacesModelVersion: String?
        public var UserId: String?

        public init(
            FaceId: String? = nil, BoundingBox: BoundingBox? = nil, ImageId: String? = nil, ExternalImageId: String? = nil, Confidence: Double? = nil, IndexFacesModelVersion: String? = nil, UserId: String? = nil
        ) {
            self.FaceId = FaceId
            self.BoundingBox = BoundingBox
            self.ImageId = ImageId
            self.ExternalImageId = ExternalImageId
            self.Confidence = Confidence
            self.IndexFacesModelVersion = IndexFacesModelVersion
            self.UserId = UserId
        }
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

        public init(Bytes: Data? = nil, S3Object: S3Object? = nil) { self.Bytes = Bytes; self.S3Object = S3Object }
    }

    public struct FaceRecord: Codable, Hashable, Sendable {
        public var Face: Face?
        public var FaceDetail: FaceDetail?

        public init(Face: Face? = nil, FaceDetail: FaceDetail? = nil) { self.Face = Face; self.FaceDetail = FaceDetail }
    }

    public struct UnindexedFace: Codable, Hashable, Sendable {
        public var Reasons: [String]?
        public var FaceDetail: FaceDetail?

        public init(Reasons: [String]? = nil, FaceDetail: FaceDetail? = nil) {
            self.Reasons = Reasons
            self.FaceDetail = FaceDetail
        }
    }

    public struct FaceMatch: Codable, Hashable, Sendable {
        public var Similarity: Double?
        public var Face: Face?

        public init(Similarity: Double? = nil, Face: Face? = nil) { self.Similarity = Similarity; self.Face = Face }
    }

    public struct User: Codable, Hashable, Sendable {
        public var UserId: String?
        public var UserStatus: String?

        public init(UserId: String? = nil, UserStatus: String? = nil) {
            self.UserId = UserId
            self.UserStatus = UserStatus
        }
    }

    public struct UserMatch: Codable, Hashable, Sendable {
        public var Similarity: Double?
        public var User: User?

        public init(Similarity: Double? = nil, User: User? = nil) { self.Similarity = Similarity; self.User = User }
    }

    // MARK: Operations

    public struct CreateCollectionRequest: Codable, Sendable {
        public var CollectionId: String
        public init(CollectionId: String) { self.CollectionId = CollectionId }
    }
    public struct CreateCollectionResponse: Codable, Sendable {
        public var StatusCode: Int?
        public var CollectionArn: String?
        public var FaceModelVersion: String?
        public init(StatusCode: Int? = nil, CollectionArn: String? = nil, FaceModelVersion: String? = nil) {
            self.StatusCode = StatusCode
            self.CollectionArn = CollectionArn
            self.FaceModelVersion = FaceModelVersion
        }
    }

    public struct CollectionRequest: Codable, Sendable {
        public var CollectionId: String
        public init(CollectionId: String) { self.CollectionId = CollectionId }
    }
    public struct DescribeCollectionResponse: Codable, Sendable {
        public var FaceCount: Int?
        public var FaceModelVersion: String?
        public var CollectionARN: String?
        public var CreationTimestamp: Double?
        public var UserCount: Int?

        public init(
            FaceCount: Int? = nil, FaceModelVersion: String? = nil, CollectionARN: String? = nil, CreationTimestamp: Double? = nil, UserCount: Int? = nil
        ) {
            self.FaceCount = FaceCount
            self.FaceModelVersion = FaceModelVersion
            self.CollectionARN = CollectionARN
            self.CreationTimestamp = CreationTimestamp
            self.UserCount = UserCount
        }
    }
    public struct ListCollectionsRequest: Codable, Sendable {
        public var NextToken: String?
        public var MaxResults: Int?
        public init(NextToken: String? = nil, MaxResults: Int? = nil) { self.NextToken = NextToken; self.MaxResults = MaxResults }
    }
    public struct ListCollectionsResponse: Codable, Sendable {
        public var CollectionIds: [String]?
        public var NextToken: String?
        public var FaceModelVersions: [String]?
        public init(CollectionIds: [String]? = nil, NextToken: String? = nil, FaceModelVersions: [String]? = nil) {
            self.CollectionIds = CollectionIds
            self.NextToken = NextToken
            self.FaceModelVersions = FaceModelVersions
        }
    }

    public struct ListUsersRequest: Codable, Sendable {
        public var CollectionId: String
        public var MaxResults: Int?
        public var NextToken: String?
        public init(CollectionId: String, MaxResults: Int? = nil, NextToken: String? = nil) {
            self.CollectionId = CollectionId
            self.MaxResults = MaxResults
            self.NextToken = NextToken
        }
    }
    public struct ListUsersResponse: Codable, Sendable {
        public var Users: [User]?
        public var NextToken: String?
        public init(Users: [User]? = nil, NextToken: String? = nil) { self.Users = Users; self.NextToken = NextToken }
    }

    public struct DeleteCollectionResponse: Codable, Sendable {
        public var StatusCode: Int?
        public init(StatusCode: Int? = nil) { self.StatusCode = StatusCode }
    }

    public struct DetectFacesRequest: Codable, Sendable {
        public var Image: Image
        public var Attributes: [String]?
        public init(Image: Image, Attributes: [String]? = nil) { self.Image = Image; self.Attributes = Attributes }
    }
    public struct DetectFacesResponse: Codable, Sendable {
        public var FaceDetails: [FaceDetail]?
        public var OrientationCorrection: String?
        public init(FaceDetails: [FaceDetail]? = nil, OrientationCorrection: String? = nil) {
            self.FaceDetails = FaceDetails
            self.OrientationCorrection = OrientationCorrection
        }
    }

    public struct IndexFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var Image: Image
        public var ExternalImageId: String?
        public var DetectionAttributes: [String]?
        public var MaxFaces: Int?
        public var QualityFilter: String?

        public init(
            CollectionId: String, Image: Image, ExternalImageId: String? = nil, DetectionAttributes: [String]? = nil, MaxFaces: Int? = nil, QualityFilter: String? = nil
        ) {
            self.CollectionId = CollectionId
            self.Image = Image
            self.ExternalImageId = ExternalImageId
            self.DetectionAttributes = DetectionAttributes
            self.MaxFaces = MaxFaces
            self.QualityFilter = QualityFilter
        }
    }
    public struct IndexFacesResponse: Codable, Sendable {
        public var FaceRecords: [FaceRecord]?
        public var OrientationCorrection: String?
        public var FaceModelVersion: String?
        public var UnindexedFaces: [UnindexedFace]?

        public init(
            FaceRecords: [FaceRecord]? = nil, OrientationCorrection: String? = nil, FaceModelVersion: String? = nil, UnindexedFaces: [UnindexedFace]? = nil
        ) {
            self.FaceRecords = FaceRecords
            self.OrientationCorrection = OrientationCorrection
            self.FaceModelVersion = FaceModelVersion
            self.UnindexedFaces = UnindexedFaces
        }
    }

    public struct SearchFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var FaceId: String
        public var MaxFaces: Int?
        public var FaceMatchThreshold: Double?

        public init(CollectionId: String, FaceId: String, MaxFaces: Int? = nil, FaceMatchThreshold: Double? = nil) {
            self.CollectionId = CollectionId
            self.FaceId = FaceId
            self.MaxFaces = MaxFaces
            self.FaceMatchThreshold = FaceMatchThreshold
        }
    }
    public struct SearchFacesResponse: Codable, Sendable {
        public var SearchedFaceId: String?
        public var FaceMatches: [FaceMatch]?
        public var FaceModelVersion: String?
        public init(SearchedFaceId: String? = nil, FaceMatches: [FaceMatch]? = nil, FaceModelVersion: String? = nil) {
            self.SearchedFaceId = SearchedFaceId
            self.FaceMatches = FaceMatches
            self.FaceModelVersion = FaceModelVersion
        }
    }

    public struct SearchFacesByImageRequest: Codable, Sendable {
        public var CollectionId: String
        public var Image: Image
        public var MaxFaces: Int?
        public var FaceMatchThreshold: Double?
        public var QualityFilter: String?

        public init(
            CollectionId: String, Image: Image, MaxFaces: Int? = nil, FaceMatchThreshold: Double? = nil, QualityFilter: String? = nil
        ) {
            self.CollectionId = CollectionId
            self.Image = Image
            self.MaxFaces = MaxFaces
            self.FaceMatchThreshold = FaceMatchThreshold
            self.QualityFilter = QualityFilter
        }
    }
    public struct SearchFacesByImageResponse: Codable, Sendable {
        public var SearchedFaceBoundingBox: BoundingBox?
        public var SearchedFaceConfidence: Double?
        public var FaceMatches: [FaceMatch]?
        public var FaceModelVersion: String?

        public init(
            SearchedFaceBoundingBox: BoundingBox? = nil, SearchedFaceConfidence: Double? = nil, FaceMatches: [FaceMatch]? = nil, FaceModelVersion: String? = nil
        ) {
            self.SearchedFaceBoundingBox = SearchedFaceBoundingBox
            self.SearchedFaceConfidence = SearchedFaceConfidence
            self.FaceMatches = FaceMatches
            self.FaceModelVersion = FaceModelVersion
        }
    }

    public struct ListFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var NextToken: String?
        public var MaxResults: Int?
        public init(CollectionId: String, NextToken: String? = nil, MaxResults: Int? = nil) {
            self.CollectionId = CollectionId
            self.NextToken = NextToken
            self.MaxResults = MaxResults
        }
    }
    public struct ListFacesResponse: Codable, Sendable {
        public var Faces: [Face]?
        public var NextToken: String?
        public var FaceModelVersion: String?
        public init(Faces: [Face]? = nil, NextToken: String? = nil, FaceModelVersion: String? = nil) {
            self.Faces = Faces
            self.NextToken = NextToken
            self.FaceModelVersion = FaceModelVersion
        }
    }

    public struct DeleteFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var FaceIds: [String]
        public init(CollectionId: String, FaceIds: [String]) {
            self.CollectionId = CollectionId
            self.FaceIds = FaceIds
        }
    }
    public struct DeleteFacesResponse: Codable, Sendable {
        /// Why a face was not deleted: `ASSOCIATED_TO_AN_EXISTING_USER` (disassociate it first) or `FACE_NOT_FOUND`.
        public struct Unsuccessful: Codable, Sendable {
            public var FaceId: String?
            public var UserId: String?
            public var Reasons: [String]?
            public init(FaceId: String? = nil, UserId: String? = nil, Reasons: [String]? = nil) {
                self.FaceId = FaceId
                self.UserId = UserId
                self.Reasons = Reasons
            }
        }
        public var DeletedFaces: [String]?
        public var UnsuccessfulFaceDeletions: [Unsuccessful]?

        public init(DeletedFaces: [String]? = nil, UnsuccessfulFaceDeletions: [Unsuccessful]? = nil) {
            self.DeletedFaces = DeletedFaces
            self.UnsuccessfulFaceDeletions = UnsuccessfulFaceDeletions
        }
    }

    public struct CreateUserRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String
        public var ClientRequestToken: String?
        public init(CollectionId: String, UserId: String, ClientRequestToken: String? = nil) {
            self.CollectionId = CollectionId
            self.UserId = UserId
            self.ClientRequestToken = ClientRequestToken
        }
    }
    public struct DeleteUserRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String
        public var ClientRequestToken: String?
        public init(CollectionId: String, UserId: String, ClientRequestToken: String? = nil) {
            self.CollectionId = CollectionId
            self.UserId = UserId
            self.ClientRequestToken = ClientRequestToken
        }
    }
    public struct EmptyResponse: Codable, Sendable {
        public init() {}
    }

    public struct AssociateFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String
        public var FaceIds: [String]
        public var UserMatchThreshold: Double?
        public var ClientRequestToken: String?

        public init(
            CollectionId: String, UserId: String, FaceIds: [String], UserMatchThreshold: Double? = nil, ClientRequestToken: String? = nil
        ) {
            self.CollectionId = CollectionId
            self.UserId = UserId
            self.FaceIds = FaceIds
            self.UserMatchThreshold = UserMatchThreshold
            self.ClientRequestToken = ClientRequestToken
        }
    }
    public struct AssociateFacesResponse: Codable, Sendable {
        public struct Associated: Codable, Sendable {
            public var FaceId: String?
            public init(FaceId: String? = nil) { self.FaceId = FaceId }
        }
        public struct Unsuccessful: Codable, Sendable {
            public var FaceId: String?
            public var UserId: String?
            public var Confidence: Double?
            public var Reasons: [String]?
            public init(
                FaceId: String? = nil, UserId: String? = nil, Confidence: Double? = nil, Reasons: [String]? = nil
            ) {
                self.FaceId = FaceId
                self.UserId = UserId
                self.Confidence = Confidence
                self.Reasons = Reasons
            }
        }
        public var AssociatedFaces: [Associated]?
        public var UnsuccessfulFaceAssociations: [Unsuccessful]?
        public var UserStatus: String?

        public init(
            AssociatedFaces: [Associated]? = nil, UnsuccessfulFaceAssociations: [Unsuccessful]? = nil, UserStatus: String? = nil
        ) {
            self.AssociatedFaces = AssociatedFaces
            self.UnsuccessfulFaceAssociations = UnsuccessfulFaceAssociations
            self.UserStatus = UserStatus
        }
    }

    public struct DisassociateFacesRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String
        public var FaceIds: [String]
        public var ClientRequestToken: String?

        public init(CollectionId: String, UserId: String, FaceIds: [String], ClientRequestToken: String? = nil) {
            self.CollectionId = CollectionId
            self.UserId = UserId
            self.FaceIds = FaceIds
            self.ClientRequestToken = ClientRequestToken
        }
    }
    public struct DisassociateFacesResponse: Codable, Sendable {
        public struct Disassociated: Codable, Sendable {
            public var FaceId: String?
            public init(FaceId: String? = nil) { self.FaceId = FaceId }
        }
        public struct Unsuccessful: Codable, Sendable {
            public var FaceId: String?
            public var UserId: String?
            public var Reasons: [String]?
            public init(FaceId: String? = nil, UserId: String? = nil, Reasons: [String]? = nil) {
                self.FaceId = FaceId
                self.UserId = UserId
                self.Reasons = Reasons
            }
        }
        public var DisassociatedFaces: [Disassociated]?
        public var UnsuccessfulFaceDisassociations: [Unsuccessful]?
        public var UserStatus: String?

        public init(
            DisassociatedFaces: [Disassociated]? = nil, UnsuccessfulFaceDisassociations: [Unsuccessful]? = nil, UserStatus: String? = nil
        ) {
            self.DisassociatedFaces = DisassociatedFaces
            self.UnsuccessfulFaceDisassociations = UnsuccessfulFaceDisassociations
            self.UserStatus = UserStatus
        }
    }

    public struct SearchUsersRequest: Codable, Sendable {
        public var CollectionId: String
        public var UserId: String?
        public var FaceId: String?
        public var UserMatchThreshold: Double?
        public var MaxUsers: Int?

        public init(
            CollectionId: String, UserId: String? = nil, FaceId: String? = nil, UserMatchThreshold: Double? = nil, MaxUsers: Int? = nil
        ) {
            self.CollectionId = CollectionId
            self.UserId = UserId
            self.FaceId = FaceId
            self.UserMatchThreshold = UserMatchThreshold
            self.MaxUsers = MaxUsers
        }
    }
    public struct SearchUsersResponse: Codable, Sendable {
        public struct Searched: Codable, Sendable {
            public var FaceId: String?
            public var UserId: String?
            public init(FaceId: String? = nil, UserId: String? = nil) { self.FaceId = FaceId; self.UserId = UserId }
        }
        public var UserMatches: [UserMatch]?
        public var FaceModelVersion: String?
        public var SearchedFace: Searched?
        public var SearchedUser: Searched?

        public init(
            UserMatches: [UserMatch]? = nil, FaceModelVersion: String? = nil, SearchedFace: Searched? = nil, SearchedUser: Searched? = nil
        ) {
            self.UserMatches = UserMatches
            self.FaceModelVersion = FaceModelVersion
            self.SearchedFace = SearchedFace
            self.SearchedUser = SearchedUser
        }
    }

    public struct SearchUsersByImageRequest: Codable, Sendable {
        public var CollectionId: String
        public var Image: Image
        public var UserMatchThreshold: Double?
        public var MaxUsers: Int?
        public var QualityFilter: String?

        public init(
            CollectionId: String, Image: Image, UserMatchThreshold: Double? = nil, MaxUsers: Int? = nil, QualityFilter: String? = nil
        ) {
            self.CollectionId = CollectionId
            self.Image = Image
            self.UserMatchThreshold = UserMatchThreshold
            self.MaxUsers = MaxUsers
            self.QualityFilter = QualityFilter
        }
    }
    public struct SearchUsersByImageResponse: Codable, Sendable {
        public struct SearchedFace: Codable, Sendable {
            public var FaceDetail: FaceDetail?
            public init(FaceDetail: FaceDetail? = nil) { self.FaceDetail = FaceDetail }
        }
        public struct UnsearchedFace: Codable, Sendable {
            public var FaceDetails: FaceDetail?
            public var Reasons: [String]?
            public init(FaceDetails: FaceDetail? = nil, Reasons: [String]? = nil) {
                self.FaceDetails = FaceDetails
                self.Reasons = Reasons
            }
        }
        public var UserMatches: [UserMatch]?
        public var FaceModelVersion: String?
        public var SearchedFace: SearchedFace?
        public var UnsearchedFaces: [UnsearchedFace]?

        public init(
            UserMatches: [UserMatch]? = nil, FaceModelVersion: String? = nil, SearchedFace: SearchedFace? = nil, UnsearchedFaces: [UnsearchedFace]? = nil
        ) {
            self.UserMatches = UserMatches
            self.FaceModelVersion = FaceModelVersion
            self.SearchedFace = SearchedFace
            self.UnsearchedFaces = UnsearchedFaces
        }
    }
}
