package import Logging

extension Tenancy {
    /// Logs what an operator needs to fix a `pendingMigrations` 503: the code, the tenant, the names
    /// of the pending migrations and the command that applies them. Every web front end's
    /// middleware calls it; the client gets only "Service Unavailable".
    ///
    /// The names come from the tenant's migration log (``migrationStatus(_:)``, on a pool of its
    /// own): a read per failed request, only while the tenant is behind.
    package func logPendingMigrations(_ error: TenantedError, of tenant: TenantID, logger: Logger) async {
        let pending = (try? await migrationStatus(tenant).pending) ?? []
        // Without the names (the log could not be read), the error's own message: the first name and the count.
        let what = pending.isEmpty
            ? error.message
            : "tenant '\(tenant)' has \(pending.count) pending migration(s): \(pending.joined(separator: ", "))"
        logger.error(
            "\(error.code): \(what); run `tenants migrate` to apply them (requests get 503 until then)",
            metadata: ["code": "\(error.code)", "pending": .array(pending.map { .string($0) })]
        )
    }
}
