/// Where tenant databases live: a file per tenant, a database per tenant, a schema per tenant…
///
/// A store knows nothing of Fluent or of the current tenant; ``Tenancy`` drives it. Every method
/// takes a validated ``TenantID``; a store may refuse names it cannot represent with
/// ``TenantedError/Code/badTenantName``.
public protocol TenantStore: Sendable {
    /// An open connection pool to one tenant's database.
    associatedtype Pool: Sendable

    /// Creates `tenant`'s database and runs `prepare` on it (migrations, seed) before the tenant
    /// becomes visible.
    ///
    /// Until `prepare` returns, ``exists(_:)`` is `false` and ``tenants()`` omits the tenant, in this
    /// process and in others. If anything fails — including `prepare` — every trace of the tenant is
    /// removed and the error is rethrown.
    ///
    /// - Throws: ``TenantedError/Code/tenantExists`` when the tenant exists or is being created.
    func create(_ tenant: TenantID, prepare: (Pool) async throws -> Void) async throws

    /// Deletes `tenant`'s database and everything that belongs to it.
    ///
    /// The caller closes this process's pool first (``Tenancy`` does).
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when there is no such tenant.
    func destroy(_ tenant: TenantID) async throws

    /// Whether `tenant` exists and is completely created.
    func exists(_ tenant: TenantID) async throws -> Bool

    /// Every completely created tenant, sorted.
    func tenants() async throws -> [TenantID]

    /// Opens a pool to an existing tenant's database. Never creates the database.
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when there is no such tenant.
    func open(_ tenant: TenantID) async throws -> Pool

    /// Closes a pool: waits for its borrowed connections to come back, then closes them.
    func close(_ pool: Pool) async

    /// Whether `pool`, opened earlier, still serves its tenant as the store holds it now.
    ///
    /// `false` once the tenant was destroyed, re-created, moved or replaced since the pool opened —
    /// by this process or by any other on the same storage. The registry asks on every lease of an
    /// open pool and, on `false`, retires the pool and opens a fresh one, so no scope that starts
    /// after a change is served by the old database. It runs on the hot path: it must not wait and
    /// should cost no more than a `stat`. The default is `true`.
    func isCurrent(_ pool: Pool) -> Bool

    /// A stamp of the tenant's database as `pool` opened it, for ``Tenancy`` to skip the migration
    /// log on a later open: a tenant found with every registered migration at one open is not read
    /// again while the store's stamp of its opens stays the same.
    ///
    /// So the stamp must change whenever migrations may have been taken away from the database
    /// since — another database in its place (destroyed and re-created, restored), a rollback (see
    /// ``migrationsReverted(_:)``) — by this process or any other. Called right after the pool
    /// opened, on the hot path of a cold open: it must not wait. The default, `nil`, has every open
    /// read the log.
    func migrationStamp(of pool: Pool) -> TenantMigrationStamp?

    /// Called by ``Tenancy/rollback(_:)`` once migrations of `tenant` were reverted, so that every
    /// process's next open of it reads its migration log again: a store with
    /// ``migrationStamp(of:)`` changes its stamps here (for every process). The default does nothing.
    func migrationsReverted(_ tenant: TenantID) async

    /// Releases what the store itself holds (maintenance connections, background tasks) once every
    /// pool is closed. ``Tenancy/shutdown()`` calls it last. The default does nothing; a store that
    /// is used again afterwards reopens what it needs.
    func shutdown() async

    // Tenant operations (TenantStore+Operations.swift has the documentation and the defaults).

