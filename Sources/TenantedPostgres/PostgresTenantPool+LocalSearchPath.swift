import Logging
import PostgresNIO

extension PostgresTenantPool {
    /// Runs `body` on `connection` in a transaction whose `search_path` is `schema` only:
    /// `BEGIN`, `SET LOCAL search_path`, `body`, then `COMMIT` (or `ROLLBACK` when `body` throws).
    ///
    /// `BEGIN` and `SET LOCAL` are queued on the connection at once, without waiting for their
    /// answers: postgres-nio runs a connection's statements one after the other, in the order they
    /// were queued, so both have completed before `body`'s first statement is sent, and the calling
    /// task waits once for all three instead of once for each (two fewer hops between the task and
    /// the connection's event loop per use). Their results are checked before the transaction
    /// commits. It stays safe behind a transaction pooler: every statement is inside the transaction.
    ///
    /// `schema` is a validated identifier, quoted by ``PostgresSQL/identifier(_:)``. `BEGIN` cannot fail
    /// on an open session (inside a transaction it only warns), and a failed `SET LOCAL` aborts the
    /// transaction, so `body`'s statements then fail too: none runs with another search path.
    static func inLocalSearchPath<Result>(
        _ schema: String,
        on connection: PostgresConnection,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        let begin: EventLoopFuture<PostgresQueryResult> = connection.query("BEGIN", logger: logger)
        let setPath: EventLoopFuture<PostgresQueryResult> = connection.query(
            PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(PostgresSQL.identifier(schema))"), logger: logger
        )
        let value: Result
        do {
            value = try await body(connection)
            _ = try await begin.get()
            _ = try await setPath.get()
        } catch {
            // Queued behind everything above, so it ends this transaction whatever state it is in.
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
        try await connection.query("COMMIT", logger: logger)
        return value
    }
}
