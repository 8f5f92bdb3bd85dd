/// A suspended tenant: in maintenance, refused to every scope until resumed.
public struct TenantSuspension: Sendable, Hashable, Codable {
    /// Why, as given to ``Tenancy/suspend(_:reason:)``; `nil` when none was given. For operators: it is
    /// never shown to a tenant's clients.
    public var reason: String?

    /// A suspension with `reason`.
    public init(reason: String?) {
        self.reason = reason
    }
}

/// How a store makes the migrated template that new tenants are copied from.
///
/// ``Tenancy`` passes one to ``TenantStore/create(_:from:prepare:)`` when its migrator lists its
/// migrations (``TenantMigrator/registeredMigrations``).
public struct TenantTemplate<Pool> {
    /// Names the migration set: a template made for one key is never used for another.
    public let key: String
    /// Migrates an empty database into the template; runs once per key and store (per server).
    public let build: (Pool) async throws -> Void

    /// A template recipe.
    public init(key: String, build: @escaping (Pool) async throws -> Void) {
        self.key = key
        self.build = build
    }

    /// The key of a migration set: a stable 64-bit hash of the names, in order, and their count.
    public static func key(for migrations: [String]) -> String {
        let hash = TenantID.fnv1a(migrations.joined(separator: "\n"), offset: 0xcbf2_9ce4_8422_2325 as UInt64, prime: 0x100_0000_01b3)
        let hex = String(hash, radix: 16)
        return "m\(migrations.count)_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

// The defaults: a store that does not implement an operation refuses it with a clear error, and
// creates from a template by running the template's migrations on each new tenant.
extension TenantStore {
    public var backupKind: String { String(describing: Self.self) }

    public func backup(_ tenant: TenantID, to path: String, header: TenantBackupHeader) async throws {
        throw unsupported("back up tenants")
    }

    public func restore(_ tenant: TenantID, from archive: TenantBackupArchive, replace: Bool, prepare: (Pool) async throws -> Void) async throws {
        throw unsupported("restore tenants")
    }

    public func suspend(_ tenant: TenantID, reason: String?) async throws {
        throw unsupported("suspend tenants")
    }

    public func resume(_ tenant: TenantID) async throws {
        throw unsupported("resume tenants")
    }

    public func suspension(of tenant: TenantID) async throws -> TenantSuspension? {
        guard try await exists(tenant) else { throw TenantedError.notFound(tenant, "suspension(of:)") }
        return nil
    }

    public func openIgnoringSuspension(_ tenant: TenantID) async throws -> Pool {
        try await open(tenant)
    }

    public func create(_ tenant: TenantID, from template: TenantTemplate<Pool>, prepare: ((Pool) async throws -> Void)?) async throws {
        try await create(tenant) { pool in
            try await template.build(pool)
            try await prepare?(pool)
        }
    }

    private func unsupported(_ what: String) -> TenantedError {
        TenantedError(.invalidConfiguration, "\(Self.self) cannot \(what)")
    }
}
