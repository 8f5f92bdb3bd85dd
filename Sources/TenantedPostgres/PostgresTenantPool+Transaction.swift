public import PostgresNIO
import Tenanted

extension PostgresTenantPool {
    /// Runs `body` in a transaction on a connection to this tenant's data: it commits when `body`
    /// returns and rolls back when it throws.
    ///
    /// Over a shared pool this is ``withConnection(isolation:_:)`` (already a transaction that began
    /// with `SET LOCAL search_path`); with a pool per tenant, the client's own transaction.
    public func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        if setsLocalSearchPath {
            do {
                return try await withConnection(isolation: isolation, body)
            } catch let error as PostgresTransactionError where error.closureError is TenantedError {
                throw error.closureError!  // the body's own refusal, not a database failure
            }
        }
        if currentValidity == .gone { throw goneError }
        do {
            return try await client.withTransaction(logger: Self.logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            // The body's own error (a TenantedError, a failed statement) is what the caller needs.
            throw await translate(error.closureError ?? error)
        } catch {
            throw await translate(error)
        }
    }
}
