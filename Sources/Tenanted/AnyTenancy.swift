/// A ``Tenancy`` with its store type erased: what an application keeps when its storage cannot be
/// generic (Vapor's `Application`, command-line tools).
///
/// ``Tenancy`` conforms; use it through `any AnyTenancy`.
public protocol AnyTenancy: AnyObject, Sendable {
    /// Runs `body` as `tenant`, holding a lease on its pool; see ``Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)``.
    func withTenant<Result>(
        _ tenant: TenantID,
        prohibitingSwitches: Bool,
        isolation: isolated (any Actor)?,
        _ body: () async throws -> Result
    ) async throws -> Result

    /// See ``Tenancy/createTenant(_:ifNotExists:)``.
    @discardableResult
    func createTenant(_ tenant: TenantID, ifNotExists: Bool) async throws -> Bool
    /// See ``Tenancy/destroyTenant(_:)``.
    func destroyTenant(_ tenant: TenantID) async throws
    /// See ``Tenancy/tenantExists(_:)``.
    func tenantExists(_ tenant: TenantID) async throws -> Bool
    /// See ``Tenancy/tenants()``.
    func tenants() async throws -> [TenantID]
    /// See ``Tenancy/migrate(_:)``.
    @discardableResult
    func migrate(_ tenant: TenantID) async throws -> [String]
    /// See ``Tenancy/migrateAll(maximumConcurrency:progress:)``.
    func migrateAll(maximumConcurrency: Int?, progress: (@Sendable (MigrationProgress) -> Void)?) async throws -> MigrationReport
    /// See ``Tenancy/rollback(_:)``.
    @discardableResult
    func rollback(_ tenant: TenantID) async throws -> [String]
    /// See ``Tenancy/rollbackAll(maximumConcurrency:progress:)``.
    func rollbackAll(maximumConcurrency: Int?, progress: (@Sendable (MigrationProgress) -> Void)?) async throws -> MigrationReport
    /// See ``Tenancy/migrationStatus(_:)``.
    func migrationStatus(_ tenant: TenantID) async throws -> MigrationStatus
    /// See ``Tenancy/server(of:)``.
    func server(of tenant: TenantID) async throws -> String
    /// See ``Tenancy/moveTenant(_:to:)``.
    @discardableResult
    func moveTenant(_ tenant: TenantID, to server: String) async throws -> TenantMoveReport
    /// See ``Tenancy/backup(_:to:)``.
    @discardableResult
    func backup(_ tenant: TenantID, to path: String) async throws -> TenantBackupHeader
    /// See ``Tenancy/restore(_:from:replace:)``.
    func restore(_ tenant: TenantID, from path: String, replace: Bool) async throws
    /// See ``Tenancy/clone(_:to:)``.
    func clone(_ source: TenantID, to destination: TenantID) async throws
    /// See ``Tenancy/suspend(_:reason:)``.
    func suspend(_ tenant: TenantID, reason: String?) async throws
    /// See ``Tenancy/resume(_:)``.
    func resume(_ tenant: TenantID) async throws
    /// See ``Tenancy/suspension(of:)``.
    func suspension(of tenant: TenantID) async throws -> TenantSuspension?
    /// See ``Tenancy/shutdown()``.
    func shutdown() async
}

extension Tenancy: AnyTenancy {}

extension AnyTenancy {
    /// Creates `tenant`; an existing tenant is an error. See ``Tenancy/createTenant(_:ifNotExists:)``.
    @discardableResult
    public func createTenant(_ tenant: TenantID) async throws -> Bool {
        try await createTenant(tenant, ifNotExists: false)
    }
}
