extension TenantCommands {
    /// `tenants migrate [--tenant NAME] [--parallel N] [--json]`: applies pending migrations to one
    /// tenant or every tenant (with a progress bar on a terminal), prints each tenant's result and a
    /// summary, and fails when any tenant failed.
    public func migrate(tenant: String?, parallel: Int?, json: Bool) async throws {
        try await reportingFailures {
            try await runReport(tenant: tenant, parallel: parallel, json: json, verb: "migrated") { tenancy, tenant in
                let applied = try await tenancy.migrate(tenant)
                return applied.isEmpty ? .current : .migrated(applied)
            } all: { tenancy, parallel, progress in
                try await tenancy.migrateAll(maximumConcurrency: parallel, progress: progress)
            }
        }
    }

    /// `tenants rollback [--tenant NAME] [--parallel N] [--json]`: reverts the last batch of one
    /// tenant or every tenant, reported like ``migrate(tenant:parallel:json:)``.
    public func rollback(tenant: String?, parallel: Int?, json: Bool) async throws {
        try await reportingFailures {
            try await runReport(tenant: tenant, parallel: parallel, json: json, verb: "reverted") { tenancy, tenant in
                let reverted = try await tenancy.rollback(tenant)
                return reverted.isEmpty ? .current : .reverted(reverted)
            } all: { tenancy, parallel, progress in
                try await tenancy.rollbackAll(maximumConcurrency: parallel, progress: progress)
            }
        }
    }

    /// Runs a migrate or rollback over one tenant or all, prints the report, throws when any failed.
    private func runReport(
        tenant option: String?,
        parallel: Int?,
        json: Bool,
        verb: String,
        one: (Tenancy, TenantID) async throws -> TenantMigrationResult.Outcome,
        all: (Tenancy, Int?, (@Sendable (MigrationProgress) -> Void)?) async throws -> MigrationReport
    ) async throws {
        if let parallel, parallel < 1 {
            throw TenantedError(.invalidConfiguration, "--parallel must be at least 1, got \(parallel)")
        }
        let report: MigrationReport
        if let tenant = try selectedTenant(option) {
            do {
                report = MigrationReport(results: [TenantMigrationResult(tenant: tenant, outcome: try await one(tenancy, tenant))])
            } catch let error as TenantedError where error.code != .tenantNotFound && error.code != .invalidConfiguration {
                report = MigrationReport(results: [TenantMigrationResult(tenant: tenant, outcome: .failed(error))])
            }
        } else {
            let bar = ProgressBar(enabled: !json && output.errorIsTerminal, write: output.standardError)
            report = try await all(tenancy, parallel) { bar.update($0) }
            bar.finish()
        }
        if json {
            try printJSON(ReportJSON(report))
        } else {
            for result in report.results {
                switch result.outcome {
                case .failed(let error): printLine("FAILED \(result.tenant): \(error.description)")
                case .migrated(let names), .reverted(let names): printLine("\(verb) \(result.tenant): \(names.joined(separator: ", "))")
                case .current: break
                }
            }
            let changed = report.results.count - report.current.count - report.failures.count
            printLine("\(report.results.count) tenant(s): \(changed) \(verb), \(report.current.count) unchanged, \(report.failures.count) failed")
        }
        if !report.succeeded {
            let failed = "\(report.failures.count) of \(report.results.count) tenant(s) failed"
            output.standardError("error: \(failed)\n")
            throw TenantsCommandFailed(description: failed)
        }
    }
}

/// A one-line progress bar, redrawn in place.
final class ProgressBar: Sendable {
    let enabled: Bool
    let write: @Sendable (String) -> Void

    init(enabled: Bool, write: @escaping @Sendable (String) -> Void) {
        self.enabled = enabled
        self.write = write
    }

    func update(_ progress: MigrationProgress) {
        guard enabled, progress.total > 0 else { return }
        let width = 30
        let filled = progress.completed * width / progress.total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        write("\r[\(bar)] \(progress.completed)/\(progress.total)")
    }

    func finish() {
        if enabled { write("\n") }
    }
}
