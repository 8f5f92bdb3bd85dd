public import Tenanted
public import Vapor

extension Request {
    /// The application's cache (`req.cache`, any driver) seen through the request's tenant: every key
    /// is scoped to the tenant (``Tenanted/TenantCacheKey``), so two tenants' keys never collide.
    ///
    /// ```swift
    /// let count = try await req.tenantCache.get("note-count", as: Int.self)
    /// try await req.tenantCache.set("note-count", to: 42, expiresIn: .seconds(5))
    /// ```
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) when the request has no tenant.
    public var tenantCache: TenantCache {
        get throws { TenantCache(base: cache, tenant: try requireTenant()) }
    }
}

/// A cache whose keys belong to one tenant: what `req.tenantCache` returns.
public struct TenantCache: Cache {
    /// The cache underneath.
    public let base: any Cache
    /// The tenant whose keys these are.
    public let tenant: TenantID

    /// A view of `base` for `tenant`'s keys.
    public init(base: any Cache, tenant: TenantID) {
        self.base = base
        self.tenant = tenant
    }

    public func get<T: Decodable>(_ key: String, as type: T.Type) -> EventLoopFuture<T?> {
        base.get(TenantCacheKey.scoped(key, for: tenant), as: type)
    }

    public func set<T: Encodable>(_ key: String, to value: T?) -> EventLoopFuture<Void> {
        base.set(TenantCacheKey.scoped(key, for: tenant), to: value)
    }

    public func set<T: Encodable>(_ key: String, to value: T?, expiresIn expirationTime: CacheExpirationTime?) -> EventLoopFuture<Void> {
        base.set(TenantCacheKey.scoped(key, for: tenant), to: value, expiresIn: expirationTime)
    }

    public func `for`(_ request: Request) -> TenantCache {
        TenantCache(base: base.for(request), tenant: request.tenant ?? tenant)
    }
}
