public import Hummingbird
import Logging
public import Tenanted

/// Resolves each request's tenant with a shared ``Tenanted/TenantResolver`` and runs the rest of the
/// chain inside it.
///
/// For a request whose resolver names a tenant, the middleware
/// 1. validates the name: an invalid one is a 404 with `{"error": "tenant not found"}`, and reaches
///    no path or database (the body never echoes the host);
/// 2. sets `context.tenant`, and the `tenant` metadata of `context.logger` unless the logger's
///    metadata provider already adds it (``Logging/Logger/MetadataProvider/tenanted``, which reads the
///    tenant of the current scope: then the log lines are tagged without copying the metadata);
/// 3. runs the rest of the chain inside `tenancy.withTenant(_:prohibitingSwitches: true)`: the
///    handler reaches the tenant's pool with ``TenantRequestContext/tenantPool(as:)`` and switching
///    to another tenant inside the request throws `switchProhibited`. An unknown tenant is the same 404.
///
/// A request that names no tenant continues **untenanted**: `context.tenant` is `nil`, and
/// ``TenantRequestContext/requireTenant()`` and ``TenantRequestContext/tenantPool(as:)`` throw
/// `noTenant`, a 404 (never a default database).
///
/// ## Placement
///
/// Add it to the router or group whose routes are tenanted, **before** those routes are added, and
/// before any middleware that needs the tenant:
///
/// ```swift
/// let router = Router(context: BasicTenantRequestContext.self)
/// router.get("health") { _, _ in "ok" }                     // untenanted
/// let notes = router.group("notes").add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: "example.com")))
/// notes.get { _, context in try await listNotes(context.tenantPool(as: SQLitePool.self)) }
/// ```
///
/// Hummingbird applies a middleware only to the routes added after it. A route added before the
/// middleware runs without it: `context.tenant` is `nil` and the handler's tenant access fails closed
/// with `noTenant`, a 404, whatever the host says.
public struct TenantMiddleware<Context: TenantRequestContext>: RouterMiddleware {
    let tenancy: Tenancy
    let resolver: TenantResolver

    /// A middleware resolving requests with `resolver` in `tenancy`.
    public init(tenancy: Tenancy, resolver: TenantResolver) {
        self.tenancy = tenancy
        self.resolver = resolver
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let candidate = resolver.candidate(for: request) else {
            return try await next(request, context)
        }
        guard let tenant = try? TenantID(candidate) else {
            context.logger.debug("request names an invalid tenant")
            return TenantNotFound.response
        }
        var context = context
        context.tenant = tenant
        do {
            return try await tenancy.withTenant(tenant, prohibitingSwitches: true, isolation: nil) {
                // Tagged only when the log handler does not already add the tenant from the task-local
                // (`Logger.MetadataProvider.tenanted`): setting metadata copies the logger's metadata,
                // and some handlers (swift-log's `StreamLogHandler`) re-render all of it on each set.
                if !Self.providesTenant(context.logger, tenant) {
                    context.logger[metadataKey: Logger.tenantMetadataKey] = "\(tenant)"
                }
                return try await next(request, context)
            }
        } catch let error as TenantedError where error.code == .tenantNotFound && error.tenant == tenant {
            return TenantNotFound.response
        } catch let error as TenantedError where error.code == .pendingMigrations && error.tenant == tenant {
            // Outside the tenant's scope: the provider no longer sees it, so the line is tagged here.
            var logger = context.logger
            logger[metadataKey: Logger.tenantMetadataKey] = "\(tenant)"
            await tenancy.logPendingMigrations(error, of: tenant, logger: logger)
            throw error
        }
    }

    /// Whether `logger`'s metadata provider, called inside `tenant`'s scope, already adds `tenant`
    /// to every line (as ``Logging/Logger/MetadataProvider/tenanted`` does).
    static func providesTenant(_ logger: Logger, _ tenant: TenantID) -> Bool {
        guard let provider = logger.metadataProvider else { return false }
        return provider.get()[Logger.tenantMetadataKey] == .string(tenant.rawValue)
    }
}

/// The 404 for a request whose tenant is invalid or unknown; says nothing about the name.
enum TenantNotFound {
    static var response: Response {
        TenantedError.jsonResponse(status: .notFound, message: "tenant not found")
    }
}
