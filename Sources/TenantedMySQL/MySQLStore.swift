import Foundation
import Logging
import MariaDBClient
import Synchronization
public import Tenanted

/// MySQL or MariaDB tenant storage: a database per tenant on one server, over MariaDB Connector/C.
///
/// ```swift
/// let store = try MySQLStore(configuration: .init(url: "mysql://app:secret@db:3306/app"))
/// let tenancy = try Tenancy(store: store, migrations: migrations)
/// ```
///
/// **Names.** A tenant's database is the prefix plus its name, quoted with backticks; names over
/// MySQL's 64-character limit are refused with ``Tenanted/TenantedError/Code/badTenantName``.
///
/// **Invisible until complete.** The catalog (`tenanted.tenants` by default) has a row per tenant,
/// marked ready last, after the database was created and migrated. A tenant exists and is listed
/// only when its row is ready *and* its database is in `information_schema.schemata`.
///
/// **One winner.** A create holds `GET_LOCK` on a per-tenant name for its whole length, on a
/// maintenance connection; a concurrent create of the name — in any process — finds it taken and
/// fails with ``Tenanted/TenantedError/Code/tenantExists``. A create that finds the leftovers of a
/// crashed one (whose lock died with its connection) removes them first.
///
/// **Across processes.** Every create and destroy bumps the catalog's change counter; each process
/// polls the counter every ``Configuration/coherenceInterval`` and retires its pools of tenants
/// destroyed or re-created since they opened. A destroy hides the tenant, waits two intervals, and
/// only then drops the database; an operation that still reaches a dropped database is reported as
/// ``Tenanted/TenantedError/Code/tenantNotFound``.
///
/// Moving tenants between servers (`TenantPlacingStore`) is not implemented.
public final class MySQLStore: TenantStore {
    public typealias Pool = MySQLTenantPool

    /// The options in force.
    public let configuration: Configuration
    let logger: Logger
    let maintenance: MariaDBConnectionPool
    let catalogReady = Mutex(false)
    let watcher: CatalogWatcher

    /// Creates a store. Connects lazily, on first use.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for a bad option.
    public init(configuration: Configuration) throws(TenantedError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = configuration.logger
        self.maintenance = MariaDBConnectionPool(
            configuration: configuration.server.with(database: nil),
            maximumConnections: configuration.maximumMaintenanceConnections,
            threadPool: configuration.threadPool
        )
        self.watcher = CatalogWatcher(interval: configuration.coherenceInterval, logger: configuration.logger)
    }

    /// A store on the server at `url`.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for a bad URL or prefix.
    public convenience init(url: String, prefix: String = "tenant_") throws(TenantedError) {
        try self.init(configuration: Configuration(url: url, prefix: prefix))
    }

    // MARK: Names

    /// The database name of `tenant`: the prefix plus the name.
    /// - Throws: ``Tenanted/TenantedError/Code/badTenantName`` when it exceeds 64 characters.
    public func databaseName(of tenant: TenantID) throws(TenantedError) -> String {
        let name = configuration.prefix + tenant.rawValue
        guard name.count <= 64 else {
            throw TenantedError(
                .badTenantName,
                "tenant name '\(tenant)' is too long for MySQL: the prefix '\(configuration.prefix)' plus the name must fit 64 characters",
                tenant: tenant
            )
        }
        return name
    }

    /// `name` quoted as a MySQL identifier.
    static func quoted(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }

    // MARK: TenantStore

