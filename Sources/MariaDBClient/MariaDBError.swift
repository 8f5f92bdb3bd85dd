/// A failure of the MariaDB client: the server's (or the client library's) error number and
/// SQLSTATE, for code to act on.
///
/// `description` names the operation, the number and the SQLSTATE only; the server's message —
/// which may quote data, names or the statement — is in `debugDescription`. Neither ever carries the
/// password or the URL.
public struct MariaDBError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What failed.
    public enum Operation: String, Sendable {
        /// Parsing the connection URL.
        case url
        /// Connecting and authenticating.
        case connect
        /// Preparing a statement.
        case prepare
        /// Binding values to a statement.
        case bind
        /// Executing a statement.
        case execute
        /// Reading a statement's rows.
        case fetch
        /// Using a connection wrongly (closed, or used by two tasks at once).
        case misuse
    }

    /// The operation that failed.
    public let operation: Operation
    /// The server's error number (1000–1999 and 3000+, e.g. 1049 unknown database), or the client
    /// library's (2000–2999, e.g. 2013 lost connection); 0 when neither gave one.
    public let number: UInt32
    /// The SQLSTATE (e.g. `42000`); `HY000` when there is none more specific.
    public let sqlState: String
    /// What the server or library said, for logs only: it may quote data.
    public let message: String

    /// Creates an error.
    public init(_ operation: Operation, number: UInt32 = 0, sqlState: String = "HY000", message: String) {
        self.operation = operation
        self.number = number
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        switch operation {
        case .url: "invalid MySQL URL: \(message)"
        case .misuse: "MariaDB client misuse: \(message)"
        default: "MariaDB \(operation.rawValue) failed: error \(number) (SQLSTATE \(sqlState))"
        }
    }

    public var debugDescription: String {
        switch operation {
        case .url, .misuse: description
        default: "\(description): \(message)"
        }
    }

    /// Whether the connection is unusable after this error (lost, gone away, not connected).
    public var connectionLost: Bool {
        [2002, 2003, 2006, 2013, 2026, 2055].contains(number) || operation == .connect
    }

    /// Well-known server error numbers.
    public enum Number {
        /// `ER_DB_CREATE_EXISTS`: the database exists.
        public static let databaseExists: UInt32 = 1007
        /// `ER_DB_DROP_EXISTS`: the database does not exist.
        public static let databaseDoesNotExist: UInt32 = 1008
        /// `ER_NO_DB_ERROR`: no database selected.
        public static let noDatabaseSelected: UInt32 = 1046
        /// `ER_BAD_DB_ERROR`: unknown database.
        public static let unknownDatabase: UInt32 = 1049
        /// `ER_NO_SUCH_TABLE`: the table does not exist.
        public static let noSuchTable: UInt32 = 1146
        /// `ER_DUP_ENTRY`: a unique key already has the value.
        public static let duplicateEntry: UInt32 = 1062
        /// `ER_LOCK_DEADLOCK`.
        public static let deadlock: UInt32 = 1213
        /// `ER_LOCK_WAIT_TIMEOUT`.
        public static let lockWaitTimeout: UInt32 = 1205
    }
}
