import TenantedTestSupport
import SQLiteNIO

extension SQLiteConnection {
    /// The first column of the first row of `sql`, or `nil` when it returns no row.
    func scalar(_ sql: String, _ binds: [SQLiteData] = []) async throws -> SQLiteData? {
        try await query(sql, binds).first?.columns.first?.data
    }

    /// The first column of every row of `sql`, as text.
    func strings(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [String] {
        try await query(sql, binds).compactMap { $0.columns.first?.data.string }
    }

    /// Runs each statement in order.
    func execute(_ statements: [String]) async throws {
        for statement in statements { _ = try await query(statement) }
    }
}
