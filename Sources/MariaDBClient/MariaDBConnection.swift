import CMariaDB
import Foundation
public import NIOPosix
import Synchronization

/// One connection to a MariaDB or MySQL server, over MariaDB Connector/C.
///
/// Every call of the client library blocks, so each runs on the connection's `NIOThreadPool` —
/// never on an event loop or Swift's cooperative pool — and the async API awaits it. Sessions use
/// `utf8mb4` and UTC (`time_zone = '+00:00'`). Statements are prepared (and kept, per connection)
/// and values travel as bound parameters, never in the SQL text.
///
/// A connection serves one task at a time: a second concurrent call fails with a misuse error
/// rather than corrupting the protocol. ``MariaDBConnectionPool`` hands connections out.
public final class MariaDBConnection: @unchecked Sendable {
    // The handle and the statement cache are touched only inside `blocking`, which `inUse` makes
    // exclusive, so one thread at a time uses them.
    private var handle: UnsafeMutablePointer<MYSQL>?
    private var statements: [String: UnsafeMutablePointer<MYSQL_STMT>] = [:]
    private let inUse = Mutex(false)
    private let broken = Atomic<Bool>(false)
    /// The thread pool the blocking calls run on.
    public let threadPool: NIOThreadPool
    /// What the connection was opened with.
    public let configuration: MariaDBConfiguration

    /// How many prepared statements a connection keeps; past it, the cache starts over.
    static let statementCacheSize = 128

    private init(handle: UnsafeMutablePointer<MYSQL>, configuration: MariaDBConfiguration, threadPool: NIOThreadPool) {
        self.handle = handle
        self.configuration = configuration
        self.threadPool = threadPool
    }

    deinit {
        for statement in statements.values { mysql_stmt_close(statement) }
        if let handle { mysql_close(handle) }
    }

    /// The client library, initialised once per process before any connection.
    private static let library: Bool = mysql_server_init(0, nil, nil) == 0

    /// Connects, on `threadPool`.
    /// - Throws: ``MariaDBError`` (operation `.connect`) with the server's or library's number.
    public static func connect(configuration: MariaDBConfiguration, threadPool: NIOThreadPool = .singleton) async throws -> MariaDBConnection {
        try await threadPool.runIfActive {
            let handle = try openBlocking(configuration)
            return MariaDBConnection(handle: handle, configuration: configuration, threadPool: threadPool)
        }
    }

