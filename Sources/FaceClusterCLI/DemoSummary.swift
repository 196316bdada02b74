import FaceClusterKit

/// What a demo run did, for people and for `--json`.
struct DemoSummary: Encodable {
    var photos: Int
    var indexed: Int
    var noFaces: Int
    var failed: [Failure]
    var faces: Int
    /// People at the end; fewer than were founded when concurrent workers founded one person twice.
    var people: Int
    var duplicatesMerged: Int
    var faceServiceCalls: Int
    var repeatedRun: String
    var seconds: Double
    var plan: String

    struct Failure: Encodable {
        var key: String
        var code: String
        var message: String
    }

    init(
        reports: [IngestionReport], repeated: [IngestionReport], people: Int, faceServiceCalls: Int, extraCallsOnRepeat: Int,
        elapsed: Duration, plan: CallPlan
    ) {
        photos = reports.count
        indexed = reports.filter { $0.outcome == .indexed }.count
        noFaces = reports.filter { $0.outcome == .noFaces }.count
        failed = reports.compactMap { report in
            guard case .failed(let failure) = report.outcome else { return nil }
            return Failure(key: report.reference.key, code: failure.code.rawValue, message: failure.message)
        }
        faces = reports.map(\.faceCount).reduce(0, +)
        self.people = people
        duplicatesMerged = reports.map(\.newPeople.count).reduce(0, +) - people
        self.faceServiceCalls = faceServiceCalls
        let unchanged = repeated.allSatisfy { $0.outcome == .skipped(.alreadyProcessed) }
        repeatedRun = unchanged && extraCallsOnRepeat == 0
            ? "every photo skipped, 0 face-service calls" : "changed something (\(extraCallsOnRepeat) calls)"
        seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        self.plan = plan.rawValue
    }

    var text: String {
        var lines = [
            "Ingested \(photos) photos in \(String(format: "%.2f", seconds)) s (\(plan) call plan): \(indexed) with faces, \(noFaces) without, \(failed.count) failed.",
            "Found \(faces) faces of \(people) people\(duplicatesMerged > 0 ? " (\(duplicatesMerged) founded twice by concurrent workers, then merged)" : ""); \(faceServiceCalls) face-service calls (\(String(format: "%.2f", Double(faceServiceCalls) / Double(max(photos, 1)))) a photo).",
            "Ingesting everything again: \(repeatedRun).",
        ]
        for failure in failed { lines.append("  failed  \(failure.key): \(failure.code) — \(failure.message)") }
        return lines.joined(separator: "\n")
    }
}

/// A person as the demo prints them.
struct DemoPerson: Encodable {
    var id: String
    var photoCount: Int
    var faceCount: Int
    var photos: [String]
    /// The generated person this one is (the demo knows the truth).
    var identity: String
}

struct DemoOutput: Encodable {
    var summary: DemoSummary
    var people: [DemoPerson]
}
