import FaceClusterKit

#if canImport(Glibc)
import Glibc
#endif

/// The Lambda `bootstrap`. The Runtime API loop and the ingestion and API handlers arrive with the
/// serverless-backend work; until then this executable only states that and exits with an error, so a
/// deployment of it fails loudly instead of silently doing nothing.
@main
enum Bootstrap {
    static func main() {
        let message = "FaceClusterLambda: the Lambda runtime is not implemented yet (see the open issue for the serverless backend)\n"
        #if canImport(Glibc)
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(1)
        #else
        print(message)
        #endif
    }
}
