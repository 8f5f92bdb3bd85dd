import FluentKit
import NIOCore
import Tenanted

/// A registered migration whose failure names it and the tenant.
struct NamedFailureMigration: Migration {
    let base: any Migration
    let tenant: TenantID

    var name: String { base.name }

    func prepare(on database: any Database) -> EventLoopFuture<Void> {
        base.prepare(on: database).flatMapErrorThrowing { error in throw failure("migration", error) }
    }

    func revert(on database: any Database) -> EventLoopFuture<Void> {
        base.revert(on: database).flatMapErrorThrowing { error in throw failure("reverting migration", error) }
    }

    private func failure(_ what: String, _ error: any Error) -> TenantedError {
        TenantedError(.migrationFailed, "\(what) '\(base.name)' of tenant '\(tenant)' failed", tenant: tenant, underlying: error)
    }
}
