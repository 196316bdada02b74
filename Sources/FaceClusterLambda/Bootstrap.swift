import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The Lambda `bootstrap` (runtime `provided.al2023`): one executable, three functions. `_HANDLER` picks the
/// handler — `ingest` (S3 events, directly or through SQS), `api` (the HTTP API) or `repair` (scheduled:
/// unfinished photos back on the queue). Everything that can be
/// set up once per container is set up before the first event: configuration, credentials, clients.
@main
enum Bootstrap {
    static func main() async {
        ImageMemory.returnLargeBlocksToSystem()
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        let logger = Logger(label: "facecluster")
        let environment = ProcessInfo.processInfo.environment
        guard let address = environment["AWS_LAMBDA_RUNTIME_API"], !address.isEmpty else {
            logger.critical("AWS_LAMBDA_RUNTIME_API is not set: bootstrap runs inside AWS Lambda (or a Runtime API emulator)")
            exit(1)
        }
        let transport = AsyncHTTPClientTransport()
        let client: RuntimeAPIClient
        do {
            client = try RuntimeAPIClient(address: address, transport: AsyncHTTPClientTransport.longPolling())
        } catch {
            logger.critical("\(error)")
            exit(1)
        }
        // SIGTERM (Lambda's shutdown) or SIGINT (a local run): cancel the event in progress, whose photos are
        // handed back, then leave with 128 + the signal. A second signal leaves at once.
        let stop = StopSignal.install { signal in logger.notice("asked to stop", metadata: ["signal": "\(signal)"]) }
        let loop = Task {
            await RuntimeLoop(client: client, logger: logger).run {
                try await makeHandler(environment: environment, transport: transport, logger: logger)
            }
        }
        let watcher = Task {
            guard await stop.wait() != nil else { return }
            loop.cancel()
        }
        let status = await loop.value
        watcher.cancel()
        exit(stop.exitStatus ?? status)
    }

    /// The handler `_HANDLER` names, with its clients.
    static func makeHandler(environment: [String: String], transport: any HTTPTransport, logger: Logger) async throws -> any LambdaHandler {
        let name = environment["_HANDLER"] ?? ""
        guard ["ingest", "api", "repair"].contains(name) else {
            throw LambdaConfiguration.Problem.invalid("_HANDLER", name, expected: "ingest, api or repair (the function's Handler setting)")
        }
        let configuration = try LambdaConfiguration(environment: environment)
        if name == "repair", configuration.ingestQueueURL == nil { throw LambdaConfiguration.Problem.missing("INGEST_QUEUE_URL") }
        let client = AWSClient(
            configuration: try AWSConfiguration.fromEnvironment(environment),
            credentials: RefreshingCredentialProvider(CredentialProviderChain.standard(environment: environment, transport: transport)),
            transport: transport)
        // Fail set-up, not the first event, when credentials are missing; and open the first TLS connections
        // now (init runs with boosted CPU): an unsigned GET is refused by the service but leaves a pooled
        // keep-alive connection to it behind.
        _ = try await client.credentials.credentials()
        await withTaskGroup(of: Void.self) { group in
            for service in (name == "api" ? ["dynamodb", "s3"] : name == "repair" ? ["dynamodb", "sqs"] : ["dynamodb", "s3", "rekognition"]) {
                let url = client.configuration.endpoint(for: service)
                group.addTask { _ = try? await transport.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(2))) }
            }
        }
        let photos = S3PhotoStore(bucket: configuration.rawBucket, client: client)
        let thumbnails = S3PhotoStore(bucket: configuration.processedBucket, client: client)
        let metadata = DynamoDBMetadataStore(client: client, tablePrefix: configuration.tablePrefix)
        let rekognition = RekognitionClient(client: client)
        let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: configuration.collectionID, s3Buckets: [configuration.rawBucket])
        logger.info("ready", metadata: ["handler": "\(name)", "region": "\(client.configuration.region)", "callPlan": "\(configuration.callPlan)"])
        let detector = RekognitionFaceDetector(rekognition: rekognition, s3Buckets: [configuration.rawBucket])
        switch name {
        case "repair":
            return RepairHandler(
                configuration: configuration, queueURL: configuration.ingestQueueURL ?? "",
                pipeline: IngestionPipeline(
                    photos: photos, thumbnails: thumbnails, detector: detector, index: index, metadata: metadata,
                    cropper: TurboJPEGThumbnailCropper(), configuration: .init(callPlan: configuration.callPlan)),
                sqs: SQSClient(client: client))
        case "ingest":
            return IngestHandler(
                configuration: configuration, photos: photos, thumbnails: thumbnails,
                detector: detector, index: index, metadata: metadata, cropper: TurboJPEGThumbnailCropper())
        default:
            return APIHandler(
                configuration: configuration, metadata: metadata, photos: photos, thumbnails: thumbnails, index: index,
                model: "Amazon Rekognition (the collection's face model; similarities as Rekognition reports them)")
        }
    }
}
