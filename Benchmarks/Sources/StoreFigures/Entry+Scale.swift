import BenchmarkSupport
import Foundation
import Logging
import SQLiteNIO
import Tenanted
import TenantedSQLite
#if canImport(Glibc)
import Glibc
#endif

extension Entry {
    /// The bucketed layout of the scale figures (one level of 256 bucket folders, each tenant's
    /// file directly in its bucket), the same under `store-figures`' store and under the demos'
    /// storage root.
    static let scalePathTemplate = "tenants/%{bucket1}/%{tenant}.sqlite3"
    /// The folder under `--scale-root` for `count` tenants, named after the layout: a folder made
    /// in another layout is never reused.
    static func scaleFolder(_ count: Int) -> String { "scale-\(count)-bucket1-flat" }

    /// `--only scale` (`scripts/bench --scale`): 100,000 tenants (`--scale-tenants N`; 5,000 with
    /// `--quick`) in the bucketed layout, each a copy of the template (``ManyTenants``), and
    ///
    /// - `scale_tenants_list_N` (ms): `tenants()`, against a raw walk of the same folders (`readdir`
    ///   of each bucket folder and a `stat` of each database file); median of 3 each, alternating;
    /// - `scale_migrate_all_noop_N` (ms): `migrateAll()` with nothing to do, against a raw open,
    ///   PRAGMAs, read of the migration table and close of every file, both at concurrency 4;
    /// - `scale_rss_after_K_touched` (MiB) for K = 1,000, 10,000 and N: the resident set once K
    ///   tenants were each used once (one PK select, in order) with at most 50 pools open, against
    ///   raw connections kept in an LRU of 50 (`ConnectionLRU`, run second in the same process), and
    ///   `scale_heap_growth_1k_to_N_touched` (KiB): malloc's heap in use, from the first reading to
    ///   the last, the figure freed-but-kept memory cannot hide;
    /// - `scale_cli_tenants_list_N` and `scale_cli_hummingbird_tenants_list_N` (ms): the demos'
    ///   `tenants list` as a real process over the same storage (`--demo PATH`,
    ///   `--hummingbird-demo PATH`), from start to exit with every name read, against `find` printing
    ///   the same database paths; median of 3 each, alternating;
    /// - `scale_disk_use_N` (MiB): blocks allocated under the storage root (folders, ready-locks and
    ///   databases), against N bare copies of the database file; and `scale_create_N` (s), how long
    ///   the copies took (no baseline).
    ///
    /// `--scale-root DIR` makes the tenants in `DIR/scale-N-bucket1-flat` and keeps them; a later run
    /// with the same option reuses them (and prints no `scale_create_N`).
    static func scale(plan: Plan, options: Options, many: ManyTenants, baseline: Baseline, logger: Logger) async throws -> [Figure] {
        let count = argument("--scale-tenants").flatMap(Int.init) ?? (options.quick ? 5_000 : 100_000)
        let label = count % 1_000 == 0 ? "\(count / 1_000)k" : "\(count)"
        var figures: [Figure] = []
        progress("· scale: \(count) tenants in \(scalePathTemplate), copies of a template\n")
        // `--scale-root DIR` keeps the tenants in DIR (made once, reused by later runs).
        let kept = argument("--scale-root")
        let place = ManyTenants(template: many.template, directory: kept ?? many.directory)
        let reused = kept.map { FileManager.default.fileExists(atPath: $0 + "/" + scaleFolder(count)) } ?? false
        let started = ContinuousClock.now
        let (store, tenants) = try place.store(scaleFolder(count), count: count, pathTemplate: scalePathTemplate, logger: logger)
        let createSeconds = nanoseconds(started.duration(to: .now)) / 1e9
        sync()
        if reused {
            progress("  reusing the tenants made before in \(kept ?? "")\n")
        } else {
            figures.append(Figure(name: "scale_create_\(label)", value: createSeconds, unit: "s", baseline: nil))
            progress("  made in \(Int(createSeconds)) s\n")
        }
        let paths = tenants.map { store.databasePath(for: $0) }

        // Disk use: every block under the root, against the database files alone.
        let disk = diskUse(store.root)
        var template = stat()
        stat(many.template, &template)
        figures.append(Figure(
            name: "scale_disk_use_\(label)", value: Double(disk.bytes) / 1_048_576, unit: "MiB",
            baseline: Double(Int(template.st_blocks) * 512 * count) / 1_048_576))
        progress("  disk: \(disk.bytes / 1_048_576) MiB in \(disk.files) files and \(disk.directories) folders; "
                 + "the template is \(template.st_size) bytes (\(Int(template.st_blocks) * 512) allocated)\n")

        let tenancy = try Tenancy(store: store, migrator: try Schema.migrator(), logger: logger)
        try await withShutdown(tenancy) {
            // Listing.
            let expected = tenants.map(\.description).sorted()
            var listTimes: [[Double]] = [[], []]
            for run in 0..<6 {
                let side = (run + run / 2) % 2  // T B B T T B: each side first as often
                let start = ContinuousClock.now
                let names: [String] = side == 0
                    ? try await tenancy.tenants().map(\.description)
                    : rawListing(store.root + "/tenants")
                listTimes[side].append(nanoseconds(start.duration(to: .now)) / 1e6)
                guard names == expected else {
                    throw BenchmarkError("\(side == 0 ? "tenants()" : "the raw walk") listed \(names.count) tenants, expected \(count)")
                }
            }
            figures.append(Figure(name: "scale_tenants_list_\(label)", value: median(listTimes[0]), unit: "ms", baseline: median(listTimes[1])))
            progress("  tenants(): \(Int(median(listTimes[0]))) ms, raw walk \(Int(median(listTimes[1]))) ms\n")

            // Migrate-all with nothing to do.
            let concurrency = Tenancy.Configuration().defaultConcurrency
            let migrations = BenchmarkSchema.migrations.count
            var start = ContinuousClock.now
            let report = try await tenancy.migrateAll()
            let migrateMilliseconds = nanoseconds(start.duration(to: .now)) / 1e6
            guard report.succeeded, report.current.count == count else {
                throw BenchmarkError("no-op migrateAll: \(report.current.count) current of \(count), \(report.failures.count) failed")
            }
            start = ContinuousClock.now
            try await forEachConcurrently(paths, maximumConcurrency: concurrency) {
                try await baseline.checkMigrations($0, expected: migrations)
            }
            let rawMilliseconds = nanoseconds(start.duration(to: .now)) / 1e6
            figures.append(Figure(name: "scale_migrate_all_noop_\(label)", value: migrateMilliseconds, unit: "ms", baseline: rawMilliseconds))
            progress("  migrateAll(): \(Int(migrateMilliseconds)) ms, raw \(Int(rawMilliseconds)) ms\n")
        }

        figures += try await touchEveryTenant(plan: plan, store: store, tenants: tenants, paths: paths, baseline: baseline, label: label, logger: logger)
        figures += try commandLineListing(root: store.root, count: count, label: label)
        return figures
    }

