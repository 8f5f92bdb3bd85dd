import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The pools a test opened, closed together when its body ends, whether it returned or threw: a
/// pool dropped with an open connection trips sqlite-nio's "not closed before deinitializing"
/// assertion, which would end the whole test process instead of failing one test.
///
/// Close each pool once: `SQLiteStore.close(_:)` twice on one pool is not safe.
final class OpenPools: Sendable {
    let store: SQLiteStore
    private let pools = Locked<[SQLitePool]>([])

    init(_ store: SQLiteStore) { self.store = store }

    /// Opens a pool of `tenant` that ``closingAll(_:)`` closes.
    func open(_ tenant: TenantID) async throws -> SQLitePool {
        let pool = try await store.open(tenant)
        pools.withLock { $0.append(pool) }
        return pool
    }

    /// Runs `body`, then closes every pool opened through this, once each, and returns what `body`
    /// returned or rethrows what it threw.
    ///
    /// The closes are guarded: a body that gave up on a hung operation (a ``withGuard(_:limit:sourceLocation:_:)``
    /// that fired) may leave a task inside a pool, and closing that pool would wait for it; the test
    /// then fails with the guard's issue instead of hanging.
    func closingAll<T>(_ body: () async throws -> T) async throws -> T {
        let result = await Result { try await body() }
        let opened = pools.withLock { pools in defer { pools = [] }; return pools }
        let store = store
        _ = try await withGuard("closing the pools the test opened") {
            for pool in opened { await store.close(pool) }
        }
        return try result.get()
    }
}
