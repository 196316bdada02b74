// swift-tools-version: 6.0
import PackageDescription

/// dlib's HOG detector (compiled here from its headers) uses 8-wide AVX vectors when built for them, as the
/// dlib of PyPI's dlib-bin wheel is (`USE_AVX_INSTRUCTIONS`): 11 % less time ingesting 36 photos of 0.2–3.4 MP.
/// Every x86-64 CPU since 2011 has AVX; other architectures keep their compiler's default.
#if arch(x86_64)
let dlibSIMDFlags = ["-mavx"]
#else
let dlibSIMDFlags: [String] = []
#endif

let package = Package(
    name: "FaceClusterKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FaceClusterKit", targets: ["FaceClusterKit"]),
        .library(name: "FaceClusterLocal", targets: ["FaceClusterLocal"]),
        .executable(name: "facecluster", targets: ["FaceClusterCLI"]),
        .executable(name: "bootstrap", targets: ["FaceClusterLambda"]),
        .executable(name: "call-plan-benchmark", targets: ["CallPlanBenchmark"]),
        .executable(name: "lambda-benchmark", targets: ["LambdaBenchmark"]),
        .executable(name: "responsiveness-benchmark", targets: ["ResponsivenessBenchmark"]),
        .executable(name: "consolidation-benchmark", targets: ["ConsolidationBenchmark"]),
        .executable(name: "serve-benchmark", targets: ["ServeBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CTurboJPEG",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CWebP", providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "CHEIF", providers: [.apt(["libheif-dev", "libde265-dev"])]),
        .target(name: "CMappedFile"),
        .target(
            name: "CJPEGRegion",
            dependencies: ["CTurboJPEG", "CMappedFile"]
        ),
        .target(
            name: "FaceClusterKit",
            dependencies: [
                "CTurboJPEG", "CJPEGRegion", "CMappedFile", "CPNG", "CWebP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The embedded local default, kept apart so the Lambda never links dlib or SQLite: a C API over dlib
        // (compiled -O2 even in debug builds: dlib at -O0 is ~100× slower) and the local adapters.
        .target(
            name: "CDlibFace",
            cxxSettings: [.unsafeFlags(["-O2", "-std=c++17", "-Wno-deprecated-declarations"] + dlibSIMDFlags)],
            linkerSettings: [.linkedLibrary("dlib"), .linkedLibrary(":libblas.so.3"), .linkedLibrary(":liblapack.so.3")]
        ),
        .target(
            name: "FaceClusterLocal",
            dependencies: [
                "FaceClusterKit", "CDlibFace", "CHEIF",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // `facecluster serve`: the API over Hummingbird, signed file URLs, background ingestion, the web gallery's files.
        .target(
            name: "FaceClusterServer",
            dependencies: [
                "FaceClusterKit", "FaceClusterLocal",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MultipartKit", package: "multipart-kit"),
            ],
            resources: [.copy("Web")]
        ),
        .target(name: "CLambdaCompat", linkerSettings: [.linkedLibrary("m"), .linkedLibrary("stdc++")]),
        .executableTarget(
            name: "FaceClusterLambda",
            dependencies: ["FaceClusterKit", "CLambdaCompat", .product(name: "Logging", package: "swift-log")],
            // Keep the binary within provided.al2023's glibc 2.34 (see Sources/CLambdaCompat).
            linkerSettings: [.unsafeFlags([
                "-Xlinker", "--wrap=hypotf", "-Xlinker", "--wrap=hypot",
                "-Xlinker", "--wrap=_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE",
            ], .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "FaceClusterCLI",
            dependencies: [
                "FaceClusterKit", "FaceClusterLocal", "FaceClusterServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Test doubles of AWS services (Hummingbird stays out of the library), for the tests and benchmarks.
        .target(
            name: "FaceClusterDoubles",
            dependencies: [
                "FaceClusterKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/Doubles"
        ),
        .executableTarget(
            name: "CallPlanBenchmark",
            dependencies: ["FaceClusterKit", "FaceClusterDoubles"],
            path: "Benchmarks/CallPlans"
        ),
        .executableTarget(
            name: "LambdaBenchmark",
            dependencies: ["FaceClusterKit", "FaceClusterDoubles"],
            path: "Benchmarks/Lambda"
        ),
        .executableTarget(
            name: "ConsolidationBenchmark",
            dependencies: ["FaceClusterKit"],
            path: "Benchmarks/Consolidation"
        ),
        .executableTarget(
            name: "ServeBenchmark",
            dependencies: ["FaceClusterKit", "FaceClusterLocal"],
            path: "Benchmarks/Serve"
        ),
        .executableTarget(
            name: "ResponsivenessBenchmark",
            dependencies: ["FaceClusterKit", "FaceClusterLocal", "FaceClusterDoubles", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/Responsiveness"
        ),
        .testTarget(
            name: "FaceClusterKitTests",
            dependencies: [
                "FaceClusterKit", "FaceClusterDoubles", "FaceClusterLocal", "FaceClusterServer", "FaceClusterCLI", "FaceClusterLambda", "CTurboJPEG", "CHEIF",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
