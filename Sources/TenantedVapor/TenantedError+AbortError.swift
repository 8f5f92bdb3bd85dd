public import Tenanted
public import Vapor

extension TenantedError: AbortError {
    /// 404 for `noTenant`, `tenantNotFound`, `badTenantName`, `wrongTenant` and `badReference` (to a client, a record
    /// or tenant it cannot reach does not exist); 404 for `fileNotFound` and 400 for `badFileName`
    /// (a tenant file); 503 for `pendingMigrations`, `poolLimitReached` and `shutdown`; 500 otherwise.
    public var status: HTTPResponseStatus {
        switch code {
        case .noTenant, .tenantNotFound, .badTenantName, .wrongTenant, .badReference, .fileNotFound: .notFound
        case .badFileName: .badRequest
        case .pendingMigrations, .poolLimitReached, .shutdown: .serviceUnavailable
        default: .internalServerError
        }
    }

    /// A short reason without tenant names or detail: `"tenant not found"` for the 404s, the
    /// status's phrase otherwise. For `pendingMigrations`, ``TenantMiddleware`` logs the full story
    /// (code, tenant, pending migration names, `tenants migrate`).
    public var reason: String {
        switch code {
        case .fileNotFound: "file not found"
        case .badFileName: "invalid file name"
        default: status == .notFound ? "tenant not found" : status.reasonPhrase
        }
    }
}
