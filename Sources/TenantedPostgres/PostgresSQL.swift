import Foundation
import PostgresNIO
import Tenanted

/// Small SQL helpers: quoting and reading server errors.
enum PostgresSQL {
    /// `name` as a quoted identifier: `"a""b"`. Tenanted's names are allowlisted already; quoting is
    /// belt and braces, and keeps `-` legal.
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` as a quoted string literal: `'it''s'`.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The server's message of a server error, if `error` is one.
    static func message(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.message]
    }

    // SQLSTATEs Tenanted reacts to.
    static let duplicateDatabase = "42P04"
    static let duplicateSchema = "42P06"
    /// `object_in_use`: a database renamed, dropped or copied while sessions use it.
    static let objectInUse = "55006"
    /// `unique_violation`: also what two concurrent renames to one database name meet.
    static let uniqueViolation = "23505"
    static let invalidCatalogName = "3D000"
}

extension TenantedError {
    /// A store failure naming the tenant, the operation and the SQLSTATE. The server's message
    /// (which can quote names, values or hosts) is private detail, shown by `debugDescription` only.
    static func postgres(_ operation: String, _ tenant: TenantID?, _ error: any Error) -> TenantedError {
        if let error = error as? TenantedError { return error }
        let subject = tenant.map { " of tenant '\($0)'" } ?? ""
        if let refusal = tooManyClients(operation + subject, tenant, error) { return refusal }
        let state = PostgresSQL.sqlState(of: error).map { " (SQLSTATE \($0))" } ?? ""
        return TenantedError(
            .storeFailure, "PostgreSQL: \(operation)\(subject) failed\(state)", tenant: tenant, underlying: error,
            detail: PostgresSQL.message(of: error)
        )
    }

    /// ``Tenanted/TenantedError/Code/poolLimitReached`` for the server's refusal of a connection
    /// because it is at `max_connections` (SQLSTATE 53300, "too many clients"), else `nil`. Only
    /// other processes (or a budget larger than the server allows) bring a server there: this
    /// process's own clients stay within ``PostgresStore/Configuration/maximumConnectionsPerServer``.
    static func tooManyClients(_ operation: String, _ tenant: TenantID?, _ error: any Error) -> TenantedError? {
        guard PostgresSQL.sqlState(of: error) == PostgresSQL.tooManyConnections else { return nil }
        return TenantedError(
            .poolLimitReached,
            "PostgreSQL: \(operation) failed: the server refused a connection, it is at its max_connections (SQLSTATE 53300); the processes connected to it together need more than it allows — keep processes × maximumConnectionsPerServer under it",
            tenant: tenant, underlying: error, detail: PostgresSQL.message(of: error)
        )
    }
}

extension PostgresSQL {
    /// The SQLSTATE of a connection refused because the server is at `max_connections`.
    static let tooManyConnections = "53300"

    /// SQLSTATEs a dropped database or schema causes: `3D000` (no such database), `3F000` (no such
    /// schema), `42P01` (no such table: the search path names a dropped schema), `57P01` (the
    /// session was terminated, as `DROP DATABASE … WITH (FORCE)` does).
    static let tenantGoneStates: Set<String> = ["3D000", "3F000", "42P01", "57P01"]

    /// Whether `error` may mean the tenant's database or schema is gone: one of
    /// ``tenantGoneStates`` or a lost connection. Only a hint: the catalog decides.
    static func suggestsTenantGone(_ error: any Error) -> Bool {
        if let transaction = error as? PostgresTransactionError {
            return [transaction.beginError, transaction.closureError, transaction.commitError]
                .contains { $0.map(suggestsTenantGone) ?? false }
        }
        guard let error = error as? PSQLError else { return false }
        if let state = error.serverInfo?[.sqlState] { return tenantGoneStates.contains(state) }
        return [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed].contains(error.code)
    }
}
