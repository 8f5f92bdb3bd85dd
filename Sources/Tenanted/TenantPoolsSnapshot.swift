/// A picture of one process's ``TenantPools`` at one moment, for dashboards and the admin console.
public struct TenantPoolsSnapshot: Sendable, Hashable {
    /// Pools kept open when idle (``TenantPools/Configuration/maximumOpenPools``).
    public var capacity: Int
    /// The most pools open at once, overflow included.
    public var hardLimit: Int
    /// Open pools with at least one lease.
    public var leased = 0
    /// Open pools with no lease.
    public var idle = 0
    /// Pools being opened.
    public var opening = 0
    /// Lease requests queued for a free slot at the hard limit.
    public var waiting = 0
    /// Pools that went stale while leased, closed when their last lease ends.
    public var retiredLeased = 0
    /// Pools opened since the registry was made.
    public var opensSinceStart: Int
    /// Idle pools closed to make room for another tenant since the registry was made.
    public var evictionsSinceStart: Int
    /// Opens that took the registry above its capacity since the registry was made.
    public var overflowsSinceStart: Int

    public init(
        capacity: Int,
        hardLimit: Int,
        opensSinceStart: Int = 0,
        evictionsSinceStart: Int = 0,
        overflowsSinceStart: Int = 0
    ) {
        self.capacity = capacity
        self.hardLimit = hardLimit
        self.opensSinceStart = opensSinceStart
        self.evictionsSinceStart = evictionsSinceStart
        self.overflowsSinceStart = overflowsSinceStart
    }

    /// Open and opening pools.
    public var open: Int { leased + idle + opening }

    /// Pools above the capacity now (0 when within it).
    public var overflow: Int { max(0, open - capacity) }
}

/// The state of one tenant's pool in one process's ``TenantPools``.
public enum TenantPoolState: Sendable, Hashable {
    /// No pool is open for the tenant in this process.
    case closed
    /// The pool is being opened.
    case opening
    /// The pool is open and unused; `since` is when its last lease ended (`nil`: never leased).
    case idle(since: ContinuousClock.Instant?)
    /// The pool is open with this many leases.
    case leased(Int)
}
