extension TenantedError {
    /// The HTTP status every web front end answers this error with: 404 for `noTenant`,
    /// `tenantNotFound`, `badTenantName`, `wrongTenant` and `badReference` (to a client, a record or
    /// tenant it cannot reach does not exist); 503 for `pendingMigrations`, `poolLimitReached` and
    /// `shutdown`; 500 otherwise. One table, so the Vapor and Hummingbird wings cannot disagree.
    package var httpStatusCode: Int {
        switch code {
        case .noTenant, .tenantNotFound, .badTenantName, .wrongTenant, .badReference: 404
        case .pendingMigrations, .poolLimitReached, .shutdown: 503
        default: 500
        }
    }
}
