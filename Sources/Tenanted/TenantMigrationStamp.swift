import Synchronization

/// What a store says of a tenant's database as one of its pools opened it, so that the next open
/// can skip reading the migration log: equal stamps mean that nothing can have taken migrations
/// away from the database in between (see ``TenantStore/migrationStamp(of:)``).
public struct TenantMigrationStamp: Hashable, Sendable {
    let parts: [UInt64]

    /// A stamp made of `parts`, compared as a whole (for example a file's device and inode and a
    /// counter of changes to the storage).
    public init(_ parts: [UInt64]) {
        self.parts = parts
    }
}

extension TenantStore {
    /// `nil`: every open of a tenant reads its migration log.
    public func migrationStamp(of pool: Pool) -> TenantMigrationStamp? { nil }

    /// Nothing to tell other processes: a store without stamps has nothing cached.
    public func migrationsReverted(_ tenant: TenantID) async {}
}

/// The tenants whose last open found every registered migration applied, with the store's stamp of
/// that open: an open with the same stamp skips the migration log (one database round trip, most of
/// a cold open's price beyond the connection itself). Bounded: past `capacity`, an arbitrary entry
/// makes room (a forgotten tenant is read once more, nothing else).
final class MigratedTenants: Sendable {
    private let stamps = Mutex<[TenantID: TenantMigrationStamp]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Whether `tenant` was found migrated at `stamp`.
    func contains(_ tenant: TenantID, at stamp: TenantMigrationStamp) -> Bool {
        stamps.withLock { $0[tenant] == stamp }
    }

    /// Records that `tenant`, at `stamp`, has every registered migration.
    func record(_ tenant: TenantID, at stamp: TenantMigrationStamp) {
        stamps.withLock { stamps in
            if stamps[tenant] == nil, stamps.count >= capacity { stamps.remove(at: stamps.startIndex) }
            stamps[tenant] = stamp
        }
    }

    /// Forgets `tenant` (its migrations were reverted here).
    func forget(_ tenant: TenantID) {
        _ = stamps.withLock { $0.removeValue(forKey: tenant) }
    }

    var count: Int { stamps.withLock { $0.count } }
}
