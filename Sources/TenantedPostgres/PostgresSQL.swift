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
    static let invalidCatalogName = "3D000"
}

extension TenantedError {
    /// A store failure naming the tenant and the operation, carrying the server's message (never
    /// parameters or row data).
    static func postgres(_ operation: String, _ tenant: TenantID?, _ error: any Error) -> TenantedError {
        if let error = error as? TenantedError { return error }
        let detail = PostgresSQL.message(of: error).map { ": \($0)" } ?? ""
        let subject = tenant.map { " of tenant '\($0)'" } ?? ""
        return TenantedError(.storeFailure, "PostgreSQL: \(operation)\(subject) failed\(detail)", tenant: tenant, underlying: error)
    }
}
