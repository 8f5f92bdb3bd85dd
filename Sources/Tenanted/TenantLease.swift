import Synchronization

/// A claim on one tenant's open pool: while any lease on it is held, the pool is never evicted or
/// closed.
///
/// A ``Tenancy`` lends leases only through closures (``Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)``,
/// ``TenantPools/withPool(_:isolation:_:)``) and keeps them in the tenant context, so code inside the scope
/// reaches the pool through ``Tenant/lease`` without a lookup. A lease is released exactly once:
/// explicitly with ``release()``, or, as a safety net, when the last reference goes away.
public final class TenantLease: Sendable {
    /// The tenant whose pool this is.
    public let tenant: TenantID
    /// The store's pool (for example a `SQLitePool`); cast it to the store's `Pool` type.
    public let pool: any Sendable
    /// Identifies the registry that lent the pool, so a lease is never used with another one.
    public let owner: ObjectIdentifier
    private let releaser: Mutex<(@Sendable () -> Void)?>

    /// Creates a lease; `release` runs once, when the lease is released. Only the registry lends
    /// leases, and only through closures.
    init(tenant: TenantID, pool: any Sendable, owner: ObjectIdentifier, release: @escaping @Sendable () -> Void) {
        self.tenant = tenant
        self.pool = pool
        self.owner = owner
        self.releaser = Mutex(release)
    }

    /// Gives the pool back. Calling it again does nothing.
    public func release() {
        let release = releaser.withLock { releaser in
            defer { releaser = nil }
            return releaser
        }
        release?()
    }

    /// Whether ``release()`` has run.
    public var isReleased: Bool { releaser.withLock { $0 == nil } }

    deinit { release() }
}
