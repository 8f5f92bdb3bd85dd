/// Closes idle pools of a ``TenantPools`` registry at a store's request.
///
/// The seam between a store whose pools share a limited resource — the connections one PostgreSQL
/// server accepts — and the registry that holds those pools. A store cannot reach the registry (the
/// registry belongs to the ``Tenancy`` built on it, and the core knows no store), so each
/// ``Tenancy`` hands its store one of these through ``TenantStore/attachRegistry(_:)``. When the
/// store runs short, it asks for idle pools of *other* tenants to close; a leased pool is never
/// closed, so no query loses its connection.
public struct TenantPoolReclaimer<Pool: Sendable>: Sendable {
    private let reclaim: @Sendable (_ count: Int, _ matching: @escaping @Sendable (Pool) -> Bool) -> [Pool]

    /// Creates a reclaimer that closes up to `count` idle pools for which `matching` holds and
    /// returns the pools it scheduled to close.
    public init(_ reclaim: @escaping @Sendable (_ count: Int, _ matching: @escaping @Sendable (Pool) -> Bool) -> [Pool]) {
        self.reclaim = reclaim
    }

    /// Schedules up to `count` idle pools for which `predicate` holds to close, least recently used
    /// first, and returns those pools. The closes run asynchronously, through the store's
    /// ``TenantStore/close(_:)``; pools that are leased, opening or being used by an operation are
    /// left alone. `predicate` runs under the registry's lock: keep it cheap, do no I/O.
    @discardableResult
    public func closeIdlePools(_ count: Int, where predicate: @escaping @Sendable (Pool) -> Bool) -> [Pool] {
        guard count > 0 else { return [] }
        return reclaim(count, predicate)
    }
}