    /// What this store writes into backup headers, and accepts back: `"sqlite"`, `"postgres-database"`…
    var backupKind: String { get }
    /// Writes a consistent snapshot of `tenant` to the backup file `path`, atomically; see ``TenantBackupHeader``.
    func backup(_ tenant: TenantID, to path: String, header: TenantBackupHeader) async throws
    /// Creates (or with `replace`, replaces) `tenant` from `archive`, invisible until `prepare` succeeded.
    func restore(_ tenant: TenantID, from archive: TenantBackupArchive, replace: Bool, prepare: (Pool) async throws -> Void) async throws
    /// Suspends `tenant` in every process; see ``Tenancy/suspend(_:reason:)``.
    func suspend(_ tenant: TenantID, reason: String?) async throws
    /// Lifts a suspension; see ``Tenancy/resume(_:)``.
    func resume(_ tenant: TenantID) async throws
    /// The suspension of `tenant`, or `nil` when it is not suspended.
    func suspension(of tenant: TenantID) async throws -> TenantSuspension?
    /// Opens a pool like ``open(_:)``, also for a suspended tenant (status and backup read it).
    func openIgnoringSuspension(_ tenant: TenantID) async throws -> Pool
    /// Creates `tenant` as a copy of `template`'s migrated database, then runs `prepare` (the seed).
    func create(_ tenant: TenantID, from template: TenantTemplate<Pool>, prepare: ((Pool) async throws -> Void)?) async throws

    // Inventory (TenantStore+Inventory.swift has the documentation and the defaults).

    /// One page of tenant names, ascending; see ``TenantListQuery``.
    func tenants(matching query: TenantListQuery) async throws -> [TenantID]
    /// How many tenants exist.
    func tenantCount() async throws -> Int
    /// The bytes `tenant`'s database takes on its server or disk, or `nil` when the store cannot tell.
    func storageSize(of tenant: TenantID) async throws -> Int64?
    /// Called by every ``Tenancy`` built on this store, once, with a way to close idle pools of its
    /// registry: a store whose pools share a limited resource (connections to one server) keeps it
    /// and asks for room when it runs short. The default ignores it.
    func attachRegistry(_ reclaimer: TenantPoolReclaimer<Pool>)
}

extension TenantStore {
    public func shutdown() async {}

    /// Ignores the registry: a store whose pools share nothing has no use for it.
    public func attachRegistry(_ reclaimer: TenantPoolReclaimer<Pool>) {}

    public func isCurrent(_ pool: Pool) -> Bool { true }
}

/// A store that spreads tenants over several servers and can move one tenant between them.
///
/// ``Tenancy/moveTenant(_:to:)`` and ``Tenancy/server(of:)`` use it; the `tenants move` command too.
public protocol TenantPlacingStore: TenantStore {
    /// The names of the servers tenants can be placed on, in configuration order.
    var serverNames: [String] { get }

    /// The server that holds `tenant`.
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when there is no such tenant.
    func server(of tenant: TenantID) async throws -> String

    /// How many tenants each server holds, by server name (servers without tenants may be absent).
    /// The default asks ``server(of:)`` for every tenant; a store with a catalog answers in one query.
    func tenantCountsByServer() async throws -> [String: Int]

    /// Copies `tenant` to `server`, verifies the copy, switches the placement to it, and deletes the
    /// old copy. The tenant refuses writes (reads go on) until the switch.
    ///
    /// `beforeDeletingSource` runs after the switch and before the old copy is deleted: ``Tenancy``
    /// closes this process's pool there, so the next scope opens on the new server.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound``, ``TenantedError/Code/invalidConfiguration``
    ///   for an unknown server or the tenant's own server, ``TenantedError/Code/storeFailure`` when the
    ///   copy or its verification failed (the tenant then stays where it was, writable again).
    func move(_ tenant: TenantID, to server: String, beforeDeletingSource: @Sendable () async throws -> Void) async throws -> TenantMoveReport
}

/// What ``Tenancy/moveTenant(_:to:)`` did.
public struct TenantMoveReport: Sendable, Hashable, Codable {
    /// The tenant moved.
    public let tenant: TenantID
    /// The server it was on.
    public let from: String
    /// The server it is on now.
    public let to: String
    /// The verified row count of every table copied, by table name.
    public let rowCounts: [String: Int]

    /// Creates a report.
    public init(tenant: TenantID, from: String, to: String, rowCounts: [String: Int]) {
        self.tenant = tenant
        self.from = from
        self.to = to
        self.rowCounts = rowCounts
    }
}
