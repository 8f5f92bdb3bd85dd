public import FluentKit
public import MariaDBClient

/// Fluent's error classification of MariaDB's error numbers, so `error as? any DatabaseError` works
/// as with the stock drivers.
extension MariaDBError: DatabaseError {
    /// `ER_PARSE_ERROR` (1064) and `ER_SYNTAX_ERROR` (1149).
    public var isSyntaxError: Bool { number == 1064 || number == 1149 }

    /// The connection was lost or could not be made.
    public var isConnectionClosed: Bool { connectionLost }

    /// A unique key (1062), a foreign key (1216, 1217, 1451, 1452), NOT NULL (1048, 1364) or CHECK
    /// (3819, 4025) constraint refused the row.
    public var isConstraintFailure: Bool { [1048, 1062, 1216, 1217, 1364, 1451, 1452, 3819, 4025].contains(number) }
}
