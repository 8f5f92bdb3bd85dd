import FluentKit
import NIOCore
import SQLKit
import Tenanted

/// The driver of a configuration that was never meant to be registered: every database fails.
struct UnroutableDriver: DatabaseDriver {
    let dialect: any SQLDialect

    func makeDatabase(with context: DatabaseContext) -> any Database {
        NoTenantDatabase(
            context: context, dialect: dialect,
            error: TenantedError(.invalidConfiguration, "a tenant database's configuration cannot be registered in Databases; register .tenanted(tenancy)")
        )
    }

    func shutdown() {}
}
