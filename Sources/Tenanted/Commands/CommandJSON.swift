/// `tenants status --json`: one object per tenant.
struct StatusJSON: Encodable {
    let tenant: String
    let applied: [String]
    let pending: [String]
    let suspended: Bool

    init(_ status: MigrationStatus, suspended: Bool) {
        tenant = status.tenant.description
        applied = status.applied
        pending = status.pending
        self.suspended = suspended
    }
}

/// `tenants migrate --json` and `tenants rollback --json`: whether every tenant succeeded, and each
/// tenant's outcome.
struct ReportJSON: Encodable {
    struct Entry: Encodable {
        let tenant: String
        let outcome: String
        let migrations: [String]
        let error: String?
    }

    let succeeded: Bool
    let results: [Entry]

    init(_ report: MigrationReport) {
        succeeded = report.succeeded
        results = report.results.map { result in
            switch result.outcome {
            case .migrated(let names): Entry(tenant: result.tenant.description, outcome: "migrated", migrations: names, error: nil)
            case .reverted(let names): Entry(tenant: result.tenant.description, outcome: "reverted", migrations: names, error: nil)
            case .current: Entry(tenant: result.tenant.description, outcome: "current", migrations: [], error: nil)
            case .failed(let error): Entry(tenant: result.tenant.description, outcome: "failed", migrations: [], error: error.description)
            }
        }
    }
}
