public import SQLiteNIO
public import Tenanted

/// The open pool of one tenant's SQLite database: one writer connection and up to
/// ``SQLiteStore/Configuration/maximumReaders`` reader connections, opened lazily.
///
/// SQLite allows one writer at a time, so writes queue for the writer instead of colliding on
/// `SQLITE_BUSY`; in WAL mode readers run beside it. Every connection has `journal_mode=WAL`,
/// `synchronous=NORMAL`, `busy_timeout` and `foreign_keys=ON`; readers also have `query_only=ON`.
///
/// Connections are lent through closures and must not escape them.
public final class SQLitePool: Sendable {
    /// The tenant whose database this is.
    public let tenant: TenantID
    /// How many reader connections the pool may open; with none, ``read(isolation:_:)`` uses the writer.
    public let maximumReaders: Int
    let writer: ConnectionLender
    let readers: ConnectionLender?
    /// Guards writes against a destroy or replacement by another process; `nil` for the pool of a
    /// tenant being created (its file is not in place yet, and the creator holds the lock).
    let writeGuard: WriteGuard?
    /// Whether ``write(isolation:_:)`` is refused: the pool of a short read
    /// (``SQLiteStore/openForReading(_:)``), whose connection skips the settings writes need.
    let refusesWrites: Bool

    init(
        tenant: TenantID,
        maximumReaders: Int,
        writeGuard: WriteGuard? = nil,
        refusesWrites: Bool = false,
        connect: @escaping @Sendable (_ reader: Bool) async throws -> SQLiteConnection
    ) {
        self.tenant = tenant
        self.writeGuard = writeGuard
        self.refusesWrites = refusesWrites
        self.maximumReaders = max(0, maximumReaders)
        self.writer = ConnectionLender(limit: 1, tenant: tenant) { try await connect(false) }
        self.readers = maximumReaders > 0
            ? ConnectionLender(limit: maximumReaders, tenant: tenant) { try await connect(true) }
            : nil
    }

    /// Runs `body` with the writer connection; use it for anything that writes, and for transactions.
    ///
    /// While another pool of the tenant writes (another process's, or another tenancy's on the same
    /// storage), the write waits for it by sleeping its task, never a thread, up to
    /// ``SQLiteStore/Configuration/busyTimeout``.
    ///
    /// - Throws: ``Tenanted/TenantedError/Code/tenantNotFound``, without running `body`, when the
    ///   tenant is being destroyed or was destroyed or re-created since this pool opened (by this
    ///   process or another): a write is never acknowledged into a deleted database.
    ///   ``Tenanted/TenantedError/Code/storeFailure``, without running `body`, when another pool's
    ///   write held the tenant for longer than the busy timeout.
    public func write<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (SQLiteConnection) async throws -> Result
    ) async throws -> Result {
        if refusesWrites { throw refusedWrite }
        guard let writeGuard else { return try await writer.withConnection(body) }
        return try await writer.withConnection { connection in
            // Another process's writer first (waited for without holding a thread), then the checks.
            try await writeGuard.lockWriter()
            defer { writeGuard.unlockWriter() }
            try writeGuard.enter()
            defer { writeGuard.leave() }
            return try await body(connection)
        }
    }

    /// Why a write on a pool that ``refusesWrites`` fails.
    var refusedWrite: TenantedError {
        TenantedError(.storeFailure, "this pool of tenant '\(tenant)' was opened for reading only; it cannot write", tenant: tenant)
    }

    /// Opens the writer connection if it is not open, and writes nothing: how ``SQLiteStore`` opens a
    /// pool (a cold open pays for the connection there, and a broken file fails there).
    ///
    /// Without the write guard, as nothing is written: the store checked the ready-lock, the
    /// identity and the suspension marker just before, and the connection checks the identity
    /// again once open; every write still goes through the guard.
    func openWriter() async throws {
        try await writer.withConnection { _ in }
    }

    /// Whether the database path still names the file this pool opened and the tenant is not
    /// suspended: `false` once the tenant was destroyed, re-created, restored or suspended, by this
    /// process or another. One `stat` and one `access`.
    public var isCurrent: Bool {
        guard let writeGuard else { return true }
        return writeGuard.isCurrent && !writeGuard.isSuspended
    }

    /// Runs `body` with a connection for reading: an idle reader if one is open, else the writer if
    /// it is open and idle, else a reader (opened if fewer than ``maximumReaders`` are, waited for if
    /// not). With no readers configured, the writer.
    ///
    /// So a tenant that sees one request at a time works on one connection, and readers open only
    /// when reads overlap the writer. `body` must only read: on a reader (`query_only=ON`) a write
    /// fails, and which connection `body` gets is not up to it.
    public func read<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (SQLiteConnection) async throws -> Result
    ) async throws -> Result {
        guard let readers else { return try await writer.withConnection(body) }
        if let result = try await readers.withIdleConnection(body) { return result }
        if let result = try await writer.withIdleConnection(body) { return result }
        return try await readers.withConnection(body)
    }

    /// Closes every connection once its current borrower is done. Further use fails with
    /// ``TenantedError/Code/shutdown``.
    public func close() async {
        await readers?.close()
        await writer.close()
        writeGuard?.closeFile()
    }
}
