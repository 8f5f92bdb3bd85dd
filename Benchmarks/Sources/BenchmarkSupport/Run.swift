public import Foundation

/// The Benchmarks/ package directory, found from this source file.
public let packageDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The command line every executable takes: `NAME [--quick] [--output PATH] [--latest PATH] [--only A,B]`.
public struct Options: Sendable {
    /// `--quick`: a smaller plan, to try the executable out.
    public var quick: Bool
    /// `--output PATH`, by default `results/NAME.json` in the Benchmarks/ package.
    public var output: String
    /// `--latest PATH`: also append the printed figures to this file (`scripts/bench` passes
    /// `results/latest.json`).
    public var latest: String?
    /// `--only A,B`: run only these workloads (by the names each executable lists); all when empty.
    public var only: Set<String>

    public init(name: String, arguments: [String] = CommandLine.arguments) {
        func value(_ option: String) -> String? {
            arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        quick = arguments.contains("--quick")
        output = value("--output") ?? packageDirectory.appendingPathComponent("results/\(name).json").path
        latest = value("--latest")
        only = Set((value("--only") ?? "").split(separator: ",").map(String.init))
    }

    /// Whether `workload` is to run.
    public func runs(_ workload: String) -> Bool {
        only.isEmpty || only.contains(workload)
    }
}

/// Creates a new folder `NAME-<UUID>` in the temporary directory, runs `body` with its path, and
/// removes the folder and everything in it afterwards, whether `body` throws or not.
public func withTemporaryDirectory<Result>(
    named name: String,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (String) async throws -> Result
) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// The end of a run: prints the load averages taken during it, writes `report` to `path` as
/// pretty-printed JSON with sorted keys (creating the folder if needed), and prints where.
/// `escapingSlashes` keeps JSONEncoder's `\/` for `/` in strings.
public func writeResults(
    _ report: some Encodable, loadAverage: [String], to path: String, escapingSlashes: Bool = false
) throws {
    print("Load average before / after: \(loadAverage.joined(separator: " / "))")
    let encoder = JSONEncoder()
    encoder.outputFormatting = escapingSlashes
        ? [.prettyPrinted, .sortedKeys]
        : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(report)
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: path))
    print("JSON written to \(path)")
}

/// The first three fields of `/proc/loadavg` (1, 5 and 15 minutes), or "?".
public func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// Progress goes to stderr, unbuffered; the results go to stdout.
public func progress(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Removes a database file together with its `-wal`, `-shm` and `-journal` companions.
public func removeDatabase(at path: String) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        try? FileManager.default.removeItem(atPath: path + suffix)
    }
}

/// The root package's commit, read with `git rev-parse` (which changes nothing), or `nil`.
public func rootCommit() -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-C", packageDirectory.deletingLastPathComponent().path, "rev-parse", "--short", "HEAD"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        return nil
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The versions of the packages in `wanted` (identities: `sqlite-nio`, `grdb.swift`) actually
/// resolved, read from the Benchmarks/ package's Package.resolved; empty when it cannot be read.
public func resolvedPackages(_ wanted: Set<String>) -> [String: String] {
    struct Resolved: Decodable {
        struct Pin: Decodable {
            struct State: Decodable { var version: String? }
            var identity: String
            var state: State
        }
        var pins: [Pin]
    }
    let url = packageDirectory.appendingPathComponent("Package.resolved")
    guard let data = try? Data(contentsOf: url),
          let resolved = try? JSONDecoder().decode(Resolved.self, from: data)
    else { return [:] }
    return Dictionary(uniqueKeysWithValues: resolved.pins
        .filter { wanted.contains($0.identity) }
        .map { ($0.identity, $0.state.version ?? "?") })
}
