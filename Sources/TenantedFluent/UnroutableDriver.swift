import FluentKit
import NIOCore
import SQLKit
import Tenanted

/// The driver of a configuration that cannot route: every database it makes fails with `error`.
struct UnroutableDriver: DatabaseDriver {
    let dialect: any SQLDialect
    var error = TenantedError(
        .invalidConfiguration,
        "a tenant database's configuration cannot be registered in Databases; register .tenanted(tenancy)"
    )

    func makeDatabase(with context: DatabaseContext) -> any Database {
        NoTenantDatabase(context: context, dialect: dialect, error: error)
    }

    func shutdown() {}
}

/// What `.tenanted(tenancy)` registers when the tenancy's store has no Fluent adapter: every
/// operation fails with the configuration error instead of touching any database.
struct UnroutableConfiguration: DatabaseConfiguration {
    let error: TenantedError
    var middleware: [any AnyModelMiddleware] = []

    func makeDriver(for databases: Databases) -> any DatabaseDriver {
        UnroutableDriver(dialect: UnconfiguredDialect(), error: error)
    }
}

/// The dialect of a database that runs nothing: every statement fails before it is sent.
struct UnconfiguredDialect: SQLDialect {
    var name: String { "unconfigured" }
    var identifierQuote: any SQLExpression { SQLRaw("\"") }
    var supportsAutoIncrement: Bool { false }
    var autoIncrementClause: any SQLExpression { SQLRaw("") }
    func bindPlaceholder(at position: Int) -> any SQLExpression { SQLRaw("?") }
    func literalBoolean(_ value: Bool) -> any SQLExpression { SQLRaw(value ? "TRUE" : "FALSE") }
}
