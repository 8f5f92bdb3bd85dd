/// The current tenant of this task.
///
/// The tenant context is one private task-local value. It follows structured concurrency: child
/// tasks made by `async let` and task groups, and unstructured `Task { }` created inside a scope,
/// see the tenant of the scope that made them. `Task.detached` does **not** see it, and neither do
/// callbacks that run on an event loop: there ``current`` is `nil`, so tenanted code fails with
/// ``TenantedError/Code/noTenant`` instead of touching some default database.
///
/// Enter a tenant with ``withTenant(_:prohibitingSwitches:isolation:_:)`` (no pool) or with
/// ``Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)`` (which also leases the tenant's open pool for the
/// duration of the scope).
public enum Tenant {
    @TaskLocal private static var context: TenantContext?

    /// The tenant of the current scope, or `nil` outside every tenant scope.
    public static var current: TenantID? { context?.tenant }

    /// The tenant of the current scope.
    ///
    /// - Throws: ``TenantedError`` with code ``TenantedError/Code/noTenant`` outside every tenant scope.
    public static func require() throws(TenantedError) -> TenantID {
        guard let tenant = context?.tenant else { throw .noTenant("Tenant.require()") }
        return tenant
    }

    /// The lease on the current tenant's open pool, when the scope was opened by a ``Tenancy``.
    public static var lease: TenantLease? { context?.lease }

    /// Whether the current scope refuses to enter a different tenant.
    public static var prohibitsSwitching: Bool { context?.prohibitsSwitching ?? false }

    /// The context for entering `tenant` from the current one, or the switch error.
    package static func entering(
        _ tenant: TenantID,
        lease: TenantLease? = nil,
        prohibitingSwitches: Bool
    ) throws(TenantedError) -> TenantContext {
        if let current = context {
            if current.tenant == tenant {
                return TenantContext(
                    tenant: tenant,
                    lease: lease ?? current.lease,
                    prohibitsSwitching: prohibitingSwitches || current.prohibitsSwitching
                )
            }
            if current.prohibitsSwitching {
                throw TenantedError(
                    .switchProhibited,
                    "cannot enter tenant '\(tenant)' inside a scope of tenant '\(current.tenant)' "
                        + "that prohibits switching; use withoutTenant(_:) to leave it explicitly",
                    tenant: tenant
                )
            }
        }
        return TenantContext(tenant: tenant, lease: lease, prohibitsSwitching: prohibitingSwitches)
    }

    /// Runs `body` with `context` as the current context.
    package static func with<Result>(
        _ context: TenantContext?,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async rethrows -> Result {
        try await $context.withValue(context, operation: body, isolation: isolation)
    }

    /// Runs `body` with `context` as the current context.
    package static func with<Result>(_ context: TenantContext?, _ body: () throws -> Result) rethrows -> Result {
        try $context.withValue(context, operation: body)
    }
}

/// What the task-local holds: the tenant, the lease on its pool (if any) and the switching rule.
package struct TenantContext: Sendable {
    package var tenant: TenantID
    package var lease: TenantLease?
    package var prohibitsSwitching: Bool
}

/// Runs `body` as tenant `tenant` and returns its value.
///
/// Nesting with the same tenant is allowed. Entering a *different* tenant inside a scope opened with
/// `prohibitingSwitches: true` throws ``TenantedError/Code/switchProhibited`` without running `body`.
///
/// This overload sets only the tenant's name; the database layer opens (or finds) the tenant's pool
/// on first use. Use ``Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)`` to hold a lease on the pool for
/// the whole scope.
public func withTenant<Result, Failure: Error>(
    _ tenant: TenantID,
    prohibitingSwitches: Bool = false,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws(Failure) -> Result
) async throws -> Result {
    let context = try Tenant.entering(tenant, prohibitingSwitches: prohibitingSwitches)
    return try await Tenant.with(context, isolation: isolation, body)
}

/// Runs `body` synchronously as tenant `tenant` and returns its value.
///
/// The synchronous twin of ``withTenant(_:prohibitingSwitches:isolation:_:)``.
public func withTenant<Result, Failure: Error>(
    _ tenant: TenantID,
    prohibitingSwitches: Bool = false,
    _ body: () throws(Failure) -> Result
) throws -> Result {
    let context = try Tenant.entering(tenant, prohibitingSwitches: prohibitingSwitches)
    return try Tenant.with(context, body)
}

/// Runs `body` outside every tenant scope and returns its value.
///
/// Inside `body`, ``Tenant/current`` is `nil` and switching is allowed again: this is the explicit
/// way out of a request scope, for work on shared data.
public func withoutTenant<Result, Failure: Error>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws(Failure) -> Result
) async throws(Failure) -> Result {
    var outcome: Swift.Result<Result, Failure>?
    await Tenant.with(nil, isolation: isolation) {
        do throws(Failure) {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
    }
    // `outcome` is always set: the closure above ran exactly once and covers both paths.
    return try outcome.unsafelyUnwrapped.get()
}

/// Runs `body` synchronously outside every tenant scope and returns its value.
public func withoutTenant<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
    var outcome: Swift.Result<Result, Failure>?
    Tenant.with(nil) {
        outcome = Swift.Result { () throws(Failure) in try body() }
    }
    return try outcome.unsafelyUnwrapped.get()
}