    private static func openBlocking(_ configuration: MariaDBConfiguration) throws -> UnsafeMutablePointer<MYSQL> {
        guard library, let handle = mysql_init(nil) else {
            throw MariaDBError(.connect, number: 2008, message: "the client library could not be initialised")
        }
        var connectTimeout = UInt32(max(1, configuration.connectTimeout.components.seconds))
        var readTimeout = UInt32(max(1, configuration.readTimeout.components.seconds))
        var noLocalFiles: UInt32 = 0
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &connectTimeout)
        mysql_options(handle, MYSQL_OPT_READ_TIMEOUT, &readTimeout)
        mysql_options(handle, MYSQL_OPT_WRITE_TIMEOUT, &readTimeout)
        mysql_options(handle, MYSQL_OPT_LOCAL_INFILE, &noLocalFiles)
        _ = "utf8mb4".withCString { mysql_options(handle, MYSQL_SET_CHARSET_NAME, $0) }
        if configuration.tlsMode != .disabled {
            var on: my_bool = 1
            mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &on)
            var verify: my_bool = configuration.tlsMode == .required ? 0 : 1
            mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify)
            if let ca = configuration.tlsCAFile {
                _ = ca.withCString { mysql_options(handle, MYSQL_OPT_SSL_CA, $0) }
            }
        }
        let connected = mysql_real_connect(
            handle, configuration.host, configuration.user, configuration.password, configuration.database,
            UInt32(configuration.port), nil, 0
        )
        guard connected != nil else {
            let error = Self.error(.connect, handle)
            mysql_close(handle)
            throw error
        }
        // Connector/C 3.3 goes on in plain text when only REQUIRED (no verification) was asked and the
        // server has no TLS: refuse the connection then.
        if configuration.tlsMode != .disabled, mysql_get_ssl_cipher(handle) == nil {
            mysql_close(handle)
            throw MariaDBError(.connect, number: 2026, message: "TLS is required, but the server did not agree to it")
        }
        for setup in ["SET time_zone = '+00:00'"] {
            if mysql_real_query(handle, setup, UInt(setup.utf8.count)) != 0 {
                let error = Self.error(.connect, handle)
                mysql_close(handle)
                throw error
            }
        }
        return handle
    }

    /// Whether the connection was closed, or an error showed it unusable.
    public var isBroken: Bool { broken.load(ordering: .relaxed) }

    /// Runs `sql` with `binds` for its `?` placeholders and returns its rows (none for a statement
    /// without a result set), affected rows and last insert ID.
    /// - Throws: ``MariaDBError``.
    @discardableResult
    public func query(_ sql: String, _ binds: [MariaDBValue] = []) async throws -> MariaDBResult {
        try enter()
        defer { leave() }
        return try await threadPool.runIfActive { try self.runBlocking(sql, binds) }
    }

    /// Closes the connection (its prepared statements too). Later calls fail.
    public func close() async {
        guard (try? enter()) != nil else { return }
        defer { leave() }
        broken.store(true, ordering: .relaxed)
        _ = try? await threadPool.runIfActive { self.closeBlocking() }
    }

    private func enter() throws(MariaDBError) {
        let busy = inUse.withLock { inUse in
            defer { inUse = true }
            return inUse
        }
        if busy { throw MariaDBError(.misuse, message: "a connection serves one statement at a time; this one is in use by another task") }
    }

    private func leave() { inUse.withLock { $0 = false } }

    private func closeBlocking() {
        for statement in statements.values { mysql_stmt_close(statement) }
        statements = [:]
        if let handle { mysql_close(handle) }
        handle = nil
    }

    // MARK: Blocking work (on the thread pool)

    private func runBlocking(_ sql: String, _ binds: [MariaDBValue]) throws -> MariaDBResult {
        guard let handle else { throw MariaDBError(.misuse, message: "the connection is closed") }
        let statement: UnsafeMutablePointer<MYSQL_STMT>
        do {
            statement = try prepared(sql, handle)
        } catch let error as MariaDBError where error.number == 1295 && binds.isEmpty {
            // ER_UNSUPPORTED_PS: a command the binary protocol does not take; send it as text.
            return try textCommand(sql, handle)
        }
        do {
            return try execute(statement, binds)
        } catch let error as MariaDBError {
            if error.connectionLost { broken.store(true, ordering: .relaxed) }
            // A statement in an unknown state is not reused.
            if statements.removeValue(forKey: sql) != nil { mysql_stmt_close(statement) }
            throw error
        }
    }

    private func prepared(_ sql: String, _ handle: UnsafeMutablePointer<MYSQL>) throws -> UnsafeMutablePointer<MYSQL_STMT> {
        if let statement = statements[sql] { return statement }
        guard let statement = mysql_stmt_init(handle) else {
            broken.store(true, ordering: .relaxed)
            throw Self.error(.prepare, handle)
        }
        let failed = sql.utf8CString.withUnsafeBufferPointer { text in
            mysql_stmt_prepare(statement, text.baseAddress, UInt(text.count - 1)) != 0
        }
        if failed {
            let error = Self.error(.prepare, statement)
            mysql_stmt_close(statement)
            if error.connectionLost { broken.store(true, ordering: .relaxed) }
            throw error
        }
        var updateMaxLength: my_bool = 1
        mysql_stmt_attr_set(statement, STMT_ATTR_UPDATE_MAX_LENGTH, &updateMaxLength)
        if statements.count >= Self.statementCacheSize {
            for old in statements.values { mysql_stmt_close(old) }
            statements = [:]
        }
        statements[sql] = statement
        return statement
    }

    private func textCommand(_ sql: String, _ handle: UnsafeMutablePointer<MYSQL>) throws -> MariaDBResult {
        if mysql_real_query(handle, sql, UInt(sql.utf8.count)) != 0 {
            let error = Self.error(.execute, handle)
            if error.connectionLost { broken.store(true, ordering: .relaxed) }
            throw error
        }
        if let result = mysql_store_result(handle) { mysql_free_result(result) }
        return MariaDBResult(columns: [], rows: [], affectedRows: mysql_affected_rows(handle), lastInsertID: mysql_insert_id(handle))
    }

    private func execute(_ statement: UnsafeMutablePointer<MYSQL_STMT>, _ binds: [MariaDBValue]) throws -> MariaDBResult {
        let expected = Int(mysql_stmt_param_count(statement))
        guard expected == binds.count else {
            throw MariaDBError(.bind, message: "the statement has \(expected) placeholders and \(binds.count) values were bound")
        }
        let parameters = ParameterBuffers(binds)
        defer { parameters.deallocate() }
        if expected > 0, mysql_stmt_bind_param(statement, parameters.binds) != 0 {
            throw Self.error(.bind, statement)
        }
        if mysql_stmt_execute(statement) != 0 { throw Self.error(.execute, statement) }
        guard let metadata = mysql_stmt_result_metadata(statement) else {
            return MariaDBResult(
                columns: [], rows: [],
                affectedRows: mysql_stmt_affected_rows(statement), lastInsertID: mysql_stmt_insert_id(statement)
            )
        }
        defer {
            mysql_free_result(metadata)
            mysql_stmt_free_result(statement)
        }
        if mysql_stmt_store_result(statement) != 0 { throw Self.error(.fetch, statement) }
        let count = Int(mysql_num_fields(metadata))
        let fields = UnsafeBufferPointer(start: mysql_fetch_fields(metadata), count: count)
        let results = ResultBuffers(fields)
        defer { results.deallocate() }
        if count > 0, mysql_stmt_bind_result(statement, results.binds) != 0 { throw Self.error(.fetch, statement) }
        let columns = MariaDBColumns(fields.map { String(cString: $0.name) })
        var rows: [MariaDBRow] = []
        rows.reserveCapacity(Int(mysql_stmt_num_rows(statement)))
        while true {
            let status = mysql_stmt_fetch(statement)
            if status == MYSQL_NO_DATA { break }
            if status != 0 && status != MYSQL_DATA_TRUNCATED { throw Self.error(.fetch, statement) }
            var values: [MariaDBValue] = []
            values.reserveCapacity(count)
            for index in 0..<count {
                values.append(try results.value(at: index, statement: statement))
            }
            rows.append(MariaDBRow(columns: columns, values: values))
        }
        return MariaDBResult(columns: columns.names, rows: rows, affectedRows: mysql_stmt_affected_rows(statement), lastInsertID: mysql_stmt_insert_id(statement))
    }

    private static func error(_ operation: MariaDBError.Operation, _ handle: UnsafeMutablePointer<MYSQL>) -> MariaDBError {
        MariaDBError(
            operation, number: mysql_errno(handle),
            sqlState: mysql_sqlstate(handle).map { String(cString: $0) } ?? "HY000",
            message: mysql_error(handle).map { String(cString: $0) } ?? ""
        )
    }

    private static func error(_ operation: MariaDBError.Operation, _ statement: UnsafeMutablePointer<MYSQL_STMT>) -> MariaDBError {
        MariaDBError(
            operation, number: mysql_stmt_errno(statement),
            sqlState: mysql_stmt_sqlstate(statement).map { String(cString: $0) } ?? "HY000",
            message: mysql_stmt_error(statement).map { String(cString: $0) } ?? ""
        )
    }
}

