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
        let path = shown(displayPath(report.reference))
        if interactive {
            let seconds = max((ContinuousClock.now - started).seconds, 0.001)
            let rate = Double(done) / seconds
            let left = rate > 0 ? Double(total - done) / rate : 0
            let width = 30, filled = width * done / max(total, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            var line = "\r\(bar) \(done)/\(total)  \(String(format: "%.1f", rate)) photos/s  \(Self.duration(left)) left"
            switch report.outcome {
            case .failed, .inProgressElsewhere: line = "\r\u{1B}[K  \(IngestSummary.describe(report.outcome))\(path)\(Self.detail(report))\n" + line
            default: break
            }
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
        case .inProgressElsewhere(let lease): ": in progress elsewhere, \(lease); run again after that"
        case .interrupted: ": stopped before it was done; handed back for the next run"
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

    /// A photo another process is working on: not done, and not failed either.
    struct Busy: Encodable {
        var path: String
        var heldBy: String
        var until: Date
    }

    var photos: Int
    var indexed: Int
    var noFaces: Int
    var unchanged: Int
    var failed: Int
    var inProgressElsewhere: Int
    /// Photos this run gave back because it was asked to stop, and photos it never started.
    var interrupted: Int
    var notStarted: Int
    /// `SIGINT` or `SIGTERM` when the run was stopped.
    var stoppedBy: String?
    var faces: Int
    var newPeople: Int
    var people: Int
    var seconds: Double
    var failures: [Failure]
    var busy: [Busy]
    /// What consolidation changed at the end of the run.
    var regrouped: RegroupSummary?
    /// Photos of this run that are unchanged and had failed before (a re-run does not try them again).
    var failedBefore = 0
    /// Faces in the library seen too few times to be a person yet.
    var unassignedFaces = 0
    /// Files the folders held that are not photos (sidecars, videos), by extension: passed over, not failed.
    var notPhotos: [String: Int] = [:]
    /// Paths given or found that could not be read or copied (each printed as an error when found): not photos of
    /// the library, so not in `status` either.
    var unreadable = 0

    init(
        reports: [IngestionReport], notStarted: Int = 0, stoppedBy signal: Int32? = nil, peopleBefore: Int, people: Int,
        elapsed: Duration
    ) {
        photos = reports.count + notStarted
        indexed = reports.filter { $0.outcome == .indexed }.count
        noFaces = reports.filter { $0.outcome == .noFaces }.count
        unchanged = reports.filter { if case .skipped = $0.outcome { true } else { false } }.count
        failures = reports.compactMap { report in
            guard case .failed(let failure) = report.outcome else { return nil }
            return Failure(path: displayPath(report.reference), code: failure.code.rawValue, message: failure.message, retryable: failure.retryable)
        }
        busy = reports.compactMap { report in
            guard case .inProgressElsewhere(let lease) = report.outcome else { return nil }
            return Busy(path: displayPath(report.reference), heldBy: lease.worker?.description ?? "attempt \(lease.owner)", until: lease.expiresAt)
        }
        failed = failures.count
        inProgressElsewhere = busy.count
        interrupted = reports.filter { $0.outcome == .interrupted }.count
        self.notStarted = notStarted
        stoppedBy = signal.map { $0 == SIGINT ? "SIGINT" : $0 == SIGTERM ? "SIGTERM" : "signal \($0)" }
        faces = reports.map(\.faceCount).reduce(0, +)
        // People founded twice by concurrent workers are merged before the end: count the people added.
        newPeople = max(people - peopleBefore, 0)
        self.people = people
        seconds = elapsed.seconds
    }

    var text: String {
        var lines: [String] = []
        if let stoppedBy {
            lines.append("Stopped (\(stoppedBy)) after \(String(format: "%.1f", seconds)) s: \(photos - interrupted - notStarted) of \(photos) files dealt with, "
                + "\(interrupted) handed back unfinished, \(notStarted) not started. Run the same command again to finish.")
        }
        let counts = "\(indexed) with faces, \(noFaces) without, \(unchanged) unchanged since last time, \(failed) failed"
            + (inProgressElsewhere > 0 ? ", \(inProgressElsewhere) in progress elsewhere." : ".")
        lines += [
            stoppedBy == nil
                ? "Ingested \(photos) file\(photos == 1 ? "" : "s") in \(String(format: "%.1f", seconds)) s: " + counts
                : "So far: " + counts,
            "Found \(faces) face\(faces == 1 ? "" : "s") (\(newPeople) new \(newPeople == 1 ? "person" : "people")); the library now has \(people) \(people == 1 ? "person" : "people").",
        ]
        if !notPhotos.isEmpty { lines.append("Passed over \(Ingest.describe(notPhotos)).") }
        if unreadable > 0 {
            lines.append("\(unreadable) path\(unreadable == 1 ? "" : "s") could not be read (the errors above): not in the library, nor in `facecluster status`.")
        }
        if let regrouped, !regrouped.isEmpty { lines.append(regrouped.text) }
        if unassignedFaces > 0 {
            lines.append("\(unassignedFaces) face\(unassignedFaces == 1 ? " waits" : "s wait") unassigned: seen too few times to be a person yet (`facecluster people --unassigned`).")
        }
        lines += failures.map { "  failed  \(shown($0.path)): \($0.code) — \($0.message)" }
        if failedBefore > 0 {
            lines.append("\(failedBefore) of the unchanged photos failed before and \(failedBefore == 1 ? "is" : "are") not tried again until \(failedBefore == 1 ? "its file changes" : "their files change"): `facecluster status --status failed` says why.")
        }
        lines += busy.map { "  busy    \(shown($0.path)): being processed by \($0.heldBy); run again once it is done (its claim lapses at \($0.until.formatted(.iso8601)) if that process stops or hangs)" }
        if people > 0 && stoppedBy == nil { lines.append("Next: `facecluster people`, then `facecluster photos PERSON`.") }
        return lines.joined(separator: "\n")
    }

    static func describe(_ outcome: IngestionReport.Outcome) -> String {
        switch outcome {
        case .indexed: "ok      "
        case .noFaces: "no face "
        case .skipped: "same    "
        case .failed: "failed  "
        case .inProgressElsewhere: "busy    "
        case .interrupted: "stopped "
        }
    }
}

/// What a consolidation changed, for `ingest` and `recluster`.
struct RegroupSummary: Encodable {
    var faces: Int
    var components: Int
    var merged: Int
    var moved: Int
    var newPeople: Int
    var seconds: Double

    init(_ report: Consolidation.Report) {
        faces = report.faces
        components = report.components
        merged = report.merges.count
        moved = report.moves.count
        newPeople = report.newPeople.count
        seconds = report.duration.seconds
    }

    var isEmpty: Bool { merged == 0 && moved == 0 && newPeople == 0 }

    var text: String {
        isEmpty
            ? "Regrouped \(faces) face\(faces == 1 ? "" : "s") in \(components) group\(components == 1 ? "" : "s"): nothing to change."
            : "Regrouped \(faces) face\(faces == 1 ? "" : "s") in \(components) group\(components == 1 ? "" : "s"): \(merged) "
                + "\(merged == 1 ? "person" : "people") merged into another, \(moved) face\(moved == 1 ? "" : "s") moved, \(newPeople) new "
                + "group\(newPeople == 1 ? "" : "s") split off."
    }
}
