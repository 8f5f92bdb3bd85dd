/// The store, migrator and seed of a ``Tenancy``, behind one interface whose pools are type-erased.
///
/// ``Tenancy`` is not generic; its initializer wraps the typed store in a ``TypedBackend`` once, and
/// every pool that crosses this interface was opened by that same store, so the casts back to the
/// store's `Pool` type cannot fail.
protocol TenancyBackend: Sendable {
    var store: any TenantStore { get }
    var hasMigrator: Bool { get }
    var hasSeed: Bool { get }
    var poolType: Any.Type { get }

    func open(_ tenant: TenantID) async throws -> any Sendable
    func close(_ pool: any Sendable) async
    func isCurrent(_ pool: any Sendable) -> Bool
    func migrationStamp(of pool: any Sendable) -> TenantMigrationStamp?
    func migrationsReverted(_ tenant: TenantID) async
    func create(_ tenant: TenantID, prepare: (any Sendable) async throws -> Void) async throws
    func seed(_ tenant: TenantID, pool: any Sendable) async throws

    func pendingMigrations(on pool: any Sendable, tenant: TenantID) async throws -> [String]
    func appliedMigrations(on pool: any Sendable, tenant: TenantID) async throws -> [String]
    func migrate(_ pool: any Sendable, tenant: TenantID) async throws -> [String]
    func revertLastBatch(_ pool: any Sendable, tenant: TenantID) async throws -> [String]

    // Tenant operations (Tenancy+Operations.swift)
    var registeredMigrations: [String]? { get }
    func openIgnoringSuspension(_ tenant: TenantID) async throws -> any Sendable
    /// A pool for one short read (``ReadPoolStore``), or `nil` when the store has no cheaper way
    /// than ``open(_:)``.
    func openForReading(_ tenant: TenantID) async throws -> (any Sendable)?
    func create(
        _ tenant: TenantID, fromTemplate key: String, build: @escaping (any Sendable) async throws -> Void,
        prepare: ((any Sendable) async throws -> Void)?
    ) async throws
    func restore(_ tenant: TenantID, from archive: TenantBackupArchive, replace: Bool, prepare: (any Sendable) async throws -> Void) async throws
}

/// The one ``TenancyBackend``: a store with its typed migrator and seed.
struct TypedBackend<Store: TenantStore>: TenancyBackend {
    let typedStore: Store
    let migrator: (any TenantMigrator<Store.Pool>)?
    let typedSeed: TenantSeed<Store.Pool>?

    var store: any TenantStore { typedStore }
    var hasMigrator: Bool { migrator != nil }
    var hasSeed: Bool { typedSeed != nil }
    var poolType: Any.Type { Store.Pool.self }

    private func typed(_ pool: any Sendable) -> Store.Pool {
        // Every erased pool came from `typedStore.open` or `typedStore.create`: a pool of another type
        // here is a bug in Tenanted, never caller input.
        guard let typed = pool as? Store.Pool else {
            preconditionFailure("Tenancy was handed a \(type(of: pool)), not its store's \(Store.Pool.self)")
        }
        return typed
    }

    func open(_ tenant: TenantID) async throws -> any Sendable { try await typedStore.open(tenant) }
    func close(_ pool: any Sendable) async { await typedStore.close(typed(pool)) }
    func isCurrent(_ pool: any Sendable) -> Bool { typedStore.isCurrent(typed(pool)) }
    func migrationStamp(of pool: any Sendable) -> TenantMigrationStamp? { typedStore.migrationStamp(of: typed(pool)) }
    func migrationsReverted(_ tenant: TenantID) async { await typedStore.migrationsReverted(tenant) }

    func create(_ tenant: TenantID, prepare: (any Sendable) async throws -> Void) async throws {
        try await typedStore.create(tenant) { pool in try await prepare(pool) }
    }

    func seed(_ tenant: TenantID, pool: any Sendable) async throws {
        try await typedSeed?(tenant, typed(pool))
    }

    private func requireMigrator() throws(TenantedError) -> any TenantMigrator<Store.Pool> {
        guard let migrator else {
            throw TenantedError(.invalidConfiguration, "this Tenancy has no migrator; pass one to Tenancy(store:migrator:)")
        }
        return migrator
    }

    func pendingMigrations(on pool: any Sendable, tenant: TenantID) async throws -> [String] {
        try await requireMigrator().pendingMigrations(on: typed(pool), tenant: tenant)
    }

    func appliedMigrations(on pool: any Sendable, tenant: TenantID) async throws -> [String] {
        try await requireMigrator().appliedMigrations(on: typed(pool), tenant: tenant)
    }

    func migrate(_ pool: any Sendable, tenant: TenantID) async throws -> [String] {
        try await requireMigrator().migrate(typed(pool), tenant: tenant)
    }

    func revertLastBatch(_ pool: any Sendable, tenant: TenantID) async throws -> [String] {
        try await requireMigrator().revertLastBatch(typed(pool), tenant: tenant)
    }

    var registeredMigrations: [String]? { migrator?.registeredMigrations }

    func openIgnoringSuspension(_ tenant: TenantID) async throws -> any Sendable {
        try await typedStore.openIgnoringSuspension(tenant)
    }

    func openForReading(_ tenant: TenantID) async throws -> (any Sendable)? {
        guard let store = typedStore as? any ReadPoolStore else { return nil }
        return try await store.openForReading(tenant)
    }

    func create(
        _ tenant: TenantID, fromTemplate key: String, build: @escaping (any Sendable) async throws -> Void,
        prepare: ((any Sendable) async throws -> Void)?
    ) async throws {
        let template = TenantTemplate<Store.Pool>(key: key) { pool in try await build(pool) }
        let typedPrepare: ((Store.Pool) async throws -> Void)? = prepare.map { prepare in { pool in try await prepare(pool) } }
        try await typedStore.create(tenant, from: template, prepare: typedPrepare)
    }

    func restore(_ tenant: TenantID, from archive: TenantBackupArchive, replace: Bool, prepare: (any Sendable) async throws -> Void) async throws {
        try await typedStore.restore(tenant, from: archive, replace: replace) { pool in try await prepare(pool) }
    }
}

/// Runs on a new tenant after its migrations, inside the tenant's scope, before it becomes visible:
/// the `seed` of ``Tenancy/init(store:configuration:migrator:seed:delegate:logger:metricsFactory:)``.
public typealias TenantSeed<Pool> = @Sendable (TenantID, Pool) async throws -> Void