    /// The RSS figures: every tenant used once, in order, with `plan.churnPoolCap` pools open.
    private static func touchEveryTenant(
        plan: Plan, store: SQLiteStore, tenants: [TenantID], paths: [String], baseline: Baseline, label: String, logger: Logger
    ) async throws -> [Figure] {
        let count = tenants.count
        let checkpoints = Array(Set([1_000, 10_000, count].filter { $0 <= count })).sorted()
        typealias Reading = (resident: Int, heap: Int)
        var tenanted: [Reading] = []
        var raw: [Reading] = []
        let tenancy = try Tenancy(
            store: store, configuration: .init(pools: .init(maximumOpenPools: plan.churnPoolCap)),
            migrator: try Schema.migrator(), logger: logger)
        try await withShutdown(tenancy) {
            for (number, tenant) in tenants.enumerated() {
                let id = number % ManyTenants.taskCount + 1
                try await tenancy.withTenant(tenant) {
                    try await tenancy.currentPool(as: SQLitePool.self).read { try await Schema.selectTask($0, id: id) }
                }
                if checkpoints.contains(number + 1) {
                    tenanted.append((residentBytes(), heapBytes()))
                    progress("  Tenanted: \(number + 1) tenants touched, RSS \(tenanted.last!.resident / 1_048_576) MiB\n")
                }
            }
            guard tenancy.pools.openCount <= plan.churnPoolCap else {
                throw BenchmarkError("\(tenancy.pools.openCount) pools open after the walk, more than \(plan.churnPoolCap)")
            }
        }
        let lru = ConnectionLRU(capacity: plan.churnPoolCap, baseline: baseline)
        do {
            for (number, path) in paths.enumerated() {
                let connection = try await lru.connection(number, path: path)
                try await Schema.selectTask(connection, id: number % ManyTenants.taskCount + 1)
                if checkpoints.contains(number + 1) {
                    raw.append((residentBytes(), heapBytes()))
                    progress("  raw LRU: \(number + 1) files touched, RSS \(raw.last!.resident / 1_048_576) MiB\n")
                }
            }
        } catch {
            await lru.close()
            throw error
        }
        await lru.close()

        var figures: [Figure] = []
        for (index, checkpoint) in checkpoints.enumerated() {
            let name = checkpoint == count ? label : "\(checkpoint / 1_000)k"
            figures.append(Figure(
                name: "scale_rss_after_\(name)_touched", value: Double(tenanted[index].resident) / 1_048_576, unit: "MiB",
                baseline: Double(raw[index].resident) / 1_048_576))
        }
        if let first = tenanted.first, let last = tenanted.last, let rawFirst = raw.first, let rawLast = raw.last {
            figures.append(Figure(
                name: "scale_heap_growth_\(checkpoints[0] / 1_000)k_to_\(label)_touched",
                value: Double(last.heap - first.heap) / 1024, unit: "KiB",
                baseline: Double(rawLast.heap - rawFirst.heap) / 1024))
        }
        return figures
    }

