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
    func create(_ tenant: TenantID, prepare: (any Sendable) async throws -> Void) async throws
    func seed(_ tenant: TenantID, pool: any Sendable) async throws

    func pendingMigrations(on pool: any Sendable, tenant: TenantID) async throws -> [String]
    func appliedMigrations(on pool: any Sendable, tenant: TenantID) async throws -> [String]
    func migrate(_ pool: any Sendable, tenant: TenantID) async throws -> [String]
    func revertLastBatch(_ pool: any Sendable, tenant: TenantID) async throws -> [String]
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
        // Every erased pool came from `typedStore.open` or `typedStore.create`.
        pool as! Store.Pool
    }

    func open(_ tenant: TenantID) async throws -> any Sendable { try await typedStore.open(tenant) }
    func close(_ pool: any Sendable) async { await typedStore.close(typed(pool)) }
    func isCurrent(_ pool: any Sendable) -> Bool { typedStore.isCurrent(typed(pool)) }

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
}

/// Runs on a new tenant after its migrations, inside the tenant's scope, before it becomes visible:
/// the `seed` of ``Tenancy/init(store:configuration:migrator:seed:delegate:logger:metricsFactory:)``.
public typealias TenantSeed<Pool> = @Sendable (TenantID, Pool) async throws -> Void
