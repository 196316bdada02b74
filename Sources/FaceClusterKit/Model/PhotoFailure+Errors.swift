/// An error that knows how it should be recorded on a photo. Adapters' error types conform, so the pipeline
/// records a precise code and whether a retry can help; anything else is recorded as a retryable
/// `internal_error`.
public protocol PhotoFailureConvertible: Error {
    var photoFailure: PhotoFailure { get }
}

extension PhotoFailure {
    /// How `error` is recorded on a photo.
    public init(_ error: any Error) {
        if let convertible = error as? any PhotoFailureConvertible {
            self = convertible.photoFailure
        } else if error is CancellationError {
            self.init(code: .internalError, message: "processing was cancelled", retryable: true)
        } else {
            self.init(code: .internalError, message: String(describing: error), retryable: true)
        }
    }
}

extension ImageError: PhotoFailureConvertible {
    public var photoFailure: PhotoFailure {
        if self == .changedWhileRead { return PhotoFailure(code: .contentChanged, message: description, retryable: true) }
        let code: FailureCode = switch self {
        case .changedWhileRead: .contentChanged
        case .notAnImage: .notAnImage
        case .truncated, .corrupt: .corruptImage
        case .unsupportedFormat: .unsupportedFormat
        case .tooManyPixels: .imageTooLarge
        case .tooSmall: .imageTooSmall
        case .damaged: .damagedImage
        case .unsupportedProcess: .unsupportedFormat
        case .overBudget: .imageTooLarge
        }
        return PhotoFailure(code: code, message: description, retryable: false)
    }
}

extension PhotoStoreError: PhotoFailureConvertible {
    public var photoFailure: PhotoFailure {
        switch self {
        case .notFound: PhotoFailure(code: .objectNotFound, message: description, retryable: false)
        case .accessDenied: PhotoFailure(code: .accessDenied, message: description, retryable: false)
        case .unavailable: PhotoFailure(code: .serviceUnavailable, message: description, retryable: true)
        case .invalidKey, .invalidExpiry, .invalidContinuationToken:
            PhotoFailure(code: .internalError, message: description, retryable: false)
        }
    }
}

extension FaceServiceError: PhotoFailureConvertible {
    public var photoFailure: PhotoFailure {
        switch self {
        case .invalidImage: PhotoFailure(code: .invalidImage, message: description, retryable: false)
        case .imageTooLarge: PhotoFailure(code: .imageTooLarge, message: description, retryable: false)
        case .invalidRequest: PhotoFailure(code: .imageTooSmall, message: description, retryable: false)
        case .setup: PhotoFailure(code: .setupError, message: description, retryable: true)
        case .unavailable: PhotoFailure(code: .serviceUnavailable, message: description, retryable: true)
        }
    }
}

extension MetadataStoreError: PhotoFailureConvertible {
    public var photoFailure: PhotoFailure {
        switch self {
        case .conditionFailed, .personNotFound, .peopleShareAPhoto:
            PhotoFailure(code: .conflict, message: description, retryable: true)
        case .invalidCursor: PhotoFailure(code: .internalError, message: description, retryable: false)
        case .unavailable: PhotoFailure(code: .serviceUnavailable, message: description, retryable: true)
        }
    }
}
