public import Tenanted
public import Vapor
import Logging

/// Resolves each request's tenant and runs the rest of the responder chain inside it.
///
/// For a request whose ``TenantResolver`` names a tenant, the middleware
/// 1. validates the name (an invalid one is a 404, and reaches no path or database),
/// 2. stores the tenant in `req.storage` (``Vapor/Request/tenant``) and sets `tenant` in `req.logger`'s
///    metadata (log lines are tagged, and the Fluent routing database uses it when a future-based
///    layer has dropped the task-local),
/// 3. runs the rest of the chain inside `tenancy.withTenant(_:prohibitingSwitches: true)`: `req.db` is
///    the tenant's database, and switching to another tenant inside the request throws
///    `switchProhibited`. An unknown tenant is a 404.
///
/// A request that names no tenant continues **untenanted**: tenanted routes then fail with
/// `noTenant`, which ``Tenanted/TenantedError`` maps to 404 (never a 500, never a default database).
///
/// ## Placement
///
/// Install it at route-group level, after (inside) any middleware that calls `next` from a future
/// callback, such as `SessionsMiddleware`:
///
/// ```swift
/// let tenanted = app.grouped(app.sessions.middleware).grouped(TenantMiddleware(resolver: .subdomain(of: "example.com")))
/// tenanted.get("notes") { req in try await Note.query(on: req.db).all() }
/// ```
///
/// Innermost is also cheapest: an `async` handler directly inside the middleware runs in the
/// middleware's own task; with other middleware between them, Vapor reaches the handler through its
/// future, in a task of its own.
///
/// Task-locals do not survive a future callback. Placed *before* such a middleware, the handler runs
/// without the task-local lease; the routing database then falls back to `req.logger`'s `tenant`
/// metadata and leases the tenant per query, so queries still reach the right tenant, but
/// `Tenant.current` is `nil` in the handler and code that needs it fails closed with `noTenant`.
public struct TenantMiddleware: AsyncMiddleware {
    let tenancy: (Tenancy)?
    let resolver: TenantResolver

    /// A middleware using the tenancy configured with `app.tenanted.use(_:)`.
    public init(resolver: TenantResolver) {
        self.tenancy = nil
        self.resolver = resolver
    }

    /// A middleware for an explicit tenancy.
    public init(tenancy: Tenancy, resolver: TenantResolver) {
        self.tenancy = tenancy
        self.resolver = resolver
    }

    /// The entry Vapor calls. Unlike `AsyncMiddleware`'s default, which reaches the next responder
    /// through its `EventLoopFuture` API, an `async` route handler directly inside this middleware
    /// (the usual placement) is awaited in this middleware's task: one task per request instead of
    /// two, and no round trip through the event loop between them. Any other next responder (more
    /// middleware, a synchronous handler) is reached through its future, as before.
    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let asynchronous = (next as? any AsyncResponder) ?? AsyncBasicResponder { try await next.respond(to: $0).get() }
        let promise = request.eventLoop.makePromise(of: Response.self)
        promise.completeWithTask { try await self.respond(to: request, chainingTo: asynchronous) }
        return promise.futureResult
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let candidate = resolver.candidate(for: request) else {
            return try await next.respond(to: request)
        }
        guard let tenant = try? TenantID(candidate) else {
            request.logger.debug("request names an invalid tenant")
            throw TenantNotFound()
        }
        let tenancy = try self.tenancy ?? request.application.tenanted.requireTenancy()
        request.storage[TenantStorageKey.self] = tenant
        // The request API (`req.withTenant`, websockets) re-enters this tenancy, not the app's default.
        request.storage[TenancyStorageKey.self] = tenancy
        request.logger[metadataKey: Logger.tenantMetadataKey] = "\(tenant)"
        do {
            return try await tenancy.withTenant(tenant, prohibitingSwitches: true, isolation: nil) {
                try await next.respond(to: request)
            }
        } catch let error as TenantedError where error.code == .tenantNotFound && error.tenant == tenant {
            throw TenantNotFound()
        } catch let error as TenantedError where error.code == .pendingMigrations && error.tenant == tenant {
            await tenancy.logPendingMigrations(error, of: tenant, logger: request.logger)
            throw error
        }
    }
}
