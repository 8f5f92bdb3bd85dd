import ArgumentParser
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The app's tenancy for the commands under test: over the storage root of the running test.
enum TestProvider: TenancyProvider {
    @TaskLocal static var root: String?

    static func withTenancy(_ body: (Tenancy) async throws -> Void) async throws {
        let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: root ?? "/nonexistent")), migrator: TestTenancy.schema, logger: .silent)
        try await withTeardown { try await body(tenancy) } teardown: { await tenancy.shutdown() }
    }
}

/// `TenantsCommand` parsed and run in process, on a real SQLite storage. (TenantedDemoTests runs
/// the same commands as processes of both demos and compares their output.)
@Suite("The tenants commands with swift-argument-parser")
struct TenantsCommandTests {
    let directory = try! TemporaryDirectory()

    func run(_ arguments: [String]) async throws {
        var command = try TenantsCommand<TestProvider>.parseAsRoot(arguments)
        try await TestProvider.$root.withValue(directory.path) {
            if var command = command as? any AsyncParsableCommand { try await command.run() } else { try command.run() }
        }
    }

    func tenants() async throws -> [String] {
        var names: [String] = []
        try await TestProvider.$root.withValue(directory.path) {
            try await TestProvider.withTenancy { names = try await $0.tenants().map(\.rawValue) }
        }
        return names
    }

    @Test("every subcommand parses its options and acts on the provider's tenancy")
    func subcommandsAct() async throws {
        try await run(["create", "acme"])
        try await run(["create", "globex"])
        try await run(["create", "acme", "--if-not-exists"])
        #expect(try await tenants() == ["acme", "globex"])
        try await run(["list", "--json"])
        try await run(["status", "--tenant", "acme", "--json"])
        try await run(["rollback", "--tenant", "acme"])
        try await run(["migrate", "--parallel", "2", "--json"])
        try await run(["destroy", "globex"])
        #expect(try await tenants() == ["acme"])
    }

    @Test("a failed command ends with exit status 1 and changes nothing")
    func failuresExitWithStatusOne() async throws {
        try await run(["create", "acme"])
        for arguments in [["create", "acme"], ["create", "Acme/.."], ["destroy", "nosuch"], ["migrate", "--parallel", "0"], ["move", "acme", "--to", "two"]] {
            let thrown = await #expect(throws: ExitCode.self, "\(arguments)") { try await run(arguments) }
            #expect(thrown == ExitCode(1), "\(arguments)")
        }
        #expect(try await tenants() == ["acme"])
    }

    @Test("a usage error is refused by the parser before any tenancy is built")
    func usageErrorsAreRefused() async throws {
        for arguments in [["create"], ["frobnicate"], ["migrate", "--parallel", "many"], ["list", "--yaml"]] {
            #expect(throws: (any Error).self, "\(arguments)") { _ = try TenantsCommand<TestProvider>.parseAsRoot(arguments) }
        }
        #expect(try await tenants() == [])
    }
}
