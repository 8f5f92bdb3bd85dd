import Logging
import MariaDBClient
import Synchronization
import Tenanted

/// A tenant's catalog row.
struct CatalogRow: Sendable {
    let ready: Bool
    let generation: Int64
    /// The store's change counter when the row was read.
    let version: Int64
    /// The suspension reason ('' for none) while the tenant is suspended; `nil` when it is not.
    var suspended: String? = nil
}

extension MySQLStore {
    /// Identifies this store's rows in a shared catalog.
    var storeKey: String { configuration.prefix }

    var catalogTable: String { "\(Self.quoted(configuration.catalogDatabase)).`tenants`" }

    var versionTable: String { "\(Self.quoted(configuration.catalogDatabase)).`versions`" }

    /// Runs `body` on a maintenance connection, the catalog created first if needed.
    func withCatalog<Result: Sendable>(_ body: (MariaDBConnection) async throws -> Result) async throws -> Result {
        try await maintenance.withConnection { connection in
            try await ensureCatalog(on: connection)
            return try await body(connection)
        }
    }

    private func ensureCatalog(on connection: MariaDBConnection) async throws {
        if catalogReady.withLock({ $0 }) { return }
        try await connection.query("CREATE DATABASE IF NOT EXISTS \(Self.quoted(configuration.catalogDatabase)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS \(catalogTable) (
                store_key VARCHAR(64) NOT NULL,
                tenant VARCHAR(64) NOT NULL,
                ready TINYINT NOT NULL DEFAULT 0,
                generation BIGINT NOT NULL,
                PRIMARY KEY (store_key, tenant)
            ) ENGINE = InnoDB
            """)
        // Suspensions came with tenant operations: NULL while the tenant is not suspended.
        try await connection.query("ALTER TABLE \(catalogTable) ADD COLUMN IF NOT EXISTS suspended TEXT NULL")
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS \(versionTable) (
                store_key VARCHAR(64) NOT NULL PRIMARY KEY,
                version BIGINT NOT NULL
            ) ENGINE = InnoDB
            """)
        catalogReady.withLock { $0 = true }
    }

    /// Runs `body` holding the tenant's create/destroy lock (`GET_LOCK`, held by the connection's
    /// session) on a maintenance connection. Not waiting, a lock held elsewhere is `tenantExists`.
    func withTenantLock<Result: Sendable>(
        _ tenant: TenantID, waiting: Bool, _ body: (MariaDBConnection) async throws -> Result
    ) async throws -> Result {
        let name = lockName(tenant)
        return try await withCatalog { connection in
            let got = try await connection.query("SELECT GET_LOCK(?, ?) AS got", [.text(name), .int(waiting ? 60 : 0)])
                .rows.first?["got"]?.int64
            guard got == 1 else {
                if waiting {
                    throw TenantedError(.storeFailure, "tenant '\(tenant)': another create or destroy held its lock for 60 seconds", tenant: tenant)
                }
                throw TenantedError.exists(tenant)
            }
            do {
                let result = try await body(connection)
                try await connection.query("DO RELEASE_LOCK(?)", [.text(name)])
                return result
            } catch {
                // A broken connection lost the lock with its session; else release it.
                if !connection.isBroken { _ = try? await connection.query("DO RELEASE_LOCK(?)", [.text(name)]) }
                throw error
            }
        }
    }

    /// A lock name per catalog, prefix and tenant, under MySQL's 64-character limit.
    private func lockName(_ tenant: TenantID) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(configuration.catalogDatabase)\u{0}\(configuration.prefix)\u{0}\(tenant.rawValue)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "tenanted:create:" + String(hash, radix: 16)
    }

    func catalogRow(of tenant: TenantID, on connection: MariaDBConnection) async throws -> CatalogRow? {
        let result = try await connection.query(
            """
            SELECT t.ready AS ready, t.generation AS generation, COALESCE(v.version, 0) AS version, t.suspended AS suspended
            FROM \(catalogTable) t LEFT JOIN \(versionTable) v ON v.store_key = t.store_key
            WHERE t.store_key = ? AND t.tenant = ?
            """,
            [.text(storeKey), .text(tenant.rawValue)]
        )
        guard let row = result.rows.first else { return nil }
        return CatalogRow(
            ready: row["ready"]?.int64 == 1, generation: row["generation"]?.int64 ?? 0, version: row["version"]?.int64 ?? 0,
            suspended: row["suspended"]?.string
        )
    }

    func databaseExists(_ database: String, on connection: MariaDBConnection) async throws -> Bool {
        try await !connection.query(
            "SELECT 1 AS found FROM information_schema.schemata WHERE schema_name = ?", [.text(database)]
        ).rows.isEmpty
    }

    func removeRow(_ tenant: TenantID, on connection: MariaDBConnection) async throws {
        try await connection.query(
            "DELETE FROM \(catalogTable) WHERE store_key = ? AND tenant = ?", [.text(storeKey), .text(tenant.rawValue)]
        )
    }

    /// Bumps the store's change counter and returns its new value.
    func bumpVersion(on connection: MariaDBConnection) async throws -> Int64 {
        try await connection.query(
            "INSERT INTO \(versionTable) (store_key, version) VALUES (?, LAST_INSERT_ID(1)) ON DUPLICATE KEY UPDATE version = LAST_INSERT_ID(version + 1)",
            [.text(storeKey)]
        )
        guard let version = try await connection.query("SELECT LAST_INSERT_ID() AS version").rows.first?["version"]?.int64 else {
            throw TenantedError(.storeFailure, "the MySQL catalog's change counter could not be read")
        }
        return version
    }

    /// The change counter and every tenant's row, for the watcher.
    func catalogSnapshot() async throws -> (version: Int64, rows: [String: CatalogRow]) {
        try await withCatalog { connection in
            let version = try await connection.query("SELECT version FROM \(versionTable) WHERE store_key = ?", [.text(storeKey)])
                .rows.first?["version"]?.int64 ?? 0
            var rows: [String: CatalogRow] = [:]
            for row in try await connection.query(
                "SELECT tenant, ready, generation FROM \(catalogTable) WHERE store_key = ?", [.text(storeKey)]
            ).rows {
                guard let tenant = row["tenant"]?.string else { continue }
                rows[tenant] = CatalogRow(ready: row["ready"]?.int64 == 1, generation: row["generation"]?.int64 ?? 0, version: version)
            }
            return (version, rows)
        }
    }

    /// The change counter alone: the watcher's cheap poll.
    func catalogVersion() async throws -> Int64 {
        try await withCatalog { connection in
            try await connection.query("SELECT version FROM \(versionTable) WHERE store_key = ?", [.text(storeKey)])
                .rows.first?["version"]?.int64 ?? 0
        }
    }
}

