extension TenantedError {
    /// The HTTP status every web front end answers this error with: 404 for `noTenant`,
    /// `tenantNotFound`, `badTenantName`, `wrongTenant` and `badReference` (to a client, a record or
    /// tenant it cannot reach does not exist); 404 for `fileNotFound` and 400 for `badFileName` (a
    /// tenant file); 503 for `tenantSuspended` (with ``retryAfterSeconds`` for a `Retry-After` header),
    /// `pendingMigrations`, `poolLimitReached` and `shutdown`; 500 otherwise.
    /// One table, so the Vapor and Hummingbird wings cannot disagree.
    package var httpStatusCode: Int {
        switch code {
        case .noTenant, .tenantNotFound, .badTenantName, .wrongTenant, .badReference, .fileNotFound: 404
        case .badFileName: 400
        case .tenantSuspended, .pendingMigrations, .poolLimitReached, .shutdown: 503
        default: 500
        }
    }

    /// The short reason a client is told, with no tenant name, path or server message:
    /// `"tenant not found"` for the tenant 404s, `"file not found"` and `"invalid file name"` for
    /// tenant files, `"tenant suspended for maintenance"` for a suspended tenant (never the operator's
    /// reason), `nil` for the status's own reason phrase.
    package var httpReason: String? {
        switch code {
        case .fileNotFound: "file not found"
        case .badFileName: "invalid file name"
        case .tenantSuspended: "tenant suspended for maintenance"
        default: httpStatusCode == 404 ? "tenant not found" : nil
        }
    }
}