    public func create(_ tenant: TenantID, prepare: (MySQLTenantPool) async throws -> Void) async throws {
        let database = try databaseName(of: tenant)
        try await withTenantLock(tenant, waiting: false) { connection in
            if let existing = try await catalogRow(of: tenant, on: connection) {
                if existing.ready, try await databaseExists(database, on: connection) { throw TenantedError.exists(tenant) }
                logger.notice("removing the leftovers of an interrupted create or destroy", metadata: [Logger.tenantMetadataKey: "\(tenant)"])
            }
            // Under the lock and without a ready row, whatever has the name is a leftover.
            try await connection.query("DROP DATABASE IF EXISTS \(Self.quoted(database))")
            let generation = try await bumpVersion(on: connection)
            try await connection.query(
                "REPLACE INTO \(catalogTable) (store_key, tenant, ready, generation) VALUES (?, ?, 0, ?)",
                [.text(storeKey), .text(tenant.rawValue), .int(generation)]
            )
            do {
                try await connection.query("CREATE DATABASE \(Self.quoted(database)) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                let pool = openPool(tenant, database: database)
                do {
                    try await prepare(pool)
                } catch {
                    await pool.close()
                    throw error
                }
                await pool.close()
                try await connection.query(
                    "UPDATE \(catalogTable) SET ready = 1 WHERE store_key = ? AND tenant = ?",
                    [.text(storeKey), .text(tenant.rawValue)]
                )
                _ = try await bumpVersion(on: connection)
            } catch {
                do {
                    try await connection.query("DROP DATABASE IF EXISTS \(Self.quoted(database))")
                    try await removeRow(tenant, on: connection)
                } catch let cleanup {
                    logger.error("could not remove a failed create; the tenant stays invisible and the next create removes it", metadata: [
                        Logger.tenantMetadataKey: "\(tenant)", "error": "\(String(reflecting: cleanup))",
                    ])
                }
                throw error
            }
        }
    }

    public func destroy(_ tenant: TenantID) async throws {
        let database = try databaseName(of: tenant)
        try await withTenantLock(tenant, waiting: true) { connection in
            guard let row = try await catalogRow(of: tenant, on: connection), row.ready else {
                throw TenantedError.notFound(tenant, "destroy")
            }
            // Invisible first, then gone: a failure half-way leaves an unlisted leftover that the next
            // create of the name removes.
            try await connection.query(
                "UPDATE \(catalogTable) SET ready = 0 WHERE store_key = ? AND tenant = ?",
                [.text(storeKey), .text(tenant.rawValue)]
            )
            _ = try await bumpVersion(on: connection)
            // Every process polls the counter once an interval: after two, none starts on the tenant.
            watcher.invalidate(tenant)
            try await Task.sleep(for: configuration.coherenceInterval * 2)
            // MySQL knows databases by name only: a session still in the database would reach a later
            // tenant of the same name. End every such session (the same user may end its own).
            try await endSessions(in: database, on: connection)
            try await connection.query("DROP DATABASE IF EXISTS \(Self.quoted(database))")
            try await removeRow(tenant, on: connection)
            _ = try await bumpVersion(on: connection)
        }
    }

    public func exists(_ tenant: TenantID) async throws -> Bool {
        let database = try databaseName(of: tenant)
        return try await withCatalog { connection in
            guard let row = try await catalogRow(of: tenant, on: connection), row.ready else { return false }
            return try await databaseExists(database, on: connection)
        }
    }

    public func tenants() async throws -> [TenantID] {
        try await withCatalog { connection in
            let ready = try await connection.query(
                "SELECT tenant FROM \(catalogTable) WHERE store_key = ? AND ready = 1", [.text(storeKey)]
            ).rows.compactMap { $0["tenant"]?.string }
            if ready.isEmpty { return [] }
            // LIKE treats `_` as a wildcard: escape it, then compare the prefix exactly.
            let pattern = configuration.prefix.replacingOccurrences(of: "_", with: "\\_") + "%"
            let databases = Set(try await connection.query(
                "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?", [.text(pattern)]
            ).rows.compactMap { $0["name"]?.string })
            return ready.filter { databases.contains(configuration.prefix + $0) }
                .compactMap { try? TenantID($0) }
                .sorted()
        }
    }

    public func open(_ tenant: TenantID) async throws -> MySQLTenantPool {
        try await open(tenant, ignoringSuspension: false)
    }

    /// Opens a registry pool; a suspended tenant is refused unless `ignoringSuspension`.
    func open(_ tenant: TenantID, ignoringSuspension: Bool) async throws -> MySQLTenantPool {
        let database = try databaseName(of: tenant)
        watcher.start(self)
        let checkedAt = ContinuousClock.now
        let row = try await withCatalog { connection -> CatalogRow? in
            guard let row = try await catalogRow(of: tenant, on: connection), row.ready,
                try await databaseExists(database, on: connection)
            else { return nil }
            return row
        }
        guard let row else { throw TenantedError.notFound(tenant, "open") }
        if let reason = row.suspended, !ignoringSuspension {
            throw TenantedError.suspended(tenant, reason: reason.isEmpty ? nil : reason)
        }
        let pool = openPool(tenant, database: database, generation: row.generation, seenVersion: row.version, checkedAt: checkedAt)
        watcher.register(pool)
        return pool
    }

    public func close(_ pool: MySQLTenantPool) async {
        watcher.unregister(pool)
        await pool.close()
    }

    /// No I/O: `false` once this process learned (from the catalog's change counter, or from an error
    /// that made the pool ask the catalog) that the tenant was destroyed, re-created or suspended
    /// since the pool opened — and `false` too while this process's polls lag: a change waits two
    /// ``Configuration/coherenceInterval``s before it returns, which only works while every process
    /// polls once an interval. When neither the pool's own catalog read nor a completed poll started
    /// within the last one and a half intervals (a poll held up behind busy threads on a loaded
    /// machine), the pool is not trusted, and the registry opens it again with a fresh catalog read.
    public func isCurrent(_ pool: MySQLTenantPool) -> Bool {
        guard pool.isCurrent else { return false }
        let horizon = ContinuousClock.now - configuration.coherenceInterval * 3 / 2
        if pool.checkedAt >= horizon { return true }
        return watcher.lastPollStart.map { $0 >= horizon } ?? false
    }

    /// Stops the catalog poller and closes the maintenance connections; a later use reopens them.
    public func shutdown() async {
        await watcher.stop()
        await maintenance.close()
        catalogReady.withLock { $0 = false }
    }

    /// Ends every other session whose current database is `database`; a session that ended by itself
    /// meanwhile is no error.
    func endSessions(in database: String, on connection: MariaDBConnection) async throws {
        let sessions = try await connection.query(
            "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", [.text(database)]
        ).rows.compactMap { $0["id"]?.int64 }
        for session in sessions {
            do {
                try await connection.query("KILL CONNECTION \(session)")
            } catch let error as MariaDBError where error.number == 1094 {
                // ER_NO_SUCH_THREAD: it ended on its own.
            }
        }
    }

    // MARK: Pools

    func openPool(
        _ tenant: TenantID, database: String, generation: Int64 = 0, seenVersion: Int64 = 0, checkedAt: ContinuousClock.Instant = .now
    ) -> MySQLTenantPool {
        let connections = MariaDBConnectionPool(
            configuration: configuration.server.with(database: database),
            maximumConnections: configuration.maximumConnectionsPerTenant,
            threadPool: configuration.threadPool
        )
        var verifier: (@Sendable (MySQLTenantPool) async -> Void)?
        if generation != 0 {
            verifier = { [weak self] pool in await self?.verify(pool) }
        }
        return MySQLTenantPool(
            tenant: tenant, database: database, connections: connections,
            generation: generation, seenVersion: seenVersion, checkedAt: checkedAt, verifier: verifier
        )
    }

    /// Asks the catalog whether `pool` still serves its tenant, and invalidates it when not. With the
    /// catalog unreachable there is no verdict.
    func verify(_ pool: MySQLTenantPool) async {
        let found: CatalogRow?
        do {
            found = try await withCatalog { try await catalogRow(of: pool.tenant, on: $0) }
        } catch {
            return
        }
        guard let found, found.ready else {
            pool.invalidate(gone: true)
            return
        }
        if found.generation != pool.generation { pool.invalidate(gone: false) }
    }
}
