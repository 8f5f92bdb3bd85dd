public import Logging
public import SQLiteNIO

extension SQLiteConnection {
    /// Opens `path` (a file path or a `file:` URI) on `NIOThreadPool.singleton` and applies
    /// `BenchmarkSchema.pragmas` in order; closes the connection again if one of them fails.
    /// Without `logger`, sqlite-nio's default logger.
    public static func openApplyingPragmas(path: String, logger: Logger? = nil) async throws -> SQLiteConnection {
        let connection = if let logger {
            try await open(storage: .file(path: path), logger: logger)
        } else {
            try await open(storage: .file(path: path))
        }
        try await connection.closingOnError {
            for pragma in BenchmarkSchema.pragmas {
                _ = try await connection.query(pragma)
            }
        }
        return connection
    }

    /// Runs `body`; if it throws, closes the connection (ignoring a failure to close) and rethrows.
    public func closingOnError<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch {
            try? await close()
            throw error
        }
    }

    /// `immediateTransaction(execute:_:)` with `query`.
    public func immediateTransaction(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Void
    ) async throws {
        try await BenchmarkSupport.immediateTransaction(execute: { _ = try await query($0) }, body)
    }
}

/// `BEGIN IMMEDIATE`, `body`, `COMMIT`, each statement run by `execute`; if any of them throws,
/// `ROLLBACK` (a failure to roll back is ignored) and rethrow.
public func immediateTransaction(
    isolation: isolated (any Actor)? = #isolation,
    execute: (String) async throws -> Void,
    _ body: () async throws -> Void
) async throws {
    try await execute("BEGIN IMMEDIATE")
    do {
        try await body()
        try await execute("COMMIT")
    } catch {
        try? await execute("ROLLBACK")
        throw error
    }
}
