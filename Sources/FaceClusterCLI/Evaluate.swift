import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster evaluate LABELED_DIR`: how well the people found match the truth.
struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure grouping quality on a labeled set (one folder per person).",
        discussion: """
            Ingests the photos of LABELED_DIR into a fresh, temporary library (consolidation included) and compares \
            the people found with the folders: BCubed precision, recall and F1, pairwise scores, the people that \
            mix folders (wrong merges) and the folders split over several people. Only the largest face of each \
            photo is scored, with its folder's label (other faces are grouped but not scored; --all-faces scores \
            every face). A photo where no face was found counts as a face left alone.

            --sweep groups the set at every distance threshold from 0.40 to 0.70 (dlib's scale; the default is \
            \(String(format: "%.2f", LocalFaceEngine.groupMatchDistance)) where a group is involved, \
            \(String(format: "%.2f", LocalFaceEngine.matchDistance)) for two single faces; the sweep keeps that gap) \
            so you can calibrate; --shuffle N groups it in N \
            arrival orders; --subsample K --trials N keeps K random photos per person (or K-L) in N trials. Both \
            report the worst and the median BCubed F1 (of an even number of trials, the mean of the two middle \
            ones), how many trials were grouped exactly as labeled and how many scored 0.98 or more, the trials \
            with a wrong merge and each split. Faces are analysed once and reused, so repeated \
            groupings are fast.
            """)

    @Argument(help: "A folder with one sub-folder of photos per person.")
    var labeled: String

    @Option(parsing: .unconditional, help: "Photos processed at once (default: the number of cores; 1 with --shuffle, so order is exact).")
    var jobs: Int?

    @Flag(help: "Score every face found with its photo's folder, not just the largest one.")
    var allFaces = false

    @Option(parsing: .unconditional, help: "The join threshold where a group is involved, as a dlib distance (default: the engine's calibrated one, 0.57).")
    var threshold: Double?

    @Option(parsing: .unconditional, help: "The threshold for two single faces as a dlib distance (default: the library's gap below --threshold, 0.02).")
    var singleThreshold: Double?

    @Flag(help: "Precision, recall and F1 for thresholds 0.40 to 0.70.")
    var sweep = false

    @Option(parsing: .unconditional, help: "Group the set in N random arrival orders.")
    var shuffle: Int?

    @Option(help: "Keep K random photos per person (K or K-L) …")
    var subsample: String?

    @Option(parsing: .unconditional, help: "… in N trials (with --subsample).")
    var trials = 50

    @Option(parsing: .unconditional, help: "Seed of the random orders and subsets: each seed draws trials of its own (--seed 2 shares none with --seed 1).")
    var seed: UInt64 = 1

    @Flag(help: "Print JSON.")
    var json = false

    /// Trial `number`'s seed: `seed` × 2³² + `number`, so that two seeds draw no trial in common (seed + number
    /// gave seeds 1 and 2 the same 49 of 50 subsets).
    private func trialSeed(_ number: Int) -> UInt64 { seed &<< 32 | UInt64(number) }

    func validate() throws {
        if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs must be between 1 and 64") }
        if let threshold, !(0.2...1.0).contains(threshold) { throw ValidationError("--threshold is a distance between 0.2 and 1.0") }
        if let singleThreshold, !(0.2...1.0).contains(singleThreshold) { throw ValidationError("--single-threshold is a distance between 0.2 and 1.0") }
        if let shuffle, !(1...1000).contains(shuffle) { throw ValidationError("--shuffle takes 1 to 1000 orders") }
        if subsample != nil, Self.range(subsample!) == nil { throw ValidationError("--subsample takes K or K-L photos per person (e.g. 2-3)") }
        guard (1...10_000).contains(trials) else { throw ValidationError("--trials must be between 1 and 10000") }
        guard [sweep, shuffle != nil, subsample != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("--sweep, --shuffle and --subsample are separate measurements: give one of them")
        }
    }

    static func range(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard (1...2).contains(parts.count), let low = parts.first, let high = parts.last, low >= 1, low <= high else { return nil }
        return low...high
    }

    /// The library's default policy with the join threshold at `distance` and the single-face one at `single`
    /// (without it, the library's gap below `distance`: 0.02).
    static func policy(distance: Double?, single: Double? = nil) -> GroupingPolicy {
        var policy = LocalLibrary.pipelineDefaults.policy
        if let distance { policy.faceMatchThreshold = LocalFaceEngine.similarity(distance: distance) }
        if let single { policy.singleFaceMargin = max(0, LocalFaceEngine.similarity(distance: single) - policy.faceMatchThreshold) }
        return policy
    }

    func run() async throws {
        let set: LabeledPhotos
        do {
            set = try LabeledPhotos(folder: URL(fileURLWithPath: labeled))
        } catch {
            throw CLIFailure(message: "error: cannot read \(labeled)")
        }
        guard !set.photos.isEmpty else { throw CLIFailure(message: "error: no photos in sub-folders of \(labeled)") }
        do {
            try FaceModels().check()
        } catch let error as LocalEngineError {
            throw CLIFailure(message: "error: \(error.description)")
        }
        let evaluation = GroupingEvaluation(allFaces: allFaces)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if sweep { return try await runSweep(set, evaluation, jobs: jobs ?? cores) }
        if let shuffle { return try await runTrials((0..<shuffle).map { set.shuffled(seed: trialSeed($0)) }, evaluation, jobs: jobs ?? 1, kind: "arrival orders") }
        if let text = subsample, let range = Self.range(text) {
            return try await runTrials((0..<trials).map { set.subsample(range, seed: trialSeed($0)) }, evaluation, jobs: jobs ?? cores, kind: "subsets of \(text) photos per person")
        }
        let result = try await evaluation.run(set, policy: Self.policy(distance: threshold, single: singleThreshold), jobs: jobs ?? cores)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peak = Double(usage.ru_maxrss) / 1024
        if json { return try printJSON(Single(result: result, photosPerSecond: Double(result.photos) / max(result.seconds, 0.001), peakResidentMegabytes: peak)) }
        print("\(result.photos) photos of \(result.identities.count) people: \(result.faces) faces found (\(result.scoredFaces) scored: \(allFaces ? "every face" : "the largest of each photo")), \(result.photosWithoutFace) photos without one, \(result.failed) failed")
        let unlisted = result.peopleFound - result.listedPeople
        print("People found: \(result.listedPeople)" + (unlisted == 0 ? "" : ", and \(plural(unlisted, "group")) of faces seen too few times to be a person (unassigned; scored as groups)"))
        for identity in result.identities {
            let split = identity.people.count == 1 ? "one person" : "split over \(identity.people.count) people \(identity.people)"
            print("  \(shown(identity.name).padding(toLength: 24, withPad: " ", startingAt: 0)) \(plural(identity.photos, "photo")), \(plural(identity.faces, "face")) → \(split)")
        }
        if result.mixed.isEmpty {
            print("Wrong merges: none (no person found mixes two folders)")
        } else {
            print("Wrong merges: \(result.mixed.count)")
            for people in result.mixed { print("  one person holds " + people.sorted { $0.key < $1.key }.map { "\($0.value) of \(shown($0.key))" }.joined(separator: " + ")) }
        }
        if !result.split.isEmpty { print("Split: " + result.split.map(shown).joined(separator: ", ")) }
        let score = result.score
        print(String(format: "Pairwise  precision %.4f  recall %.4f  F1 %.4f", score.pairwisePrecision, score.pairwiseRecall, score.pairwiseF1))
        print(String(format: "BCubed    precision %.4f  recall %.4f  F1 %.4f", score.bcubedPrecision, score.bcubedRecall, score.bcubedF1))
        print(String(format: "Ingestion: %.2f s, %.1f photos/s (%d at once); peak resident memory %.0f MB", result.seconds, Double(result.photos) / max(result.seconds, 0.001), jobs ?? cores, peak))
    }

    struct Single: Encodable {
        var result: GroupingEvaluation.Result
        var photosPerSecond: Double
        var peakResidentMegabytes: Double
    }

    struct SweepRow: Encodable {
        var distance: Double
        var similarity: Double
        var precision: Double
        var recall: Double
        var f1: Double
        var wrongMerges: Int
        var peopleFound: Int
    }

    private func runSweep(_ set: LabeledPhotos, _ evaluation: GroupingEvaluation, jobs: Int) async throws {
        var rows: [SweepRow] = []
        for step in 0...30 {
            let distance = 0.40 + Double(step) / 100
            let result = try await evaluation.run(set, policy: Self.policy(distance: distance), jobs: jobs)
            rows.append(SweepRow(
                distance: distance, similarity: LocalFaceEngine.similarity(distance: distance), precision: result.score.bcubedPrecision,
                recall: result.score.bcubedRecall, f1: result.score.bcubedF1, wrongMerges: result.wrongMerges, peopleFound: result.peopleFound))
        }
        if json { return try printJSON(rows) }
        let gap = LocalFaceEngine.groupMatchDistance - LocalFaceEngine.matchDistance
        print(String(format: "Thresholds where a group is involved; two single faces join %.2f closer.", gap))
        print("distance  similarity  BCubed precision  recall   F1      wrong merges  people")
        for row in rows {
            let mark = abs(row.distance - LocalFaceEngine.groupMatchDistance) < 0.005 ? "  ← default" : ""
            print(String(format: "  %.2f      %6.2f        %.4f        %.4f   %.4f   %3d           %3d%@", row.distance, row.similarity, row.precision, row.recall, row.f1, row.wrongMerges, row.peopleFound, mark))
        }
    }

    struct TrialSummary: Encodable {
        var kind: String
        var trials: Int
        var trialsWithWrongMerges: Int
        var worstF1: Double
        var medianF1: Double
        var distinctPartitions: Int
        /// Trials grouped exactly as labeled (F1 1), and at 0.98 or more: the distribution behind the median,
        /// which with about half the trials perfect falls on either side of 0.98 with the draw.
        var perfectTrials: Int
        var trialsAtLeast098: Int
        var f1: [Double]
    }

    private func runTrials(_ sets: [LabeledPhotos], _ evaluation: GroupingEvaluation, jobs: Int, kind: String) async throws {
        var results: [GroupingEvaluation.Result] = []
        for set in sets { results.append(try await evaluation.run(set, policy: Self.policy(distance: threshold, single: singleThreshold), jobs: jobs)) }
        let f1 = results.map(\.score.bcubedF1)
        let summary = TrialSummary(
            kind: kind, trials: results.count, trialsWithWrongMerges: results.filter { $0.wrongMerges > 0 }.count,
            worstF1: f1.min() ?? 0, medianF1: ClusteringScore.median(f1) ?? 0,
            distinctPartitions: Set(results.map(\.partition)).count,
            perfectTrials: f1.filter { $0 >= 1 - 1e-12 }.count, trialsAtLeast098: f1.filter { $0 >= 0.98 }.count, f1: f1)
        if json { return try printJSON(summary) }
        print("\(summary.trials) \(kind): BCubed F1 worst \(String(format: "%.4f", summary.worstF1)), median \(String(format: "%.4f", summary.medianF1)); "
            + "\(summary.trialsWithWrongMerges) with a wrong merge; \(summary.distinctPartitions) distinct grouping\(summary.distinctPartitions == 1 ? "" : "s")")
        print("  \(summary.perfectTrials) of \(summary.trials) grouped exactly as labeled, \(summary.trialsAtLeast098) at F1 0.98 or more")
        for (number, result) in results.enumerated() where result.wrongMerges > 0 {
            for people in result.mixed {
                print("  trial \(number + 1): one person holds " + people.sorted { $0.key < $1.key }.map { "\($0.value) of \($0.key)" }.joined(separator: " + "))
            }
        }
        for (number, result) in results.enumerated() {
            for identity in result.identities where identity.people.count > 1 {
                print("  trial \(number + 1): \(identity.name) split " + identity.people.map(String.init).joined(separator: " + "))
            }
        }
    }
}
