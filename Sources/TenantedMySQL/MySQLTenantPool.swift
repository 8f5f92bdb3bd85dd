public import MariaDBClient
import Synchronization
public import Tenanted

/// One tenant's open pool on the MySQL or MariaDB server: what ``MySQLStore/open(_:)`` returns and
/// ``Tenanted/Tenancy`` keeps in its registry. Its connections start in the tenant's database.
public final class MySQLTenantPool: Sendable {
    /// The tenant this pool serves.
    public let tenant: TenantID
    /// The tenant's database.
    public let database: String
    /// The connections. An ORM adapter builds on them (``withConnection(_:)``).
    package let connections: MariaDBConnectionPool
    /// The tenant's generation in the catalog when the pool opened (0 for a create's own pool).
    let generation: Int64
    /// The catalog's change counter read together with `generation`.
    let seenVersion: Int64
    /// When the catalog read this pool was opened on started (``MySQLStore/isCurrent(_:)``).
    let checkedAt: ContinuousClock.Instant
    /// Asks the catalog whether the pool is still current, invalidating it when not; `nil` for a
    /// create's own pool.
    let verifier: (@Sendable (MySQLTenantPool) async -> Void)?
    private let validity = Mutex(Validity.current)
    private let adapterSlot = Mutex<(any Sendable)?>(nil)

    /// Whether the pool still serves its tenant as the catalog holds it.
    package enum Validity: Sendable {
        case current
        /// The tenant was re-created since: new scopes open a fresh pool.
        case stale
        /// The tenant was destroyed (or is being destroyed).
        case gone
    }

    init(
        tenant: TenantID, database: String, connections: MariaDBConnectionPool,
        generation: Int64 = 0, seenVersion: Int64 = 0, checkedAt: ContinuousClock.Instant = .now,
        verifier: (@Sendable (MySQLTenantPool) async -> Void)? = nil
    ) {
        self.tenant = tenant
        self.database = database
        self.connections = connections
        self.generation = generation
        self.seenVersion = seenVersion
        self.checkedAt = checkedAt
        self.verifier = verifier
    }

    /// Whether the pool still serves its tenant as the catalog holds it: one lock, no I/O.
    public var isCurrent: Bool { validity.withLock { $0 == .current } }

    package var currentValidity: Validity { validity.withLock { $0 } }

    /// What an ORM adapter keeps for this pool, made by `make` on first use. The store knows no ORM.
    package func adapterValue<Value: Sendable>(_ make: () -> Value) -> Value {
        adapterSlot.withLock { slot in
            if let value = slot as? Value { return value }
            let value = make()
            slot = value
            return value
        }
    }

    /// Marks the pool stale or gone (never back to current).
    func invalidate(gone: Bool) {
        validity.withLock { validity in
            switch (validity, gone) {
            case (.gone, _): break
            case (_, true): validity = .gone
            case (_, false): validity = .stale
            }
        }
    }

    /// Lends a connection to the tenant's database for `body`: plain SQL for apps without an ORM
    /// (``MySQLMigrator`` keeps their schema), and what an ORM adapter builds on.
    ///
    /// ```swift
    /// let titles = try await tenancy.currentPool(as: MySQLTenantPool.self).withConnection { connection in
    ///     try await connection.query("SELECT title FROM notes").rows.compactMap { $0["title"]?.string }
    /// }
    /// ```
    /// - Throws: ``Tenanted/TenantedError/Code/tenantNotFound`` when the tenant was destroyed (known
    ///   already, or learned from the catalog after an error a dropped database causes); else what
    ///   `body` throws.
    public func withConnection<Result: Sendable>(_ body: (MariaDBConnection) async throws -> Result) async throws -> Result {
        if currentValidity == .gone { throw goneError }
        do {
            return try await connections.withConnection(body)
        } catch {
            throw await translate(error)
        }
    }

    /// The error to report for `error`, raised by an operation on this pool: `tenantNotFound` when the
    /// tenant is gone (known, or learned now from the catalog after an unknown-database or
    /// unknown-table error), else `error` itself.
    package func translate(_ error: any Error) async -> any Error {
        if let error = error as? TenantedError { return error }
        if currentValidity == .current, let error = error as? MariaDBError, Self.suggestsTenantGone(error), let verifier {
            await verifier(self)
        }
        switch currentValidity {
        case .current: return error
        case .gone: return goneError
        case .stale:
            return TenantedError(
                .storeFailure,
                "tenant '\(tenant)' was destroyed and created again while this operation ran; retry it",
                tenant: tenant, underlying: error
            )
        }
    }

    static func suggestsTenantGone(_ error: MariaDBError) -> Bool {
        // A destroy ends the sessions in the tenant's database: a lost connection may mean that too.
        error.connectionLost
            || [MariaDBError.Number.unknownDatabase, MariaDBError.Number.noDatabaseSelected, MariaDBError.Number.noSuchTable]
            .contains(error.number)
    }

    package var goneError: TenantedError {
        TenantedError(.tenantNotFound, "tenant '\(tenant)' was destroyed (by this or another process)", tenant: tenant)
    }

    func close() async {
        await connections.close()
    }
}
