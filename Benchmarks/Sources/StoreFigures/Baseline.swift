import BenchmarkSupport
import Logging
import SQLiteNIO

/// The raw sqlite-nio side of every figure: the same work as Tenanted, done by hand on a bare
/// `SQLiteConnection` (same SQLite, same `NIOThreadPool.singleton`, same PRAGMAs, same `file:` URI
/// with `mode=rw` / `mode=rwc`), without pools, leases, ready-locks or migration checks.
struct Baseline {
    let logger: Logger

    /// Opens `path` and applies `BenchmarkSchema.pragmas`.
    func open(_ path: String, create: Bool = false) async throws -> SQLiteConnection {
        let uri = "file:" + Self.uriEscaped(path) + (create ? "?mode=rwc" : "?mode=rw")
        return try await SQLiteConnection.openApplyingPragmas(path: uri, logger: logger)
    }

    /// `cold_open`: open, PRAGMAs, read the migration table, select one task, close.
    func coldOpen(_ path: String, taskID: Int) async throws {
        let connection = try await open(path)
        try await connection.closingOnError {
            let applied = try await connection.query(Schema.readMigrations)
            guard applied.count == BenchmarkSchema.migrations.count else {
                throw BenchmarkError(
                    "expected \(BenchmarkSchema.migrations.count) applied migrations, read \(applied.count)")
            }
            try await Schema.selectTask(connection, id: taskID)
        }
        try await connection.close()
    }

    /// `create_tenant`: new file, PRAGMAs, the migration table, the five migrations' DDL and their
    /// records in one transaction, close.
    func createTenant(_ path: String) async throws {
        let connection = try await open(path, create: true)
        try await connection.closingOnError {
            try await connection.immediateTransaction {
                _ = try await connection.query(Schema.createMigrationTable)
                for migration in BenchmarkSchema.migrations {
                    for statement in migration.statements {
                        _ = try await connection.query(statement)
                    }
                    _ = try await connection.query(Schema.recordMigration, [.text(migration.name)])
                }
            }
        }
        try await connection.close()
    }

    /// Percent-escapes a path for an SQLite `file:` URI (every byte outside a safe set).
    static func uriEscaped(_ path: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/.-_~".utf8)
        var escaped = ""
        for byte in path.utf8 {
            if safe.contains(byte) {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                escaped += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return escaped
    }
}

extension Baseline {
    /// A no-op migrate of one file: open, PRAGMAs, read the migration table (all applied), close.
    func checkMigrations(_ path: String, expected: Int) async throws {
        let connection = try await open(path)
        try await connection.closingOnError {
            let applied = try await connection.query(Schema.readMigrations)
            guard applied.count == expected else {
                throw BenchmarkError("\(path): expected \(expected) applied migrations, read \(applied.count)")
            }
        }
        try await connection.close()
    }

    /// Applies `migration` to one file by hand: open, PRAGMAs, read the migration table, then the
    /// DDL and its record in one transaction, close.
    func apply(_ migration: BenchmarkSchema.Migration, to path: String) async throws {
        let connection = try await open(path)
        try await connection.closingOnError {
            let applied = try await connection.query(Schema.readMigrations)
            guard !applied.contains(where: { $0.column("name")?.string == migration.name }) else {
                throw BenchmarkError("\(path): \(migration.name) is applied already")
            }
            try await connection.immediateTransaction {
                for statement in migration.statements {
                    _ = try await connection.query(statement)
                }
                _ = try await connection.query(Schema.recordMigration, [.text(migration.name)])
            }
        }
        try await connection.close()
    }
}
