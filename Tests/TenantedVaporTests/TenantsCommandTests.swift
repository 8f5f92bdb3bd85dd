import Foundation
import TenantedTestSupport
import Testing

/// The `tenants` commands, run as a subprocess of the built `tenanted-demo` executable.
@Suite struct TenantsCommandTests {
    typealias Run = DemoProcess.Run

    let directory = try! TemporaryDirectory()

    func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> Run {
        try await DemoProcess(storage: directory.appending("storage")).run(arguments, environment: extra)
    }

    func json(_ run: Run) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    }

    @Test func createListMigrateStatusRollbackDestroy() async throws {
        try #require(DemoProcess.isBuilt, "build tenanted-demo first (scripts/test does)")

        let created = try await run(["tenants", "create", "acme"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout == "created acme\n")
        #expect(try await run(["tenants", "create", "globex"]).status == 0)
        let again = try await run(["tenants", "create", "acme"])
        #expect(again.status != 0)
        #expect(try await run(["tenants", "create", "acme", "--if-not-exists"]).stdout == "exists acme\n")

        let list = try await run(["tenants", "list", "--json"])
        #expect(list.status == 0)
        #expect(try json(list) as? [String] == ["acme", "globex"])
        #expect(try await run(["tenants", "list"]).stdout == "acme\nglobex\n")

        let migrate = try await run(["tenants", "migrate", "--json", "--parallel", "2"])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let report = try #require(try json(migrate) as? [String: Any])
        #expect(report["succeeded"] as? Bool == true)
        #expect((report["results"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["current", "current"])

        let status = try #require(try json(try await run(["tenants", "status", "--json"])) as? [[String: Any]])
        #expect(status.map { $0["tenant"] as? String } == ["acme", "globex"])
        #expect(status.allSatisfy { ($0["pending"] as? [String])?.isEmpty == true && ($0["applied"] as? [String])?.count == 1 })

        // TENANT selects the tenant, like ARTENANT.
        let rollback = try await run(["tenants", "rollback"], environment: ["TENANT": "acme"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(rollback.stdout.contains("reverted acme"))
        let acmeStatus = try await run(["tenants", "status", "--tenant", "acme"])
        #expect(acmeStatus.stdout.contains("1 pending"))
        let remigrate = try await run(["tenants", "migrate"])
        #expect(remigrate.status == 0)
        #expect(remigrate.stdout.contains("migrated acme"))
        #expect(remigrate.stdout.contains("2 tenant(s): 1 migrated, 1 unchanged, 0 failed"))

        #expect(try await run(["tenants", "destroy", "acme"]).stdout == "destroyed acme\n")
        #expect(try json(try await run(["tenants", "list", "--json"])) as? [String] == ["globex"])
        #expect(try await run(["tenants", "destroy", "acme"]).status != 0)
    }

    @Test func badInputIsRefusedWithAClearMessageAndNothingChanges() async throws {
        try #require(DemoProcess.isBuilt, "build tenanted-demo first (scripts/test does)")
        for name in ["../etc", "ACME", "a/b", ""] {
            let result = try await run(["tenants", "create", name])
            #expect(result.status != 0, "create \(name)")
        }
        #expect(try await run(["tenants", "migrate", "--parallel", "0"]).status != 0)
        #expect(try await run(["tenants", "migrate", "--tenant", "../x"]).status != 0)
        #expect(try await run(["tenants", "migrate", "--tenant", "nosuch"]).status != 0)
        let pools = try await run(["tenants", "list"], environment: ["TENANTED_MAX_POOLS": "many"])
        #expect(pools.status == 64)
        #expect(pools.stderr.contains("TENANTED_MAX_POOLS"))
        let domain = try await run(["serve", "--base-domain", "evil/../x"])
        #expect(domain.status == 64)
        #expect(try json(try await run(["tenants", "list", "--json"])) as? [String] == [])
        #expect(!directory.exists("storage/tenants/etc"))
    }
}
