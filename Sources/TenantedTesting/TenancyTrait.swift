public import Tenanted
public import Testing

/// A throwaway tenancy for a suite (or one test): made from fresh ``TestStorage`` before the first
/// test, and after the last one — also when tests failed — every tenant it holds is destroyed, the
/// tenancy shut down and the storage removed. Tests reach it through ``TenantedTest/tenancy``.
///
/// Apply it with ``Testing/Trait/tenancy(_:)``.
public struct TenancyTrait: SuiteTrait, TestTrait, TestScoping {
    let make: @Sendable (TestStorage) async throws -> Tenancy

    /// Applies to the suite once (its tests share the tenancy), not to each test again.
    public var isRecursive: Bool { false }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        test.isSuite || testCase != nil ? self : nil
    }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let storage = try TestStorage.make()
        let tenancy: Tenancy
        do {
            tenancy = try await make(storage)
        } catch {
            storage.remove()
            throw error
        }
        let outcome: Result<Void, any Error>
        do {
            try await TenantedTest.$context.withValue(.init(tenancy: tenancy, storage: storage)) { try await function() }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let cleanup = await Self.destroyEverything(in: tenancy)
        await tenancy.shutdown()
        storage.remove()
        try outcome.get()
        try cleanup.get()
    }

    /// Destroys every tenant the tenancy lists; the first failure is returned after trying them all.
    static func destroyEverything(in tenancy: Tenancy) async -> Result<Void, any Error> {
        var failure: (any Error)?
        do {
            for tenant in try await tenancy.tenants() {
                do { try await tenancy.destroyTenant(tenant) } catch { failure = failure ?? error }
            }
        } catch {
            failure = error
        }
        return failure.map { .failure($0) } ?? .success(())
    }
}

extension Trait where Self == TenancyTrait {
    /// A throwaway tenancy for this suite, made by `make` from fresh storage and cleaned up after it.
    ///
    /// ```swift
    /// @Suite(.tenancy { storage in
    ///     try Tenancy(store: try SQLiteStore(configuration: .init(root: storage.directory)), migrator: migrations)
    /// })
    /// ```
    ///
    /// For PostgreSQL, name the tenants' databases or schemas with `storage.prefix`, so the suite
    /// lists (and destroys) only its own.
    public static func tenancy(_ make: @escaping @Sendable (TestStorage) async throws -> Tenancy) -> Self {
        TenancyTrait(make: make)
    }
}
