import TenantedTestSupport
import Tenanted
import TenantedSQLite

/// The test schema, on the shipped plain-SQL migrator.
typealias SQLMigrator = SQLiteMigrator

extension SQLiteMigrator {
    /// Builds a migrator from names known to be valid and distinct.
    init(valid migrations: [Migration]) {
        do { try self.init(migrations) } catch { preconditionFailure("test migrations are valid: \(error)") }
    }

    /// The migrations of the test schema: `notes`, then `tags`.
    static let base = SQLiteMigrator(valid: [
        Migration(name: "001_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"]),
        Migration(name: "002_tags", statements: ["CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"]),
    ])

    /// ``base`` plus one more migration.
    static let extended = SQLiteMigrator(
        valid: base.migrations + [
            Migration(name: "003_note_tags", statements: ["ALTER TABLE notes ADD COLUMN tag_id INTEGER REFERENCES tags(id)"])
        ]
    )
}
