public import Hummingbird
public import Tenanted

/// A view of a Hummingbird ``Hummingbird/PersistDriver`` (memory, Redis/Valkey, PostgreSQL…) whose
/// keys belong to one tenant: every key is scoped with ``Tenanted/TenantCacheKey`` (a length-delimited
/// prefix), so two tenants' keys never collide, whatever the keys contain.
///
/// Get one for the request's tenant from the context, inside a route behind ``TenantMiddleware``:
///
/// ```swift
/// let persist = MemoryPersistDriver()
/// router.get("stats") { _, context in
///     let cache = try context.tenantPersist(persist)
///     if let count = try await cache.get(key: "notes-count", as: Int.self) { return "\(count)" }
///     try await cache.set(key: "notes-count", value: 42, expires: .seconds(5))
///     return "42"
/// }
/// ```
///
/// or for any tenant with ``init(_:tenant:)``, or for the current task-local tenant with ``init(_:)``.
///
/// The view is a `Service` like its base: its `run()` runs the base. Add the base or the view to
/// the app's services, not both.
public struct TenantPersistDriver<Base: PersistDriver>: PersistDriver {
    /// The driver underneath, which holds every tenant's keys.
    public let base: Base
    /// The tenant whose keys this view reads and writes; `nil` for the current task-local tenant
    /// (``Tenanted/Tenant/current``) at each call.
    public let tenant: TenantID?

    /// A view of `base` for `tenant`'s keys.
    public init(_ base: Base, tenant: TenantID) {
        self.base = base
        self.tenant = tenant
    }

    /// A view of `base` for the keys of whichever tenant is current at each call; outside every
    /// tenant scope each call throws ``Tenanted/TenantedError/Code/noTenant``.
    public init(_ base: Base) {
        self.base = base
        self.tenant = nil
    }

    /// The key `key` of this view's tenant in ``base``.
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` when the view follows the current tenant
    ///   and there is none.
    public func scoped(_ key: String) throws(TenantedError) -> String {
        if let tenant { return TenantCacheKey.scoped(key, for: tenant) }
        return try TenantCacheKey.scoped(key)
    }

    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await base.create(key: try scoped(key), value: value, expires: expires)
    }

    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await base.set(key: try scoped(key), value: value, expires: expires)
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await base.get(key: try scoped(key), as: type)
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        try await base.getWithTTL(key: try scoped(key), as: type)
    }

    public func remove(key: String) async throws {
        try await base.remove(key: try scoped(key))
    }

    /// Shuts the base driver down.
    public func shutdown() async throws {
        try await base.shutdown()
    }

    /// Runs the base driver (its tidying, its connection) until graceful shutdown.
    public func run() async throws {
        try await base.run()
    }
}