/// Polls the catalog's change counter and retires this process's pools of tenants destroyed or
/// re-created since they opened.
final class CatalogWatcher: Sendable {
    private struct State {
        var pools: [ObjectIdentifier: MySQLTenantPool] = [:]
        /// The counter value every registered pool has been checked against.
        var checkedVersion: Int64 = 0
        /// When the latest poll that completed started.
        var lastPollStart: ContinuousClock.Instant?
        var task: Task<Void, Never>?
    }

    private let state = Mutex(State())
    let interval: Duration
    let logger: Logger

    init(interval: Duration, logger: Logger) {
        self.interval = interval
        self.logger = logger
    }

    /// Starts polling, once.
    func start(_ store: MySQLStore) {
        state.withLock { state in
            guard state.task == nil else { return }
            state.task = Task { [weak store, interval, logger] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let store, !Task.isCancelled else { return }
                    do {
                        try await store.watcher.poll(store)
                    } catch {
                        logger.debug("the catalog poll failed; pools stay as they are until the next", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
            }
        }
    }

    func stop() async {
        let task = state.withLock { state in
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
        await task?.value
    }

    func register(_ pool: MySQLTenantPool) {
        state.withLock { state in
            state.pools[ObjectIdentifier(pool)] = pool
            // A change between the pool's catalog read and now must be checked again.
            state.checkedVersion = min(state.checkedVersion, pool.seenVersion)
        }
    }

    func unregister(_ pool: MySQLTenantPool) {
        _ = state.withLock { $0.pools.removeValue(forKey: ObjectIdentifier(pool)) }
    }

    /// Marks this process's pools of `tenant` gone at once (its destroy runs here).
    func invalidate(_ tenant: TenantID) {
        for pool in state.withLock({ Array($0.pools.values) }) where pool.tenant == tenant {
            pool.invalidate(gone: true)
        }
    }

    /// When the latest poll that completed started: every change committed before then has been
    /// applied to this process's pools. `nil` before the first.
    var lastPollStart: ContinuousClock.Instant? { state.withLock { $0.lastPollStart } }

    func poll(_ store: MySQLStore) async throws {
        let started = ContinuousClock.now
        let (checked, empty) = state.withLock { ($0.checkedVersion, $0.pools.isEmpty) }
        let version = try await store.catalogVersion()
        if version == checked {
            completed(started)
            return
        }
        if empty {
            state.withLock { state in
                if state.pools.isEmpty { state.checkedVersion = version }
            }
            completed(started)
            return
        }
        let snapshot = try await store.catalogSnapshot()
        let pools = state.withLock { state in
            state.checkedVersion = snapshot.version
            return Array(state.pools.values)
        }
        for pool in pools {
            guard let row = snapshot.rows[pool.tenant.rawValue], row.ready else {
                pool.invalidate(gone: true)
                continue
            }
            if row.generation != pool.generation { pool.invalidate(gone: false) }
        }
        completed(started)
    }

    private func completed(_ started: ContinuousClock.Instant) {
        state.withLock { state in
            if state.lastPollStart.map({ $0 < started }) ?? true { state.lastPollStart = started }
        }
    }
}
