import CDlibFace
import FaceClusterKit
import Foundation

/// The tiles of a big JPEG's finest tiled pass (``TiledDetection``), scanned while the photo is still being
/// decoded and then beside the first pass.
///
/// Entropy-decoding a big JPEG is one thread's work, then the first pass scans the reduced image on one thread,
/// and the tiles waited for both while the other cores had nothing to do: a 181 MB CMYK 100 MP photo spent
/// 2.6 s of its 10–12 s `ingest` that way (8.6–8.8 s now, against 9.5–9.7 s: Docs/formats.md). Rows arrive from the top, so a tile can be scanned as soon as the
/// decode has passed its last row. As a ``DecodeFollower`` this hands such tiles to ``BlockingWork`` as rows
/// arrive, at most one queued per thread beyond the decoding one, and goes on once the decode is done, until
/// ``finish()``: the tiled pass then scans the tiles not begun. A tile's faces are the same either way: the same
/// detector over the same final pixels.
final class EarlyTileScan: DecodeFollower, @unchecked Sendable {
    /// The pass scanned early, and its tiles in the decoded image (``TiledDetection/tiles(for:width:height:actualScale:)``).
    let pass: TiledDetection.Pass
    let tiles: [(x: Int, y: Int, width: Int, height: Int)]
    private let width: Int
    /// Tile numbers in the order their last rows are decoded.
    private let order: [Int]
    private let spare = max(1, BlockingWork.threadCount - 1)
    /// Queues a scan on another thread (``BlockingWork/start(_:)``; a test's runs it at once).
    private let start: @Sendable (@escaping @Sendable () -> Void) -> Void

    private struct State {
        var pixels: UInt = 0
        var rows = 0
        var handedOut = 0
        var queued = 0
        var scanning = 0
        var stopped = false
        var found: [Int: [dlib_face]] = [:]
        /// The decoded image, held so the pixels outlive every scan (``adopt(_:)``).
        var image: UprightImage?
    }
    /// Guards `state`; signalled when a scan ends.
    private let condition = NSCondition()
    private var state = State()

    /// For the decode of `photo` at `maximumPixels` (the plan's ``TiledDetection/decodePixels(width:height:)``),
    /// when the plan's finest pass scans that image as decoded (no halving); `nil` for a photo that is not a JPEG.
    init?(
        photo: PhotoPixels, plan: TiledDetection, maximumPixels: Int,
        start: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void = BlockingWork.start
    ) throws {
        guard let decoded = try photo.jpegScale(maximumPixels: maximumPixels),
              let pass = plan.passes(actualScale: decoded.scale).first, pass.halvings == 0
        else { return nil }
        let tiles = plan.tiles(for: pass, width: decoded.width, height: decoded.height, actualScale: decoded.scale)
        self.pass = pass
        self.tiles = tiles
        self.width = decoded.width
        self.order = tiles.indices.sorted { tiles[$0].y + tiles[$0].height < tiles[$1].y + tiles[$1].height }
        self.start = start
    }

    func rowsReady(_ pixels: UnsafePointer<UInt8>, rows: Int) {
        handOut { state in
            state.pixels = UInt(bitPattern: pixels)
            state.rows = rows
        }
    }

    func decodeEnded(keepsPixels: Bool) {
        guard keepsPixels else { return stop() }
        handOut { state in state.rows = .max }
    }

    /// Holds the decode's image, whose storage the scans read, until ``finish()``.
    func adopt(_ image: UprightImage) {
        condition.lock()
        if !state.stopped { state.image = image }
        condition.unlock()
    }

    /// Stops handing out tiles, waits for the scans under way, and returns the faces of the tiles scanned, by tile
    /// number (the others are the tiled pass's to scan). Lets the image go.
    @discardableResult
    func finish() -> [Int: [dlib_face]] {
        stop()
        condition.lock()
        defer { condition.unlock() }
        state.image = nil
        return state.found
    }

    private func stop() {
        condition.lock()
        state.stopped = true
        while state.scanning > 0 { condition.wait() }
        condition.unlock()
    }

    /// Updates the state with `change`, then queues the tiles whose rows are all decoded, as many as there are
    /// spare threads.
    private func handOut(_ change: (inout State) -> Void = { _ in }) {
        var ready: [(Int, UInt)] = []
        condition.lock()
        change(&state)
        condition.broadcast()  // a scan may have ended
        while !state.stopped, state.queued < spare, state.handedOut < order.count {
            let tile = tiles[order[state.handedOut]]
            guard tile.y + tile.height <= state.rows else { break }
            ready.append((order[state.handedOut], state.pixels))
            state.handedOut += 1
            state.queued += 1
        }
        condition.unlock()
        for (number, pixels) in ready { start { self.scan(number, pixels) } }
    }

    /// Scans tile `number` of the pixels at `address`, unless the scan was stopped meanwhile, then hands out the next.
    private func scan(_ number: Int, _ address: UInt) {
        condition.lock()
        state.queued -= 1
        guard !state.stopped, let pixels = UnsafePointer<UInt8>(bitPattern: address) else {
            condition.unlock()
            return
        }
        state.scanning += 1
        condition.unlock()
        // A failure leaves the tile to the tiled pass, which reports it.
        let faces = try? HOGDetectors.shared.withDetector {
            try $0.detect(pixels: pixels, width: width, tile: tiles[number], upsample: pass.upsample, levels: pass.levels)
        }
        handOut { state in
            if let faces { state.found[number] = faces }
            state.scanning -= 1
        }
    }
}
