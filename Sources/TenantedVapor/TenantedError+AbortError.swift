public import Tenanted
public import Vapor

extension TenantedError: AbortError {
    /// 404 for `noTenant`, `tenantNotFound`, `badTenantName`, `wrongTenant` and `badReference` (to a client, a record
    /// or tenant it cannot reach does not exist); 503 for `tenantSuspended`, `pendingMigrations`,
    /// `poolLimitReached` and `shutdown`; 500 otherwise.
    public var status: HTTPResponseStatus {
        switch code {
        case .noTenant, .tenantNotFound, .badTenantName, .wrongTenant, .badReference: .notFound
        case .tenantSuspended, .pendingMigrations, .poolLimitReached, .shutdown: .serviceUnavailable
        default: .internalServerError
        }
    }

    /// A short reason without tenant names or detail: `"tenant not found"` for the 404s,
    /// `"tenant suspended for maintenance"` for a suspended tenant, the status's phrase otherwise.
    /// For `pendingMigrations`, ``TenantMiddleware`` logs the full story (code, tenant, pending
    /// migration names, `tenants migrate`).
    public var reason: String {
        if code == .tenantSuspended { return "tenant suspended for maintenance" }
        return status == .notFound ? "tenant not found" : status.reasonPhrase
    }

    /// `Retry-After` (``Tenanted/TenantedError/retryAfterSeconds``) for a suspended tenant; none otherwise.
    public var headers: HTTPHeaders {
        guard let seconds = retryAfterSeconds else { return [:] }
        return ["Retry-After": "\(seconds)"]
    }
}
