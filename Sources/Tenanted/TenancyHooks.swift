/// Code of yours that runs around a tenant's lifecycle: before and after create, destroy and migrate,
/// and on entering a tenant.
///
/// ```swift
/// var configuration = Tenancy.Configuration()
/// configuration.hooks.refuseNames(["www", "admin", "api"])
/// configuration.hooks.afterCreate { tenant in await welcomeMail.send(to: tenant) }
/// let tenancy = try Tenancy(store: store, configuration: configuration)
/// ```
///
/// A `before…` hook that throws stops the operation before anything was changed, and its error
/// reaches the caller. An `after…` hook runs once the operation succeeded; if it throws, the caller
/// gets its error, but the operation is not undone. Hooks run in the order they were added. With no
/// hooks, a tenancy pays one empty-array check per operation.
public struct TenancyHooks: Sendable {
    /// A hook that is told the tenant.
    public typealias Hook = @Sendable (TenantID) async throws -> Void
    /// A hook that is told the tenant and the migrations applied.
    public typealias MigrationHook = @Sendable (TenantID, [String]) async throws -> Void

    var beforeCreate: [Hook] = []
    var afterCreate: [Hook] = []
    var beforeDestroy: [Hook] = []
    var afterDestroy: [Hook] = []
    var beforeMigrate: [Hook] = []
    var afterMigrate: [MigrationHook] = []
    var onEnter: [Hook] = []

    /// No hooks.
    public init() {}

    /// Whether no hook is registered.
    public var isEmpty: Bool {
        beforeCreate.isEmpty && afterCreate.isEmpty && beforeDestroy.isEmpty && afterDestroy.isEmpty
            && beforeMigrate.isEmpty && afterMigrate.isEmpty && onEnter.isEmpty
    }

    /// Runs before a tenant is created; throw to refuse the tenant (nothing is created).
    public mutating func beforeCreate(_ hook: @escaping Hook) { beforeCreate.append(hook) }
    /// Runs after a tenant was created, migrated, seeded and made visible.
    public mutating func afterCreate(_ hook: @escaping Hook) { afterCreate.append(hook) }
    /// Runs before a tenant is destroyed, before the destroy waits for this process's scopes of the
    /// tenant to end (so it can end long-lived ones, such as live sockets); throw to keep the tenant.
    public mutating func beforeDestroy(_ hook: @escaping Hook) { beforeDestroy.append(hook) }
    /// Runs after a tenant's database was deleted.
    public mutating func afterDestroy(_ hook: @escaping Hook) { afterDestroy.append(hook) }
    /// Runs before pending migrations are applied to an existing tenant (``Tenancy/migrate(_:)``,
    /// ``Tenancy/migrateAll(maximumConcurrency:progress:)`` and auto-migration); throw to skip it.
    public mutating func beforeMigrate(_ hook: @escaping Hook) { beforeMigrate.append(hook) }
    /// Runs after migrations were applied to an existing tenant, with their names.
    public mutating func afterMigrate(_ hook: @escaping MigrationHook) { afterMigrate.append(hook) }
    /// Runs when a scope enters a tenant and takes a lease on its pool (a nested scope of the same
    /// tenant does not run it again), inside the tenant's scope and before the body; throw to refuse
    /// the scope. It runs on every request, so keep it cheap.
    public mutating func onEnter(_ hook: @escaping Hook) { onEnter.append(hook) }

    /// Refuses to create tenants named `names` (for example names that are also subdomains of your
    /// own: `www`, `admin`, `api`), with ``TenantedError/Code/badTenantName``.
    public mutating func refuseNames(_ names: Set<String>) {
        let reserved = Set(names.map { $0.lowercased() })
        beforeCreate { tenant in
            if reserved.contains(tenant.rawValue) {
                throw TenantedError(.badTenantName, "tenant name '\(tenant)' is reserved", tenant: tenant)
            }
        }
    }

    static func run(_ hooks: [Hook], _ tenant: TenantID) async throws {
        for hook in hooks { try await hook(tenant) }
    }
}