/// The outcome of one statement.
public struct MariaDBResult: Sendable {
    /// The column names of the result set, in order; empty for a statement without one.
    public let columns: [String]
    /// The rows, in the order the server sent them.
    public let rows: [MariaDBRow]
    /// The rows changed by an INSERT, UPDATE or DELETE.
    public let affectedRows: UInt64
    /// The AUTO_INCREMENT value of the last inserted row; 0 when none.
    public let lastInsertID: UInt64
}

/// The column names of a result set, shared by its rows.
final class MariaDBColumns: Sendable {
    let names: [String]
    let indexes: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var indexes: [String: Int] = [:]
        for (index, name) in names.enumerated() where indexes[name] == nil { indexes[name] = index }
        self.indexes = indexes
    }
}

/// One row of a result set.
public struct MariaDBRow: Sendable, CustomStringConvertible {
    let columns: MariaDBColumns
    /// The values, in column order.
    public let values: [MariaDBValue]

    /// The column names, in order.
    public var columnNames: [String] { columns.names }

    /// The value of the first column named `column`; `nil` when there is no such column.
    public subscript(column: String) -> MariaDBValue? {
        columns.indexes[column].map { values[$0] }
    }

    public var description: String {
        "[" + zip(columns.names, values).map { "\($0): \($1)" }.joined(separator: ", ") + "]"
    }
}

