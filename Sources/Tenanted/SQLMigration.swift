/// One named step of a tenant schema written in plain SQL, for the stores' SQL migrators
/// (``SQLTenantMigrator``: SQLite, PostgreSQL and MySQL each have one): what an app without an
/// ORM migrates its tenants with.
public struct SQLMigration: Sendable, Hashable {
    /// The migration's name, recorded once applied. Never rename an applied migration.
    public var name: String
    /// The SQL statements that apply it, run in order in one transaction.
    public var statements: [String]
    /// The SQL statements that revert it, run in order in one transaction; `nil` when it cannot be
    /// rolled back (a rollback that reaches it then fails with
    /// ``TenantedError/Code/invalidConfiguration`` and changes nothing).
    public var revert: [String]?

    /// Creates a migration; `revert` defaults to `nil` (no down steps).
    public init(name: String, statements: [String], revert: [String]? = nil) {
        self.name = name
        self.statements = statements
        self.revert = revert
    }

    /// Checks a migration list: no empty name, no name twice.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` naming the offending migration.
    public static func validate(_ migrations: [SQLMigration]) throws(TenantedError) {
        var seen: Set<String> = []
        for migration in migrations {
            if migration.name.isEmpty {
                throw TenantedError(.invalidConfiguration, "a migration has an empty name")
            }
            if !seen.insert(migration.name).inserted {
                throw TenantedError(.invalidConfiguration, "two migrations are named '\(migration.name)'")
            }
        }
    }

    /// The applied migrations of the last batch, newest first, each with its revert statements.
    /// - Parameters:
    ///   - names: the names recorded in the last batch.
    ///   - migrations: the registered migrations, in order.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` when one is not registered or has no
    ///   down steps.
    public static func reverting(_ names: Set<String>, of migrations: [SQLMigration], tenant: TenantID) throws(TenantedError) -> [(name: String, statements: [String])] {
        let known = Set(migrations.map(\.name))
        if let unknown = names.sorted().first(where: { !known.contains($0) }) {
            throw TenantedError(.invalidConfiguration, "cannot roll back tenant '\(tenant)': migration '\(unknown)' is applied but not registered", tenant: tenant)
        }
        var steps: [(name: String, statements: [String])] = []
        for migration in migrations.reversed() where names.contains(migration.name) {
            guard let revert = migration.revert else {
                throw TenantedError(.invalidConfiguration, "cannot roll back tenant '\(tenant)': migration '\(migration.name)' has no down steps", tenant: tenant)
            }
            steps.append((migration.name, revert))
        }
        return steps
    }
}
