import SQLiteNIO
package import Tenanted

extension SQLiteStore: ReadPoolStore {
    /// A pool for one short read of `tenant`'s database: the migration check of
    /// `Tenancy.migrate(_:)`, which `migrateAll()` runs on every tenant.
    ///
    /// It checks the files as ``open(_:)`` does (ready, not suspended, the same file when the
    /// connection opens), but its one connection opens lazily with `busy_timeout` alone: no
    /// `journal_mode`, `synchronous` or `foreign_keys`, which only writes need. Reading a tenant
    /// that is current then costs four thread-pool round trips (open, `busy_timeout`, the read,
    /// close) instead of seven. The read itself is an ordinary SQLite read transaction, WAL and
    /// locks included, so it sees every write committed before it, by any process. Writes are
    /// refused.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound``, or ``TenantedError/Code/suspended``.
    package func openForReading(_ tenant: TenantID) async throws -> SQLitePool {
        let path = databasePath(for: tenant)
        let (identity, writeGuard) = try await probeForOpen(tenant, path: path, checksSuspension: true)
        writeGuard.closeFile()
        let configuration = configuration
        let busyTimeout = busyTimeoutMilliseconds
        return SQLitePool(tenant: tenant, maximumReaders: 0, refusesWrites: true) { _ in
            let connection = try await Self.connectForReading(path: path, busyTimeout: busyTimeout, configuration: configuration)
            if FileIdentity.of(path) != identity {
                await connection.closeEvenIfCancelled()
                throw WriteGuard.staleError(tenant)
            }
            return connection
        }
    }

    /// Opens a connection to an existing file (`mode=rw`: never creates it) with `busy_timeout`
    /// and the configuration's own ``Configuration/prepareConnection`` only.
    ///
    /// `mode=rw` rather than `mode=ro`: the last connection to close a WAL database folds the log
    /// in and deletes its `-wal` and `-shm` files, which a read-only one cannot.
    static func connectForReading(path: String, busyTimeout: Int, configuration: Configuration) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: "file:" + uriEscaped(path) + "?mode=rw"),
            threadPool: configuration.threadPool,
            logger: configuration.logger,
            on: configuration.eventLoopGroup.any()
        )
        do {
            // First: it replaces sqlite-nio's busy handler, which spins for ever.
            _ = try await connection.query("PRAGMA busy_timeout = \(busyTimeout)")
            try await configuration.prepareConnection?(connection)
            return connection
        } catch {
            await connection.closeEvenIfCancelled()
            throw error
        }
    }
}
