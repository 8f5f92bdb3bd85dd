import BenchmarkSupport
import Foundation
import SQLiteNIO
#if canImport(Glibc)
import Glibc
#endif

/// `sqlite-layers [--quick] [--output PATH]`: measures SQLite access layers (see README.md).
@main
struct Entry {
    static func main() async throws {
        let options = Options(name: "sqlite-layers")
        let plan = options.quick ? Plan.quick() : Plan()
        let report = try await withTemporaryDirectory(named: "sqlite-layers") { directory in
            try await run(plan: plan, directory: directory)
        }
        print(report.table())
        try writeResults(report, loadAverage: report.loadAverage, to: options.output, escapingSlashes: true)
    }

    static let layers: [any Layer] = [
        SQLiteNIOLayer(),
        SQLKitLayer(),
        GRDBLayer(kind: .queue, synchronous: false),
        GRDBLayer(kind: .pool, synchronous: false),
        GRDBLayer(kind: .queue, synchronous: false, plainPragmas: true),
        GRDBLayer(kind: .queue, synchronous: true),
        GRDBLayer(kind: .pool, synchronous: true),
    ]

    static func run(plan: Plan, directory: String) async throws -> Report {
        var report = Report(
            generatedAt: ISO8601DateFormatter().string(from: Date()),
            cores: ProcessInfo.processInfo.activeProcessorCount,
            packages: resolvedPackages(["sqlite-nio", "sqlite-kit", "sql-kit", "grdb.swift", "swift-nio"]),
            sqliteVersions: [
                "sqlite-nio and sqlite-kit (amalgamation vendored by sqlite-nio)":
                    SQLiteConnection.libraryVersionString(),
                "GRDB (system libsqlite3)": try Fixture.sqliteVersion(),
            ],
            plan: plan)
        report.loadAverage.append(loadAverage())
        print("SQLite access layers: \(report.cores) cores, load average \(report.loadAverage[0])")
        for (package, version) in report.packages.sorted(by: { $0.key < $1.key }) {
            print("  \(package) \(version)")
        }
        for (library, version) in report.sqliteVersions.sorted(by: { $0.key < $1.key }) {
            print("  SQLite \(version): \(library)")
        }

        // Seed one file; every layer works on copies of it in a folder of its own.
        let template = directory + "/template.sqlite"
        try Fixture.seed(path: template)
        let folders = try layers.indices.map { number in
            let folder = directory + "/layer-\(number)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in 0..<plan.coldOpenFiles {
                try FileManager.default.copyItem(atPath: template, toPath: folder + "/tenant-\(file).sqlite")
            }
            try FileManager.default.copyItem(atPath: template, toPath: folder + "/hot.sqlite")
            return folder
        }
        sync()  // flush the copies, so that writeback does not run during the timed loops
        let ids = randomTaskIDs(count: 4_096)

        /// Runs `body` for every layer, round by round, in a rotating layer order.
        func rounds(
            _ workload: Workload, iterations: Int, warmup: Int,
            _ body: (Int, Int) async throws -> Void  // (layer number, call index)
        ) async throws -> [Series] {
            progress("· \(workload.rawValue)")
            let series = layers.map { _ in Series() }
            for round in 0..<plan.rounds {
                let slice = iterations / plan.rounds + (round < iterations % plan.rounds ? 1 : 0)
                for offset in layers.indices {
                    let number = (round + offset) % layers.count
                    try await series[number].run(iterations: slice, warmup: warmup) { try await body(number, $0) }
                }
                progress(".")
            }
            progress("\n")
            return series
        }

        let coldOpen = try await rounds(.coldOpen, iterations: plan.coldOpen, warmup: plan.coldOpenWarmup) {
            let path = folders[$0] + "/tenant-\($1 % plan.coldOpenFiles).sqlite"
            try await layers[$0].coldOpen(path: path, taskID: ids[$1 % ids.count])
        }
        for (number, series) in coldOpen.enumerated() {
            var measurement = Measurement(layer: layers[number].name, workload: .coldOpen, series: series)
            measurement.walFilesLeftAfterClose = walFilesLeft(
                (0..<plan.coldOpenFiles).map { folders[number] + "/tenant-\($0).sqlite" })
            report.results.append(measurement)
        }

        let createAndMigrate = try await rounds(
            .createAndMigrate, iterations: plan.createAndMigrate, warmup: plan.createAndMigrateWarmup
        ) {
            try await layers[$0].createAndMigrate(path: folders[$0] + "/new-\($1).sqlite")
        }
        for (number, series) in createAndMigrate.enumerated() {
            let files = (0..<series.callCount).map { folders[number] + "/new-\($0).sqlite" }
            var measurement = Measurement(layer: layers[number].name, workload: .createAndMigrate, series: series)
            measurement.walFilesLeftAfterClose = walFilesLeft(files)
            report.results.append(measurement)
            files.forEach(removeDatabase(at:))
        }

        var sessions: [any Session] = []
        for (number, layer) in layers.enumerated() {
            sessions.append(try await layer.openSession(path: folders[number] + "/hot.sqlite"))
        }
        let pkSelect = try await rounds(.pkSelect, iterations: plan.pkSelect, warmup: plan.pkSelectWarmup) {
            let id = ids[$1 % ids.count]
            try verify(task: try await sessions[$0].selectTask(id: id), id: id)
        }
        report.results += pkSelect.enumerated().map {
            Measurement(layer: layers[$0].name, workload: .pkSelect, series: $1)
        }
        let insert = try await rounds(.insert, iterations: plan.insert, warmup: plan.insertWarmup) {
            try await sessions[$0].insertTask(number: $1)
        }
        report.results += insert.enumerated().map {
            Measurement(layer: layers[$0].name, workload: .insert, series: $1)
        }
        for session in sessions {
            try await session.close()
        }

        progress("· busy-timeout check (about 12 s)\n")
        let busy = directory + "/busy.sqlite"
        try FileManager.default.copyItem(atPath: template, toPath: busy)
        report.busyTimeoutCheck = try await BusyCheck.run(path: busy)
        report.loadAverage.append(loadAverage())
        return report
    }

    /// How many of `paths` still have a non-empty `-wal` file once every connection is closed.
    static func walFilesLeft(_ paths: [String]) -> Int {
        paths.filter { path in
            let size = try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int
            return (size ?? 0) > 0
        }.count
    }
}
