import Tenanted
public import Testing

/// A tenant of its own for each test: created in the suite's tenancy (``TenancyTrait``) with a
/// unique name, the test body run inside it (``Tenanted/Tenancy/withTenant(_:prohibitingSwitches:isolation:_:)``),
/// and destroyed afterwards, also when the test failed. Parallel tests never share a tenant.
///
/// Apply it with ``Testing/Trait/tenant``; on a suite it gives each of its tests a tenant.
public struct TenantTrait: SuiteTrait, TestTrait, TestScoping {
    /// Applies to every test of a suite it is put on.
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        testCase == nil || test.traits.contains(where: { $0 is UntenantedTrait }) ? nil : self
    }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let tenancy = try TenantedTest.tenancy
        let tenant = try Self.uniqueTenant()
        try await tenancy.createTenant(tenant)
        let outcome: Result<Void, any Error>
        do {
            try await tenancy.withTenant(tenant) { try await function() }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let destroyed: Result<Void, any Error>
        do {
            try await tenancy.destroyTenant(tenant)
            destroyed = .success(())
        } catch let error as TenantedError where error.code == .tenantNotFound {
            destroyed = .success(())   // the test destroyed it itself
        } catch {
            destroyed = .failure(error)
        }
        try outcome.get()
        try destroyed.get()
    }

    /// `test-` and 12 random hex digits: a valid tenant name no other test uses.
    static func uniqueTenant() throws(TenantedError) -> TenantID {
        let suffix = String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF, radix: 16)
        return try TenantID("test-" + String(repeating: "0", count: 12 - suffix.count) + suffix)
    }
}

/// Runs a test outside every tenant (``Tenanted/withoutTenant(isolation:_:)``), even inside a suite
/// whose tests get a tenant: for tests of shared data and of the untenanted failure paths.
///
/// Apply it with ``Testing/Trait/untenanted``.
public struct UntenantedTrait: TestTrait, TestScoping {
    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withoutTenant { try await function() }
    }
}

extension Trait where Self == TenantTrait {
    /// A unique tenant for each test, created before and destroyed after it; the body runs inside it.
    public static var tenant: Self { TenantTrait() }
}

extension Trait where Self == UntenantedTrait {
    /// Runs the test outside every tenant.
    public static var untenanted: Self { UntenantedTrait() }
}
