import BenchmarkSupport
import Foundation
import Logging
import Tenanted
import TenantedSQLite

/// Thousands of tenants made fast: one template tenant created and seeded by Tenanted, then its
/// database file copied, for Tenanted's side into a store's layout and for the baseline into a
/// plain folder. Creating each through `createTenant` would take minutes; the files are the same.
struct ManyTenants {
    /// Tasks in every copy: small files, so that 10,000 of them stay small on disk.
    static let taskCount = 20

    let template: String
    let directory: String

    /// Creates and seeds the template tenant in a store of its own under `directory`.
    static func make(in directory: String, logger: Logger) async throws -> ManyTenants {
        let store = try SQLiteStore(configuration: .init(root: directory + "/template", logger: logger))
        let seeding = try Tenancy(store: store, migrator: try Schema.migrator(), seed: { _, pool in
            try await pool.write { try await Schema.seed($0, taskCount: taskCount) }
        }, logger: logger)
        let tenant = try TenantID("template")
        do {
            try await seeding.createTenant(tenant)
        } catch {
            await seeding.shutdown()
            throw error
        }
        await seeding.shutdown()
        return ManyTenants(template: store.databasePath(for: tenant), directory: directory)
    }

    static func name(_ number: Int) -> String { String(format: "t%05d", number) }

    /// `count` tenants in an `SQLiteStore` rooted at `directory/name` (under `pathTemplate`, else the
    /// store's default), each a copy of the template beside an empty ready-lock file, as a create
    /// leaves it; a store made before under the same name is reused as it is.
    func store(
        _ name: String, count: Int, pathTemplate: String? = nil, logger: Logger
    ) throws -> (store: SQLiteStore, tenants: [TenantID]) {
        let root = directory + "/" + name
        let exists = FileManager.default.fileExists(atPath: root)
        var configuration = SQLiteStore.Configuration(root: root, logger: logger)
        if let pathTemplate { configuration.pathTemplate = pathTemplate }
        let store = try SQLiteStore(configuration: configuration)
        let tenants = try (0..<count).map { try TenantID(Self.name($0)) }
        for (number, tenant) in tenants.enumerated() where !exists {
            let path = store.databasePath(for: tenant)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: template, toPath: path)
            // A pool opens only beside its ready-lock (the write guard holds it during writes).
            guard FileManager.default.createFile(atPath: path + ".lock", contents: nil) else {
                throw BenchmarkError("cannot create the ready-lock of \(tenant)")
            }
            if count >= 20_000, (number + 1) % 20_000 == 0 { progress("  \(number + 1) copies\n") }
        }
        return (store, tenants)
    }

    /// A plain copy of the template beside each tenant's database in `store` (`baseline.sqlite3` in
    /// the tenant's folder), for a baseline that opens its files in the same folders as Tenanted;
    /// copies made before are reused as they are.
    ///
    /// Why the same folders: SQLite creates a database's `-wal` and `-shm` at its first open and
    /// deletes them at its last close, so churn allocates and frees two inodes per open on both
    /// sides. What an allocation costs depends on the folder: ext4 puts a file's inode in its
    /// folder's block group and, without a journal (as on the benchmark VM), scans past every inode
    /// freed there in the last minutes. Baseline copies in a folder of their own measured that
    /// placement (40–75 µs a call, on either side depending on the run) instead of Tenanted.
    func copies(besideTenantsOf store: SQLiteStore, _ tenants: [TenantID]) throws -> [String] {
        try tenants.map { tenant in
            let path = (store.databasePath(for: tenant) as NSString).deletingLastPathComponent + "/baseline.sqlite3"
            if !FileManager.default.fileExists(atPath: path) {
                try FileManager.default.copyItem(atPath: template, toPath: path)
            }
            return path
        }
    }

    /// `count` plain copies of the template in `directory/name`, for the baseline; copies made
    /// before under the same name are reused as they are.
    func files(_ name: String, count: Int) throws -> [String] {
        let folder = directory + "/" + name
        let exists = FileManager.default.fileExists(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try (0..<count).map { number in
            let path = folder + "/\(Self.name(number)).sqlite"
            if !exists { try FileManager.default.copyItem(atPath: template, toPath: path) }
            return path
        }
    }
}

/// Runs `body` for every item, at most `maximumConcurrency` at a time: the baseline's counterpart
/// of `migrateAll(maximumConcurrency:)`.
func forEachConcurrently<Item: Sendable>(
    _ items: [Item], maximumConcurrency: Int, _ body: @escaping @Sendable (Item) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = items.startIndex
        while next < items.endIndex, next - items.startIndex < maximumConcurrency {
            let item = items[next]
            group.addTask { try await body(item) }
            next += 1
        }
        while try await group.next() != nil {
            guard next < items.endIndex else { continue }
            let item = items[next]
            group.addTask { try await body(item) }
            next += 1
        }
    }
}
