import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// Progress on standard error: a bar with rate and time left on a terminal, one line a photo otherwise.
actor Progress {
    let total: Int
    let interactive: Bool
    private var done = 0
    private let started = ContinuousClock.now

    init(total: Int, interactive: Bool) {
        self.total = total
        self.interactive = interactive
    }

    func advance(_ report: IngestionReport) {
        done += 1
        let path = displayPath(report.reference)
        if interactive {
            let seconds = max((ContinuousClock.now - started).seconds, 0.001)
            let rate = Double(done) / seconds
            let left = rate > 0 ? Double(total - done) / rate : 0
            let width = 30, filled = width * done / max(total, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            var line = "\r\(bar) \(done)/\(total)  \(String(format: "%.1f", rate)) photos/s  \(Self.duration(left)) left"
            if case .failed(let failure) = report.outcome { line = "\r\u{1B}[K  failed  \(path): \(failure.code.rawValue) — \(failure.message)\n" + line }
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            FileHandle.standardError.write(Data("\(IngestSummary.describe(report.outcome))  \(path)\(Self.detail(report))\n".utf8))
        }
    }

    func finish() {
        if interactive && total > 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    static func detail(_ report: IngestionReport) -> String {
        switch report.outcome {
        case .indexed: ": \(report.faceCount) face\(report.faceCount == 1 ? "" : "s")"
        case .failed(let failure): ": \(failure.code.rawValue) — \(failure.message)"
        default: ""
        }
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? "\(Int(seconds.rounded())) s" : "\(Int(seconds / 60)) min \(Int(seconds.truncatingRemainder(dividingBy: 60))) s"
    }
}

/// What `facecluster ingest` did.
struct IngestSummary: Encodable {
    struct Failure: Encodable {
        var path: String
        var code: String
        var message: String
        var retryable: Bool
    }

    var photos: Int
    var indexed: Int
    var noFaces: Int
    var unchanged: Int
    var failed: Int
    var faces: Int
    var newPeople: Int
    var people: Int
    var seconds: Double
    var failures: [Failure]

    init(reports: [IngestionReport], peopleBefore: Int, people: Int, elapsed: Duration) {
        photos = reports.count
        indexed = reports.filter { $0.outcome == .indexed }.count
        noFaces = reports.filter { $0.outcome == .noFaces }.count
        unchanged = reports.filter { if case .skipped = $0.outcome { true } else { false } }.count
        failures = reports.compactMap { report in
            guard case .failed(let failure) = report.outcome else { return nil }
            return Failure(path: displayPath(report.reference), code: failure.code.rawValue, message: failure.message, retryable: failure.retryable)
        }
        failed = failures.count
        faces = reports.map(\.faceCount).reduce(0, +)
        // People founded twice by concurrent workers are merged before the end: count the people added.
        newPeople = max(people - peopleBefore, 0)
        self.people = people
        seconds = elapsed.seconds
    }

    var text: String {
        var lines = [
            "Ingested \(photos) file\(photos == 1 ? "" : "s") in \(String(format: "%.1f", seconds)) s: \(indexed) with faces, \(noFaces) without, "
                + "\(unchanged) unchanged since last time, \(failed) failed.",
            "Found \(faces) face\(faces == 1 ? "" : "s") (\(newPeople) new \(newPeople == 1 ? "person" : "people")); the library now has \(people) \(people == 1 ? "person" : "people").",
        ]
        lines += failures.map { "  failed  \($0.path): \($0.code) — \($0.message)" }
        if people > 0 { lines.append("Next: `facecluster people`, then `facecluster photos PERSON`.") }
        return lines.joined(separator: "\n")
    }

    static func describe(_ outcome: IngestionReport.Outcome) -> String {
        switch outcome {
        case .indexed: "ok      "
        case .noFaces: "no face "
        case .skipped: "same    "
        case .failed: "failed  "
        }
    }
}