// MARK: - Bind buffers

/// The parameter binds of one execution and the memory they point at.
private struct ParameterBuffers {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private var allocations: [UnsafeMutableRawPointer] = []
    let count: Int

    init(_ values: [MariaDBValue]) {
        count = values.count
        binds = .allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        for (index, value) in values.enumerated() {
            switch value {
            case .null:
                binds[index].buffer_type = MYSQL_TYPE_NULL
            case .int(let number):
                binds[index].buffer_type = MYSQL_TYPE_LONGLONG
                binds[index].buffer = store(number)
            case .uint(let number):
                binds[index].buffer_type = MYSQL_TYPE_LONGLONG
                binds[index].is_unsigned = 1
                binds[index].buffer = store(number)
            case .double(let number):
                binds[index].buffer_type = MYSQL_TYPE_DOUBLE
                binds[index].buffer = store(number)
            case .decimal(let text):
                binds[index].buffer_type = MYSQL_TYPE_NEWDECIMAL
                setBytes(Array(text.utf8), at: index)
            case .text(let text):
                binds[index].buffer_type = MYSQL_TYPE_STRING
                setBytes(Array(text.utf8), at: index)
            case .bytes(let bytes):
                binds[index].buffer_type = MYSQL_TYPE_BLOB
                setBytes(bytes, at: index)
            case .time(let time):
                var raw = MYSQL_TIME()
                raw.year = UInt32(time.year)
                raw.month = UInt32(time.month)
                raw.day = UInt32(time.day)
                raw.hour = UInt32(time.hour)
                raw.minute = UInt32(time.minute)
                raw.second = UInt32(time.second)
                raw.second_part = UInt(time.microsecond)
                raw.neg = time.negative ? 1 : 0
                switch time.kind {
                case .date:
                    raw.time_type = MYSQL_TIMESTAMP_DATE
                    binds[index].buffer_type = MYSQL_TYPE_DATE
                case .dateTime:
                    raw.time_type = MYSQL_TIMESTAMP_DATETIME
                    binds[index].buffer_type = MYSQL_TYPE_DATETIME
                case .time:
                    raw.time_type = MYSQL_TIMESTAMP_TIME
                    binds[index].buffer_type = MYSQL_TYPE_TIME
                }
                binds[index].buffer = store(raw)
            }
        }
    }

    private mutating func store<T>(_ value: T) -> UnsafeMutableRawPointer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
        memory.initializeMemory(as: T.self, repeating: value, count: 1)
        allocations.append(memory)
        return memory
    }

    private mutating func setBytes(_ bytes: [UInt8], at index: Int) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { memory.copyMemory(from: base, byteCount: bytes.count) }
        }
        allocations.append(memory)
        binds[index].buffer = memory
        binds[index].buffer_length = UInt(bytes.count)
    }

    func deallocate() {
        for memory in allocations { memory.deallocate() }
        binds.deallocate()
    }
}

/// The result binds of one result set, one buffer per column, typed by the column's type.
private final class ResultBuffers {
    enum Kind: Equatable { case integer(unsigned: Bool), double, decimal, text, bytes, time, null }

    let binds: UnsafeMutablePointer<MYSQL_BIND>
    let kinds: [Kind]
    let lengths: UnsafeMutablePointer<UInt>
    let nulls: UnsafeMutablePointer<my_bool>
    let errors: UnsafeMutablePointer<my_bool>
    let count: Int

    init(_ fields: UnsafeBufferPointer<MYSQL_FIELD>) {
        count = fields.count
        binds = .allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        lengths = .allocate(capacity: max(1, count))
        lengths.initialize(repeating: 0, count: max(1, count))
        nulls = .allocate(capacity: max(1, count))
        nulls.initialize(repeating: 0, count: max(1, count))
        errors = .allocate(capacity: max(1, count))
        errors.initialize(repeating: 0, count: max(1, count))
        var kinds: [Kind] = []
        for (index, field) in fields.enumerated() {
            let kind = Self.kind(of: field)
            kinds.append(kind)
            let size: Int
            switch kind {
            case .integer(let unsigned):
                binds[index].buffer_type = MYSQL_TYPE_LONGLONG
                binds[index].is_unsigned = unsigned ? 1 : 0
                size = 8
            case .double:
                binds[index].buffer_type = MYSQL_TYPE_DOUBLE
                size = 8
            case .time:
                binds[index].buffer_type = field.type
                size = MemoryLayout<MYSQL_TIME>.size
            case .decimal, .text, .bytes, .null:
                binds[index].buffer_type = kind == .bytes ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING
                size = max(64, Int(field.max_length) + 1)
            }
            binds[index].buffer = .allocate(byteCount: size, alignment: 8)
            binds[index].buffer_length = UInt(size)
            binds[index].length = lengths + index
            binds[index].is_null = nulls + index
            binds[index].error = errors + index
        }
        self.kinds = kinds
    }

