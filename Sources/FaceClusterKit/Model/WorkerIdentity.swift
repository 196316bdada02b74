#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The process that holds a photo's lease: its host, process id and when it started, so that a later run on
/// the same machine can tell that the holder is gone (it exited, was killed, or the machine rebooted) and take
/// the photo over at once instead of waiting for the lease to expire.
///
/// A process id alone is not enough (ids are reused), so ``processStart`` pins the process: on Linux the boot
/// id (`/proc/sys/kernel/random/boot_id`) and the start time in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`). On other systems it is `nil` and liveness is never decided (the lease's expiry rules).
public struct WorkerIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    public var host: String
    public var processID: Int32
    /// `<boot id>:<start ticks>` on Linux; `nil` where it cannot be read.
    public var processStart: String?

    public init(host: String, processID: Int32, processStart: String?) {
        self.host = host
        self.processID = processID
        self.processStart = processStart
    }

    /// This process.
    public static let current: WorkerIdentity = {
        let pid = getpid()
        return WorkerIdentity(host: hostName(), processID: pid, processStart: startStamp(of: pid))
    }()

    public var description: String { "process \(processID) on \(host)" }

    /// Whether this worker's process has certainly ended: it ran on this machine, and either the machine has
    /// rebooted since or no process with its id and start time exists now. `false` whenever that cannot be
    /// known (another host, no `/proc`): then only the lease's expiry frees the photo. One or two small file
    /// reads; no network.
    public var hasExited: Bool {
        let here = Self.current
        guard host == here.host, let processStart, let ours = here.processStart else { return false }
        let bootID = processStart.split(separator: ":").first.map(String.init)
        guard bootID == ours.split(separator: ":").first.map(String.init) else { return true }
        return Self.startStamp(of: processID) != processStart
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `<boot id>:<start ticks>` of process `pid`, or `nil` when it does not exist or `/proc` is missing, or it
    /// has ended and only waits to be reaped (state `Z` or `X`): a worker killed with SIGKILL under a parent that
    /// does not reap, as a container's first process often is, stays a zombie with its id and start time, and its
    /// photos waited for the lease to expire (found by `kill -9` during `facecluster ingest` here).
    static func startStamp(of pid: Int32) -> String? {
        guard let bootID = readSmallFile("/proc/sys/kernel/random/boot_id")?.trimmingTrailingNewlines(),
              let stat = readSmallFile("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": field 3 is the state; the start time is field 22, so the 20th field after ")".
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return "\(bootID):\(fields[19])"
    }

    private static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while bytes.count < 16_384 {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += buffer.prefix(count)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}

private extension String {
    func trimmingTrailingNewlines() -> String {
        var copy = self
        while copy.last?.isNewline == true { copy.removeLast() }
        return copy
    }
}