    /// The demos' `tenants list` as processes over the store's root, against `find`.
    private static func commandLineListing(root: String, count: Int, label: String) throws -> [Figure] {
        var figures: [Figure] = []
        let demos = [("cli", argument("--demo")), ("cli_hummingbird", argument("--hummingbird-demo"))]
        guard let find = ["/usr/bin/find", "/bin/find"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            progress("  the command-line listing is skipped: no find\n")
            return []
        }
        let environment = [
            "TENANTED_STORAGE": root, "TENANTED_SQLITE_PATH_TEMPLATE": scalePathTemplate, "TENANTED_STORE": "sqlite",
            "LOG_LEVEL": "warning",
        ]
        for (name, demo) in demos {
            guard let demo else {
                progress("  \(name): skipped (pass --\(name == "cli" ? "demo" : "hummingbird-demo") PATH)\n")
                continue
            }
            var times: [[Double]] = [[], []]
            for run in 0..<6 {
                let side = (run + run / 2) % 2
                times[side].append(side == 0
                    ? try timedListing(demo, ["tenants", "list"], environment: environment, expectedLines: count)
                    : try timedListing(find, [root + "/tenants", "-mindepth", "2", "-maxdepth", "2", "-name", "*.sqlite3"],
                                       environment: [:], expectedLines: count))
            }
            figures.append(Figure(name: "scale_\(name)_tenants_list_\(label)", value: median(times[0]), unit: "ms", baseline: median(times[1])))
            progress("  \(name) tenants list: \(Int(median(times[0]))) ms, find \(Int(median(times[1]))) ms\n")
        }
        return figures
    }

    /// Runs `executable` to its end, reading its standard output as it comes; the milliseconds from
    /// start to exit. Throws unless it exits 0 having printed `expectedLines` lines.
    private static func timedListing(_ executable: String, _ arguments: [String], environment: [String: String], expectedLines: Int) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let start = ContinuousClock.now
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let elapsed = nanoseconds(start.duration(to: .now)) / 1e6
        let lines = data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        guard process.terminationStatus == 0, lines == expectedLines else {
            throw BenchmarkError("\(executable) \(arguments.joined(separator: " ")): status \(process.terminationStatus), "
                                 + "\(lines) lines instead of \(expectedLines): \(String(decoding: errorText.prefix(2_000), as: UTF8.self))")
        }
        return elapsed
    }

    /// The raw listing of the bucketed layout under `folder`: the names of the `.sqlite3` files in
    /// its bucket folders, each `stat`ed, sorted.
    static func rawListing(_ folder: String) -> [String] {
        var names: [String] = []
        for bucket in directoryNames(folder) {
            for file in directoryNames(folder + "/" + bucket) where file.hasSuffix(".sqlite3") {
                var info = stat()
                if stat(folder + "/" + bucket + "/" + file, &info) == 0 { names.append(String(file.dropLast(".sqlite3".count))) }
            }
        }
        return names.sorted()
    }

    /// The entries of a folder (`readdir`), without `.` and `..`; none when it cannot be read.
    static func directoryNames(_ path: String) -> [String] {
        guard let stream = opendir(path) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            // Through a pointer: copying `entry.pointee.d_name` reads 256 bytes, past the end of
            // `readdir`'s buffer for its last, shorter entry.
            let name = String(cString: UnsafeRawPointer(entry.pointer(to: \.d_name)!).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Blocks allocated under `path` (`st_blocks`, so sparse and small files count as they are
    /// stored), with the files and folders counted.
    static func diskUse(_ path: String) -> (bytes: Int, files: Int, directories: Int) {
        var total = (bytes: 0, files: 0, directories: 0)
        func walk(_ path: String) {
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            total.bytes += Int(info.st_blocks) * 512
            if (info.st_mode & S_IFMT) == S_IFDIR {
                total.directories += 1
                for name in directoryNames(path) { walk(path + "/" + name) }
            } else {
                total.files += 1
            }
        }
        walk(path)
        return total
    }

    /// The value after `option` on the command line, if any.
    static func argument(_ option: String) -> String? {
        let arguments = CommandLine.arguments
        return arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
