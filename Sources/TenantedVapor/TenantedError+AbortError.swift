public import Tenanted
public import Vapor

extension TenantedError: AbortError {
    /// 404 for `noTenant`, `tenantNotFound`, `badTenantName`, `wrongTenant` and `badReference` (to a client, a record
    /// or tenant it cannot reach does not exist); 404 for `fileNotFound` and 400 for `badFileName`
    /// (a tenant file); 503 for `tenantSuspended`, `pendingMigrations`, `poolLimitReached` and
    /// `shutdown`; 500 otherwise.
    public var status: HTTPResponseStatus {
        HTTPResponseStatus(statusCode: httpStatusCode)
    }

    /// A short reason without tenant names or detail: `"tenant not found"` for the tenant 404s,
    /// `"file not found"` / `"invalid file name"` for tenant files, the status's phrase otherwise. For `pendingMigrations`, ``TenantMiddleware`` logs the full story
    /// (code, tenant, pending migration names, `tenants migrate`).
    public var reason: String {
        httpReason ?? status.reasonPhrase
    }

    /// `Retry-After` (``Tenanted/TenantedError/retryAfterSeconds``) for a suspended tenant; none otherwise.
    public var headers: HTTPHeaders {
        guard let seconds = retryAfterSeconds else { return [:] }
        return ["Retry-After": "\(seconds)"]
    }
}
