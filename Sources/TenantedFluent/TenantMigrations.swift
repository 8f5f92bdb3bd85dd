public import FluentKit
import Logging
import NIOCore
import SQLKit
import Synchronization
import Tenanted

/// The migrations of every tenant's schema, in the order they apply.
///
/// Register tenant migrations here, not on Vapor's `app.migrations`: Vapor's migrator and
/// `--auto-migrate` run without a tenant and cannot serve a tenanted default database. Migrations
/// of a shared (untenanted) database stay on `app.migrations`.
///
/// ```swift
/// let migrations = TenantMigrations()
/// migrations.add(CreateNote())
/// let tenancy = try Tenancy(store: try SQLiteStore(), migrations: migrations)
/// ```
///
/// Each tenant keeps its own `_fluent_migrations` log. Never rename a migration that has been
/// applied: the name is what the log records.
public final class TenantMigrations: Sendable {
    private let storage = Mutex<[any Migration]>([])

    /// Creates an empty set.
    public init() {}

    /// Appends migrations; they apply after those already added.
    public func add(_ migrations: any Migration...) {
        add(migrations)
    }

    /// Appends migrations; they apply after those already added.
    public func add(_ migrations: [any Migration]) {
        storage.withLock { $0.append(contentsOf: migrations) }
    }

    /// The registered migrations, in order.
    public var all: [any Migration] { storage.withLock { $0 } }

    /// The registered migrations' names, in order.
    public var names: [String] { all.map(\.name) }
}