    static func kind(of field: MYSQL_FIELD) -> Kind {
        let unsigned = field.flags & UInt32(UNSIGNED_FLAG) != 0
        switch field.type {
        case MYSQL_TYPE_TINY, MYSQL_TYPE_SHORT, MYSQL_TYPE_INT24, MYSQL_TYPE_LONG, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_YEAR:
            return .integer(unsigned: unsigned)
        case MYSQL_TYPE_FLOAT, MYSQL_TYPE_DOUBLE:
            return .double
        case MYSQL_TYPE_DECIMAL, MYSQL_TYPE_NEWDECIMAL:
            return .decimal
        case MYSQL_TYPE_DATE, MYSQL_TYPE_NEWDATE, MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_TIME:
            return .time
        case MYSQL_TYPE_NULL:
            return .null
        case MYSQL_TYPE_BIT, MYSQL_TYPE_GEOMETRY:
            return .bytes
        default:
            // 63 is the `binary` character set: BINARY, VARBINARY and BLOB columns.
            return field.charsetnr == 63 ? .bytes : .text
        }
    }

    func value(at index: Int, statement: UnsafeMutablePointer<MYSQL_STMT>) throws -> MariaDBValue {
        if nulls[index] != 0 { return .null }
        let buffer = binds[index].buffer!
        switch kinds[index] {
        case .null:
            return .null
        case .integer(let unsigned):
            if unsigned {
                let number = buffer.load(as: UInt64.self)
                return number <= UInt64(Int64.max) ? .int(Int64(number)) : .uint(number)
            }
            return .int(buffer.load(as: Int64.self))
        case .double:
            return .double(buffer.load(as: Double.self))
        case .time:
            let raw = buffer.load(as: MYSQL_TIME.self)
            let kind: MariaDBTime.Kind = raw.time_type == MYSQL_TIMESTAMP_DATE ? .date : raw.time_type == MYSQL_TIMESTAMP_TIME ? .time : .dateTime
            return .time(MariaDBTime(
                kind: kind, year: Int(raw.year), month: Int(raw.month), day: Int(raw.day), hour: Int(raw.hour),
                minute: Int(raw.minute), second: Int(raw.second), microsecond: Int(raw.second_part), negative: raw.neg != 0
            ))
        case .decimal, .text, .bytes:
            let length = Int(lengths[index])
            var bytes: [UInt8]
            if length > Int(binds[index].buffer_length) {
                // Longer than the buffer (the server's max_length was short): fetch the column again.
                let whole = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 1)
                defer { whole.deallocate() }
                var bind = MYSQL_BIND()
                bind.buffer_type = binds[index].buffer_type
                bind.buffer = whole
                bind.buffer_length = UInt(length)
                var fetched: UInt = 0
                let failed = withUnsafeMutablePointer(to: &fetched) { fetchedPointer in
                    bind.length = fetchedPointer
                    return mysql_stmt_fetch_column(statement, &bind, UInt32(index), 0) != 0
                }
                if failed {
                    throw MariaDBError(.fetch, number: mysql_stmt_errno(statement), sqlState: "HY000", message: "could not fetch a long column")
                }
                bytes = Array(UnsafeRawBufferPointer(start: whole, count: length))
            } else {
                bytes = Array(UnsafeRawBufferPointer(start: buffer, count: length))
            }
            switch kinds[index] {
            case .bytes: return .bytes(bytes)
            case .decimal: return .decimal(String(decoding: bytes, as: UTF8.self))
            default: return .text(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    func deallocate() {
        for index in 0..<count { binds[index].buffer?.deallocate() }
        binds.deallocate()
        lengths.deallocate()
        nulls.deallocate()
        errors.deallocate()
    }
}
