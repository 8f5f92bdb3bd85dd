public import Hummingbird
public import HummingbirdWebSocket
public import Tenanted

/// A request context that carries the request's tenant: adopt it in your own context so
/// ``TenantMiddleware`` can record the tenant it resolved (the shape of hummingbird-auth's
/// `AuthRequestContext`).
///
/// ```swift
/// struct AppContext: TenantRequestContext {
///     var coreContext: CoreRequestContextStorage
///     var tenant: TenantID?
///     init(source: Source) {
///         coreContext = .init(source: source)
///         tenant = nil
///     }
/// }
/// ```
///
/// Apps without a context of their own use ``BasicTenantRequestContext``.
public protocol TenantRequestContext: RequestContext {
    /// The tenant ``TenantMiddleware`` resolved for this request; `nil` when it names none.
    var tenant: TenantID? { get set }
}

extension TenantRequestContext {
    /// The request's tenant.
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) when the request names none.
    public func requireTenant() throws(TenantedError) -> TenantID {
        guard let tenant else { throw TenantedError(.noTenant, "this request names no tenant") }
        return tenant
    }

    /// The request's tenant's open pool, without a lookup: the lease ``TenantMiddleware`` holds for
    /// the request. `SQLitePool` on the SQLite store, `PostgresTenantPool` (whose `withConnection`
    /// lends the PostgreSQL client's connections) on the PostgreSQL stores, `MySQLTenantPool` (whose
    /// `withConnection` lends a MariaDB connection) on the MySQL store.
    ///
    /// ```swift
    /// router.get("notes") { _, context in
    ///     try await context.tenantPool(as: SQLitePool.self).read { try await $0.query("SELECT …") }
    /// }
    /// ```
    ///
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) outside a tenant: the request
    ///   names none, or the handler runs outside the middleware's scope (a detached task);
    ///   ``Tenanted/TenantedError/Code/misuse`` (a 500) when the tenancy's pools are not `Pool`s.
    public func tenantPool<Pool>(as type: Pool.Type = Pool.self) throws(TenantedError) -> Pool {
        _ = try requireTenant()
        return try Tenant.currentPool(as: Pool.self)
    }
}

/// A request context with a tenant and WebSocket support, for apps that have no context of their own.
///
/// ```swift
/// let router = Router(context: BasicTenantRequestContext.self)
/// ```
public struct BasicTenantRequestContext: TenantRequestContext, WebSocketRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The tenant ``TenantMiddleware`` resolved, or `nil`.
    public var tenant: TenantID?
    /// Where a WebSocket route hands its handler to the upgrade.
    public let webSocket: WebSocketHandlerReference<Self>

    /// A context for a request from `source`, with no tenant yet.
    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.tenant = nil
        self.webSocket = .init()
    }
}
